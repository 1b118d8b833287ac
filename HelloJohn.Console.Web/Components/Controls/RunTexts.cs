using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Restores;
using Humanizer;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>How the phases and progress of runs read, for <see cref="LiveRun"/> and the status chips.</summary>
public static class RunTexts
{
    public static string RestorePhaseText(string? phase) => Enum.TryParse<RestorePhase>(phase, out var p) ? RestorePhaseText(p) : "running";

    public static string RestorePhaseText(RestorePhase phase) => phase switch
    {
        RestorePhase.Queued => "queued",
        RestorePhase.Checking => "checking the file",
        RestorePhase.SafetyBackup => "safety backup",
        RestorePhase.Creating => "creating the database",
        RestorePhase.Restoring => "restoring",
        RestorePhase.Counting => "counting rows",
        RestorePhase.CleaningUp => "dropping the database",
        _ => "running",
    };

    public static string BackupPhaseText(string? phase) => Enum.TryParse<BackupPhase>(phase, out var p) ? p switch
    {
        BackupPhase.Queued => "queued",
        BackupPhase.Waiting => "waiting for the running backup of this target",
        BackupPhase.Connecting => "taking the snapshot",
        BackupPhase.Dumping => "dumping",
        BackupPhase.Storing => "storing and writing the manifest",
        _ => "running",
    } : "running";

    public static string? TablesLoaded(long done, long? total) => total is > 0 ? $"{done} of {total} tables loaded" : null;

    public static string BytesWritten(long done, long? total) => done.Bytes().Humanize("0.#") + " written";

    /// <summary>A backup's bytes against the previous backup of its database (its <paramref name="total"/>), when there is one.</summary>
    public static string BytesAgainstPrevious(long done, long? total) => total switch
    {
        > 0 when done <= total => $"{done.Bytes().Humanize("0.#")} of ~{total.Value.Bytes().Humanize("0.#")} ({Math.Floor(100.0 * done / total.Value):0} %)",
        > 0 => $"{done.Bytes().Humanize("0.#")} written, more than the previous backup's {total.Value.Bytes().Humanize("0.#")}",
        _ => BytesWritten(done, total),
    };

    /// <summary>About how long is left at the pace so far, or null when that cannot be said yet (no total, nothing written,
    /// the total passed, or too early for a pace).</summary>
    public static string? TimeLeft(long done, long? total, TimeSpan elapsed)
    {
        if (total is not > 0 || done <= 0 || done >= total || elapsed < TimeSpan.FromSeconds(3))
        {
            return null;
        }

        var left = TimeSpan.FromSeconds(elapsed.TotalSeconds * (total.Value - done) / done);
        return left < TimeSpan.FromMinutes(1)
            ? $"about {Math.Max(5, Math.Ceiling(left.TotalSeconds / 5) * 5):0} s left"
            : left < TimeSpan.FromHours(1) ? $"about {Math.Ceiling(left.TotalMinutes):0} min left"
            : $"about {left.TotalHours:0.#} h left";
    }
}
