using System.Globalization;
using System.Runtime.InteropServices;

namespace HelloJohn.Console.Bench.Measurement;

/// <summary>CPU time a PostgreSQL server spent: its postmaster, the backends and helpers that ended (counted into the
/// postmaster once it reaped them) and those still running. Read from /proc; the server is a process of this machine.</summary>
public sealed class ClusterCpu(string dataDirectory)
{
    private static readonly double TicksPerSecond = sysconf(2); // _SC_CLK_TCK

    [DllImport("libc")]
    private static extern long sysconf(int name);

    /// <summary>CPU of one process so far, with that of the children it has waited for (pg_dump, pg_restore).</summary>
    public static TimeSpan OfProcess(int pid) =>
        Stat(pid) is { } f ? TimeSpan.FromSeconds((f[11] + f[12] + f[13] + f[14]) / TicksPerSecond) : TimeSpan.Zero;

    /// <summary>Total CPU of the server so far; zero when it does not run.</summary>
    public TimeSpan Total()
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).First(), NumberStyles.None, CultureInfo.InvariantCulture, out var postmaster))
        {
            return TimeSpan.Zero;
        }

        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            if (Stat(pid) is not { } f)
            {
                continue;
            }

            // Fields after the command: [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
            if (pid == postmaster)
            {
                ticks += f[11] + f[12] + f[13] + f[14];
            }
            else if (f[1] == postmaster)
            {
                ticks += f[11] + f[12];
            }
        }

        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    private static long[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return [.. text[(text.LastIndexOf(')') + 2)..].Split(' ').Take(15).Select(v => long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
