using System.Collections.Concurrent;
using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Keeps a page that lists runs in step with them: it listens to <see cref="RunProgressNotifier"/> (events of
/// every console instance) and reloads the page's list, one reload at a time, when a watched run is queued, changes
/// phase or ends. Progress alone does not reload the list: <see cref="LiveRun"/> shows it. Create it on first
/// render; dispose it with the page.</summary>
public sealed class RunWatch : IDisposable
{
    private readonly RunProgressNotifier _notifier;
    private readonly Func<RunProgress, bool> _watches;
    private readonly Func<Func<Task>, Task> _invokeAsync;
    private readonly Func<Task> _reload;
    private readonly ConcurrentDictionary<Guid, (RunStatus, string?)> _seen = new();
    private readonly bool _everyEvent;
    private int _reloadQueued;

    /// <param name="notifier">The console's run events.</param>
    /// <param name="watches">Which events concern the page (a kind, a run).</param>
    /// <param name="invokeAsync">The component's InvokeAsync, so the reload runs on its renderer.</param>
    /// <param name="reload">Reads the list again and re-renders.</param>
    /// <param name="everyEvent">Reload on every event, progress included (a wizard's live log).</param>
    public RunWatch(RunProgressNotifier notifier, Func<RunProgress, bool> watches, Func<Func<Task>, Task> invokeAsync, Func<Task> reload, bool everyEvent = false)
    {
        _everyEvent = everyEvent;
        _notifier = notifier;
        _watches = watches;
        _invokeAsync = invokeAsync;
        _reload = reload;
        _notifier.Changed += OnChanged;
    }

    private void OnChanged(RunProgress progress)
    {
        if (!_watches(progress))
        {
            return;
        }

        var state = (progress.Status, progress.Phase);
        if (!_everyEvent && _seen.TryGetValue(progress.RunId, out var before) && before == state)
        {
            return;
        }

        _seen[progress.RunId] = state;
        if (Interlocked.Exchange(ref _reloadQueued, 1) == 0)
        {
            _ = _invokeAsync(async () =>
            {
                Interlocked.Exchange(ref _reloadQueued, 0);
                await _reload();
            });
        }
    }

    public void Dispose() => _notifier.Changed -= OnChanged;
}
