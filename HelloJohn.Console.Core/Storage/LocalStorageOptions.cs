namespace HelloJohn.Console.Core.Storage;

public sealed class LocalStorageOptions
{
    public const string Section = "Storage:Local";

    /// <summary>Storage__Local__Directory: the folder for local backups. Defaults to <c>{data folder}/backups</c>.</summary>
    public string Directory { get; set; } = "";

    /// <summary>Storage__Local__Enabled: set false to keep backups only in S3.</summary>
    public bool Enabled { get; set; } = true;
}
