namespace HelloJohn.Console.Core.Storage;

public sealed class LocalStorageOptions
{
    public const string Section = "Storage:Local";

    /// <summary>Storage__Local__Directory: the folder for local backups. Defaults to <c>{data folder}/backups</c>.</summary>
    public string Directory { get; set; } = "";

    /// <summary>Storage__Local__Enabled: set false to keep backups only in S3.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Storage__Local__WriteTimeoutSeconds: how long the folder may take no data (a hung network mount) before a
    /// backup gives this store up and goes on with the others. 1–3600, default 120.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600, ErrorMessage = "Storage__Local__WriteTimeoutSeconds must be from 1 to 3600 seconds.")]
    public int WriteTimeoutSeconds { get; set; } = 120;
}
