using System.Globalization;
using System.Runtime.InteropServices;

namespace HelloJohn.Console.Bench.Measurement;

/// <summary>CPU time and memory of this process and of the children it has waited for, read from the kernel
/// (<c>getrusage</c>, <c>/proc/self/status</c>).</summary>
public static class ProcessResources
{
    private const int RusageSelf = 0;
    private const int RusageChildren = -1;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeValue
    {
        public long Seconds;
        public long Microseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceUsage
    {
        public TimeValue User;
        public TimeValue System;
        public long MaxRss;
        public long IxRss;
        public long IdRss;
        public long IsRss;
        public long MinFlt;
        public long MajFlt;
        public long NSwap;
        public long InBlock;
        public long OuBlock;
        public long MsgSnd;
        public long MsgRcv;
        public long NSignals;
        public long NvCsw;
        public long NivCsw;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out ResourceUsage usage);

    /// <summary>User + system CPU of this process so far.</summary>
    public static TimeSpan SelfCpu() => Cpu(RusageSelf);

    /// <summary>User + system CPU of every child process that has ended and been waited for.</summary>
    public static TimeSpan ChildrenCpu() => Cpu(RusageChildren);

    private static TimeSpan Cpu(int who)
    {
        if (getrusage(who, out var u) != 0)
        {
            throw new InvalidOperationException($"getrusage failed with errno {Marshal.GetLastPInvokeError()}.");
        }

        static double Seconds(TimeValue t) => t.Seconds + t.Microseconds / 1e6;
        return TimeSpan.FromSeconds(Seconds(u.User) + Seconds(u.System));
    }

    /// <summary>Peak resident set size of this process since start or the last <see cref="ResetPeakRss"/>, in bytes.</summary>
    public static long PeakRssBytes() => StatusKilobytes("/proc/self/status", "VmHWM") * 1024;

    public static long CurrentRssBytes() => StatusKilobytes("/proc/self/status", "VmRSS") * 1024;

    /// <summary>Sets the peak RSS back to the current RSS (Linux 4.0+), so the next reading covers only what follows.</summary>
    public static void ResetPeakRss()
    {
        // Let the GC give back what earlier work left, so the peak starts from what the console holds at rest.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
    }

    internal static long StatusKilobytes(string statusPath, string field)
    {
        foreach (var line in File.ReadLines(statusPath))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var value = line[(field.Length + 1)..].Trim();
                return long.Parse(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
