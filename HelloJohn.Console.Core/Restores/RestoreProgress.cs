namespace HelloJohn.Console.Core.Restores;

public sealed record RestoreProgress(Guid RunId, RestoreStatus Status, RestorePhase Phase, int TablesLoaded, int TablesTotal, string? Error);

/// <summary>Tells open pages, within this process, that a restore moved. Pages also re-read the runs, since a restore
/// may run on another console instance.</summary>
public sealed class RestoreProgressNotifier
{
    public event Action<RestoreProgress>? Changed;

    public void Publish(RestoreProgress progress) => Changed?.Invoke(progress);
}
