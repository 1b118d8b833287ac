using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Carries the phases an engine reports to its run, one after the other in the order reported (a
/// <see cref="Progress{T}"/> would post them to the thread pool, where a later phase can be written before an earlier
/// one), and tells the Point-in-time page after each.</summary>
internal sealed class PitrRunPhases(RunLifecycle lifecycle, RunClaim claim, PitrNotifier notifier, Guid server) : IProgress<string>
{
    /// <summary>A run's phase is at most this long (<see cref="RunRecord.Phase"/>).</summary>
    private const int MaxPhase = 64;

    private readonly Lock _gate = new();
    private Task _last = Task.CompletedTask;

    public void Report(string value)
    {
        var phase = value.Length > MaxPhase ? value[..(MaxPhase - 1)] + "…" : value;
        lock (_gate)
        {
            _last = NextAsync(_last, phase);
        }
    }

    /// <summary>Waits until every reported phase is written (before the run's end, so the end is written last).</summary>
    public Task WrittenAsync()
    {
        lock (_gate)
        {
            return _last;
        }
    }

    private async Task NextAsync(Task before, string phase)
    {
        await before;
        await lifecycle.SetPhaseAsync(claim, phase);
        notifier.Publish(server);
    }
}
