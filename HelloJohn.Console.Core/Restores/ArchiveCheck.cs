namespace HelloJohn.Console.Core.Restores;

/// <summary>The checks a backup file passes before any database is touched, in the order they run.</summary>
public enum ArchiveCheck
{
    /// <summary>The backup is in the catalog, finished, and one of its copies is in a configured store.</summary>
    Catalog,
    /// <summary>Its manifest is present, parseable, and agrees with the catalog.</summary>
    Manifest,
    /// <summary>The file can be read (and downloaded when it is remote).</summary>
    File,
    /// <summary>Size and SHA-256 equal the manifest's.</summary>
    Checksum,
    /// <summary><c>pg_restore --list</c> reads the archive.</summary>
    Archive,
}

public static class ArchiveCheckNames
{
    public static string Describe(this ArchiveCheck check) => check switch
    {
        ArchiveCheck.Catalog => "catalog check",
        ArchiveCheck.Manifest => "manifest check",
        ArchiveCheck.File => "file check",
        ArchiveCheck.Checksum => "SHA-256 check",
        ArchiveCheck.Archive => "archive check (pg_restore --list)",
        _ => check.ToString(),
    };
}

/// <summary>A backup file failed a check before restoring; nothing was written anywhere.</summary>
public sealed class ArchiveCheckFailedException(ArchiveCheck check, string reason, Exception? inner = null)
    : Exception($"The {check.Describe()} failed: {reason}", inner)
{
    public ArchiveCheck Check { get; } = check;
    public string Reason { get; } = reason;
}
