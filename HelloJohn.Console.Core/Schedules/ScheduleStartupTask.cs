using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Schedules;

/// <summary>At start: every target gets its default schedules, and every saved schedule is registered with Hangfire —
/// the one place recurring jobs are registered.</summary>
internal sealed class ScheduleStartupTask(IServiceScopeFactory scopes, TargetService targets) : IConsoleStartupTask
{
    public async Task RunAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var schedules = scope.ServiceProvider.GetRequiredService<ScheduleService>();
        foreach (var target in await targets.ListAsync(ct))
        {
            await schedules.EnsureDefaultsAsync(Actor.System, target.Id, register: false, ct);
        }

        await schedules.SyncAllAsync(ct);
    }
}
