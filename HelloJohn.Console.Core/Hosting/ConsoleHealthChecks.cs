using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace HelloJohn.Console.Core.Hosting;

internal sealed class ConsoleDatabaseHealthCheck(IDbContextFactory<ConsoleDbContext> dbFactory) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var backups = await db.Backups.CountAsync(cancellationToken);
            return HealthCheckResult.Healthy($"reachable; {backups} backup records");
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The console database is not reachable: " + e.Message);
        }
    }
}

/// <summary>Every store accepts a small write, measured at each call (so it recovers as soon as a full disk has room
/// again). A local store with less room than the newest backup is degraded: the next backup will not be written there.
/// A local store on the console database's own filesystem is named in the description.</summary>
internal sealed class BackupStorageHealthCheck(IEnumerable<IBackupStore> stores, StorageSpaceService space) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var names = new List<string>();
        foreach (var store in stores)
        {
            names.Add(store.Name);
            try
            {
                var probe = $".health/{Guid.NewGuid():N}";
                await store.PutSmallAsync(probe, "ok"u8.ToArray(), cancellationToken);
                await store.DeleteAsync(probe, cancellationToken);
            }
            catch (Exception e)
            {
                problems.Add($"{store.Name}: {e.Message}");
            }
        }

        IReadOnlyList<LocalStoreSpace> locals = [];
        try
        {
            locals = await space.GetAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or Npgsql.NpgsqlException)
        {
            // The space figures are extra; the write probe above is the check.
        }

        var details = string.Concat(locals.Select(l => "; " + l.Summary)) + string.Concat(locals.SelectMany(l => l.Warnings).Select(w => " Warning: " + w));
        if (problems.Count > 0)
        {
            return HealthCheckResult.Unhealthy("Not writable: " + string.Join("; ", problems) + details);
        }

        return locals.Any(l => l.TooFullForNextBackup)
            ? HealthCheckResult.Degraded($"writable: {string.Join(", ", names)}{details}")
            : HealthCheckResult.Healthy($"writable: {string.Join(", ", names)}{details}");
    }
}

internal sealed class TargetDatabaseHealthCheck(TargetService targets) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var target = await targets.GetDefaultAsync(cancellationToken);
        if (target is null)
        {
            return HealthCheckResult.Unhealthy("No target is configured (HELLOJOHN_DATABASE_URL).");
        }

        try
        {
            var connection = await targets.GetConnectionAsync(target.Id, cancellationToken);
            connection.Timeout = 5;
            await using var conn = new NpgsqlConnection(connection.ConnectionString);
            await conn.OpenAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{target.Name} reachable at {target.DisplayAddress}");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            // Degraded, not unhealthy: the console must stay useful while HelloJohn's database is down.
            return HealthCheckResult.Degraded($"{target.Name} at {target.DisplayAddress} is not reachable: {e.Message}");
        }
    }
}
