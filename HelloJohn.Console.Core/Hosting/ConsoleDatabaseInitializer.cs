using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Hosting;

/// <summary>Brings the console database up to date and runs the features' start-up tasks, before any job runs. (Runs
/// a crash left behind are ended by the sweep, which starts next.)</summary>
internal sealed class ConsoleDatabaseInitializer(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    IEnumerable<IConsoleStartupTask> startupTasks,
    ILogger<ConsoleDatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.Database.MigrateAsync(cancellationToken);
        }

        var targetId = await targets.EnsureEnvironmentTargetAsync(cancellationToken);
        logger.LogInformation("Protecting target {TargetId}", targetId);
        foreach (var task in startupTasks)
        {
            await task.RunAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Work a feature needs done once the console database is migrated (seed the first admin, register schedules…).</summary>
public interface IConsoleStartupTask
{
    Task RunAsync(CancellationToken ct);
}
