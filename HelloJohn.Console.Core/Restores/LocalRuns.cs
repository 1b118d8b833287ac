using System.Collections.Concurrent;

namespace HelloJohn.Console.Core.Restores;

/// <summary>The runs (restores, verifications) executing in this process, by id, so a Cancel can stop one at once.
/// A run on another console instance is not here; its Hangfire job is deleted instead, which cancels it there.</summary>
internal sealed class LocalRuns
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    /// <summary>Runs <paramref name="work"/> with a token that <see cref="TryCancelAsync"/> (or <paramref name="ct"/>) cancels.
    /// Registered before the work starts, so a cancellation that comes at any moment from then on stops it.</summary>
    public async Task RunAsync(Guid id, CancellationToken ct, Func<CancellationToken, Task> work)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _running[id] = stop;
        try
        {
            await work(stop.Token);
        }
        finally
        {
            _running.TryRemove(id, out _);
        }
    }

    /// <summary>Cancels the run if it executes here; false when it does not.</summary>
    public async Task<bool> TryCancelAsync(Guid id)
    {
        if (!_running.TryGetValue(id, out var stop))
        {
            return false;
        }

        await stop.CancelAsync();
        return true;
    }
}
