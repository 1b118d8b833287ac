using System.Globalization;

namespace HelloJohn.Console.Core.Verification.Scratch;

/// <summary>A console process, named by its id and its start time (from /proc), so a folder it owns can be told apart
/// from one whose process died, even after the id was given to another process.</summary>
public sealed record ScratchOwner(int Pid, long StartTicks)
{
    public static ScratchOwner Current { get; } = new(Environment.ProcessId, StartTicksOf(Environment.ProcessId) ?? 0);

    public string FolderName => string.Create(CultureInfo.InvariantCulture, $"{Pid}-{StartTicks}");

    public bool IsAlive() => StartTicksOf(Pid) == StartTicks;

    /// <summary>"1234-56789" → its owner; null for a name this console does not write.</summary>
    public static ScratchOwner? Parse(string folderName)
    {
        var parts = folderName.Split('-');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? new ScratchOwner(pid, ticks)
            : null;
    }

    /// <summary>Field 22 of /proc/{pid}/stat (start time in clock ticks after boot); null when no such process runs.</summary>
    private static long? StartTicksOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // A process that ended and was not yet reaped (state Z) is gone all the same.
            return fields[0] != "Z" && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
