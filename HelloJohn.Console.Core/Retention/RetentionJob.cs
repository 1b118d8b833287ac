using HelloJohn.Console.Core.Security;

namespace HelloJohn.Console.Core.Retention;

/// <summary>Hangfire entry point: applies retention to one target as the console itself. Enqueued after every
/// successful backup and by the <c>retention:&lt;targetId&gt;</c> schedule.</summary>
public sealed class RetentionJob(RetentionService retention)
{
    public async Task RunAsync(Guid targetId, CancellationToken ct)
    {
        var result = await retention.ApplyAsync(targetId, Actor.System, ct);
        if (result.Ran && !result.Succeeded)
        {
            // Let Hangfire show it failed and retry; what was done is already recorded.
            throw new InvalidOperationException(result.Summary);
        }
    }
}
