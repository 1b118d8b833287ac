using System.Collections.Concurrent;

namespace HelloJohn.Console.Core.Runs;

/// <summary>A run executing on this instance, from its claim to its end: the token that stops it (the job's own, a
/// person's Cancel here or on another instance, the console stopping or losing its database) and its live progress.
/// Disposing a claim that was neither finished nor released ends the run as failed, so no run stays running by mistake.</summary>
public sealed class RunClaim : IAsyncDisposable
{
    private readonly RunLifecycle _lifecycle;
    private readonly CancellationTokenSource _stop;

    internal RunClaim(RunLifecycle lifecycle, RunRecord run, Guid ownerInstanceId, CancellationToken jobToken, CancellationToken instanceLost)
    {
        _lifecycle = lifecycle;
        Run = run;
        OwnerInstanceId = ownerInstanceId;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(jobToken, instanceLost);
        instanceLost.Register(() => StopReason ??= "The console instance running it lost its connection to the console database.");
    }

    /// <summary>The run as claimed (status running, started now).</summary>
    public RunRecord Run { get; }
    public Guid RunId => Run.Id;
    public RunKind Kind => Run.Kind;
    public Guid OwnerInstanceId { get; }

    /// <summary>Cancelled when the run must stop.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Who or what stopped it ("Cancelled by operator@example.test"); null while nobody did, or when only the
    /// job's own token was cancelled (the console shutting down).</summary>
    public string? StopReason { get; private set; }

    public bool StopRequested => _stop.IsCancellationRequested;

    internal long Done { get; set; }
    internal long? Total { get; set; }
    internal string? Phase { get; set; }
    internal bool Ended { get; set; }

    internal void Stop(string reason)
    {
        StopReason ??= reason;
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already ended.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lifecycle.CloseAsync(this);
        _stop.Dispose();
    }
}

/// <summary>The runs executing on this instance, by id, so a Cancel here stops one at once and the heartbeat knows
/// what to keep alive.</summary>
internal sealed class LocalRuns
{
    private readonly ConcurrentDictionary<Guid, RunClaim> _running = new();

    public void Add(RunClaim claim) => _running[claim.RunId] = claim;

    public void Remove(RunClaim claim) => _running.TryRemove(new KeyValuePair<Guid, RunClaim>(claim.RunId, claim));

    public RunClaim? Find(Guid runId) => _running.TryGetValue(runId, out var claim) ? claim : null;

    public IReadOnlyList<RunClaim> All => [.. _running.Values];
}
