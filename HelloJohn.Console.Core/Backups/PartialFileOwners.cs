namespace HelloJohn.Console.Core.Backups;

/// <summary>Which <c>.partial</c> files in a backup folder something is still writing. A queued or running backup owns
/// its dump and every file named after it (its manifest, <c>NAME.manifest.json</c>); a queued or running set owns the
/// files named after it (its manifest and its roles file, written while it finishes); point-in-time recovery owns its
/// folders (WAL and base backups are written with no backup run behind them). Anything else is a crash's leftover.</summary>
public sealed class PartialFileOwners(IEnumerable<string> activeBackupFiles, IEnumerable<string> activeSetNames)
{
    private readonly HashSet<string> _backups = [.. activeBackupFiles];
    private readonly List<string> _prefixes = [.. activeBackupFiles.Select(f => f + "."), .. activeSetNames.Select(n => n + ".")];

    /// <param name="key">The file's key in its store, without <c>.partial</c>.</param>
    public bool Owns(string key) =>
        _backups.Contains(key) || _prefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)) || Pitr.PitrKeys.IsPitrKey(key);
}
