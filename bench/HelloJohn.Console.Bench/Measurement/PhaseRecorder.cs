using System.Diagnostics;

namespace HelloJohn.Console.Bench.Measurement;

/// <summary>When a run entered each of its phases, as the console announced them, turned into the time each took.</summary>
public sealed class PhaseRecorder
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string Phase, TimeSpan At)> _marks = [("accept", TimeSpan.Zero)];

    /// <summary>Called from the console's progress notifications; repeated phases are ignored.</summary>
    public void Enter(string phase)
    {
        lock (_marks)
        {
            if (_marks[^1].Phase != phase)
            {
                _marks.Add((phase, _clock.Elapsed));
            }
        }
    }

    /// <summary>Each phase's time, the last one ending now. <paramref name="split"/> replaces a phase by named parts
    /// measured inside it (the checks' own timings); what they do not cover stays under the phase's name.</summary>
    public IReadOnlyList<(string Phase, TimeSpan Time)> Finish(string splitPhase = "", IReadOnlyList<(string Part, TimeSpan Time)>? split = null)
    {
        var end = _clock.Elapsed;
        List<(string, TimeSpan)> result = [];
        lock (_marks)
        {
            for (var i = 0; i < _marks.Count; i++)
            {
                var (phase, at) = _marks[i];
                var time = (i + 1 < _marks.Count ? _marks[i + 1].At : end) - at;
                if (phase == splitPhase && split is not null)
                {
                    result.AddRange(split);
                    time -= split.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.Time);
                    phase += " (other)";
                }

                result.Add((phase, time));
            }
        }

        return result;
    }
}
