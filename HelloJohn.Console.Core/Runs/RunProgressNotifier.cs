using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Runs;

/// <summary>A run moved: its status, its phase (in its kind's words) and its progress in its kind's unit.</summary>
public sealed record RunProgress(RunKind Kind, Guid RunId, RunStatus Status, string? Phase, long Done = 0, long? Total = null)
{
    /// <summary>Why it ended, when it ended other than well (only on this instance's own events).</summary>
    public string? Error { get; init; }

    /// <summary>Sent by another console instance and relayed through the console database.</summary>
    public bool FromOtherInstance { get; init; }

    public bool IsActive => Status is RunStatus.Queued or RunStatus.Running;

    /// <summary>The phase as the kind's enum (a restore's <c>RestorePhase</c>); the default when it is not one.</summary>
    public TPhase PhaseAs<TPhase>() where TPhase : struct, Enum => Enum.TryParse<TPhase>(Phase, out var p) ? p : default;
}

/// <summary>Tells whoever listens (open pages, tests) that a run moved, on every console instance: events raised here
/// are also relayed through the console database (<see cref="RunEventRelay"/>) to the other instances, whose listeners
/// receive them marked <see cref="RunProgress.FromOtherInstance"/>. Pages need no polling of their own.</summary>
public sealed class RunProgressNotifier(ILogger<RunProgressNotifier> logger)
{
    private readonly Channel<RunProgress> _outbound = Channel.CreateBounded<RunProgress>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    /// <summary>Raised on the publishing thread; handlers must be quick (a page hands the work to its renderer).</summary>
    public event Action<RunProgress>? Changed;

    public void Publish(RunProgress progress)
    {
        Raise(progress);
        _outbound.Writer.TryWrite(progress);
    }

    internal ChannelReader<RunProgress> Outbound => _outbound.Reader;

    internal void Raise(RunProgress progress)
    {
        if (Changed is not { } handlers)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Action<RunProgress>>())
        {
            try
            {
                handler(progress);
            }
            catch (Exception e)
            {
                // One listener's fault (a closed page) must not stop the run or the other listeners.
                logger.LogWarning(e, "A listener of run {RunId} failed", progress.RunId);
            }
        }
    }
}
