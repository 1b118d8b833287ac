using System.Diagnostics;

namespace HelloJohn.Console.Bench.Measurement;

/// <summary>One timed run of one case.</summary>
public sealed record RunSample(TimeSpan Wall, TimeSpan Cpu, long? SizeBytes = null, long? ConsolePeakRssBytes = null, long? ToolPeakRssBytes = null);

/// <summary>Wall clock plus CPU of this process and of the children it waited for, between start and stop.</summary>
public sealed class RunClock
{
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly TimeSpan _selfCpu = ProcessResources.SelfCpu();
    private readonly TimeSpan _childCpu = ProcessResources.ChildrenCpu();

    public static RunClock Start() => new();

    public (TimeSpan Wall, TimeSpan SelfCpu, TimeSpan ChildCpu) Stop()
    {
        _wall.Stop();
        return (_wall.Elapsed, ProcessResources.SelfCpu() - _selfCpu, ProcessResources.ChildrenCpu() - _childCpu);
    }
}

/// <summary>Median and spread of a case's samples.</summary>
public sealed record CaseSummary(string Group, string Case, IReadOnlyList<RunSample> Samples, string? Note = null)
{
    public int Runs => Samples.Count;
    public TimeSpan WallMedian => TimeSpan.FromTicks(Median(Samples.Select(s => s.Wall.Ticks)));
    public TimeSpan WallMin => Samples.Min(s => s.Wall);
    public TimeSpan WallMax => Samples.Max(s => s.Wall);
    public TimeSpan CpuMedian => TimeSpan.FromTicks(Median(Samples.Select(s => s.Cpu.Ticks)));
    public long? SizeMedian => Samples.All(s => s.SizeBytes is null) ? null : Median(Samples.Where(s => s.SizeBytes is not null).Select(s => s.SizeBytes!.Value));
    public long? ConsolePeakRss => Samples.Max(s => s.ConsolePeakRssBytes);
    public long? ToolPeakRss => Samples.Max(s => s.ToolPeakRssBytes);

    internal static long Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new InvalidOperationException("A case without samples has no median.");
        }

        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
