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
}
