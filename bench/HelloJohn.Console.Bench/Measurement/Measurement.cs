using System.Diagnostics;

namespace HelloJohn.Console.Bench.Measurement;

/// <summary>One timed run of one case. <paramref name="ServerCpu"/> is what the target's PostgreSQL server spent meanwhile
/// (the production server's share); <paramref name="Phases"/> the run's parts, in order, where the console reports them.</summary>
public sealed record RunSample(TimeSpan Wall, TimeSpan Cpu, long? SizeBytes = null, long? ConsolePeakRssBytes = null, long? ToolPeakRssBytes = null,
    TimeSpan? ServerCpu = null, IReadOnlyList<(string Phase, TimeSpan Time)>? Phases = null);

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
    public TimeSpan? ServerCpuMedian => Samples.All(s => s.ServerCpu is null) ? null : TimeSpan.FromTicks(Median(Samples.Where(s => s.ServerCpu is not null).Select(s => s.ServerCpu!.Value.Ticks)));

    /// <summary>Median time of each phase, in the order of the first sample that has phases.</summary>
    public IReadOnlyList<(string Phase, TimeSpan Median)> PhaseMedians =>
        Samples.FirstOrDefault(s => s.Phases is not null)?.Phases!
            .Select(p => (p.Phase, TimeSpan.FromTicks(Median(Samples.Where(s => s.Phases is not null)
                .Select(s => s.Phases!.Where(x => x.Phase == p.Phase).Select(x => x.Time.Ticks).DefaultIfEmpty(0).First())))))
            .ToList() ?? [];

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
