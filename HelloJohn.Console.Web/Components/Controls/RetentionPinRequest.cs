namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>A person switched a backup's pin in the retention plan.</summary>
public sealed record RetentionPinRequest(Guid BackupId, string? FileName, bool Pinned);
