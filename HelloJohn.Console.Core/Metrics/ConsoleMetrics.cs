using System.Diagnostics.Metrics;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Secrets.Jwks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Metrics;

/// <summary>The console's figures as observable instruments of the <c>HelloJohn.Console</c> meter. Each scrape reads
/// them from the console database (at most once a second, however many instruments ask), so every instance sharing the
/// database reports the same values. Names follow Prometheus conventions once exported: units become <c>_seconds</c> and
/// <c>_bytes</c> suffixes, counters get <c>_total</c>.</summary>
public sealed class ConsoleMetrics
{
    public const string MeterName = "HelloJohn.Console";

    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);
    private readonly IDbContextFactory<ConsoleDbContext> _dbFactory;
    private readonly TimeProvider _time;
    private readonly ILogger<ConsoleMetrics> _logger;
    private readonly Lock _gate = new();
    private MetricsSnapshot? _snapshot;
    private DateTimeOffset _loadedAt;

    public ConsoleMetrics(IMeterFactory meters, IDbContextFactory<ConsoleDbContext> dbFactory, TimeProvider time, ILogger<ConsoleMetrics> logger)
    {
        _dbFactory = dbFactory;
        _time = time;
        _logger = logger;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("hellojohn_console_backup_last_success_timestamp", () =>
            Current().LastBackups.Where(b => b.FinishedAt is not null).Select(b => Measure(b.FinishedAt!.Value.ToUnixTimeMilliseconds() / 1000.0, b.Target)),
            "s", "When the newest successful backup of the target finished (Unix time).");
        meter.CreateObservableGauge("hellojohn_console_backup_last_success_duration", () =>
            Current().LastBackups.Where(b => b.FinishedAt is not null && b.StartedAt is not null)
                .Select(b => Measure((b.FinishedAt!.Value - b.StartedAt!.Value).TotalSeconds, b.Target)),
            "s", "How long the newest successful backup of the target took.");
        meter.CreateObservableGauge("hellojohn_console_backup_last_success_size", () =>
            Current().LastBackups.Where(b => b.SizeBytes is not null).Select(b => Measure((double)b.SizeBytes!.Value, b.Target)),
            "By", "Size of the newest successful backup file of the target.");
        meter.CreateObservableGauge("hellojohn_console_rpo", () =>
        {
            var s = Current();
            return s.LastBackups.Where(b => b.StartedAt is not null).Select(b => Measure((s.MeasuredAt - b.StartedAt!.Value).TotalSeconds, b.Target));
        }, "s", "Recovery point objective now: time since the newest successful backup's snapshot began (data written since would be lost).");
        meter.CreateObservableGauge("hellojohn_console_verification_last_timestamp", () =>
            Current().LastVerifications.Select(v => Measure(v.FinishedAt.ToUnixTimeMilliseconds() / 1000.0, v.Target)),
            "s", "When the newest finished verification of the target ended (Unix time).");
        meter.CreateObservableGauge("hellojohn_console_verification_last_passed", () =>
            Current().LastVerifications.Select(v => Measure(v.Passed ? 1 : 0, v.Target)),
            null, "1 when the newest finished verification of the target passed, 0 when it failed.");
        meter.CreateObservableGauge("hellojohn_console_runs_active", () =>
            Current().ActiveRuns.Select(r => new Measurement<int>(r.Value, new KeyValuePair<string, object?>("kind", r.Key.Kind), new KeyValuePair<string, object?>("state", r.Key.State))),
            null, "Backups, verifications and restores queued or running, across every console instance.");
        meter.CreateObservableCounter("hellojohn_console_failures", () =>
            Current().Failures.Select(f => new Measurement<long>(f.Value, new KeyValuePair<string, object?>("target", f.Key.Target), new KeyValuePair<string, object?>("kind", f.Key.Kind))),
            null, "Failed runs by kind (backup, verification, restore, drill) recorded in the catalog.");
        meter.CreateObservableCounter("hellojohn_console_storage_errors", () =>
            Current().StorageErrors.Select(e => new Measurement<long>(e.Value, new KeyValuePair<string, object?>("store", e.Key))),
            null, "Times a backup store failed to take or give back a backup (during backups and retention).");
        meter.CreateObservableGauge("hellojohn_console_jwks_check_timestamp", () =>
            Current().LastJwksChecks.Select(j => Measure(j.CheckedAt.ToUnixTimeMilliseconds() / 1000.0, j.Target)),
            "s", "When the escrowed signing key was last compared with HelloJohn's live JWKS (Unix time).");
        meter.CreateObservableGauge("hellojohn_console_jwks_check_result", () =>
            Current().LastJwksChecks.SelectMany(j => Enum.GetValues<JwksCheckOutcome>().Select(o => new Measurement<int>(o == j.Outcome ? 1 : 0,
                new KeyValuePair<string, object?>("target", j.Target), new KeyValuePair<string, object?>("outcome", o.ToString().ToLowerInvariant())))),
            null, "The latest JWKS check's outcome: 1 for the outcome it had (match, mismatch, unreachable, …), 0 for the others.");
        meter.CreateObservableCounter("hellojohn_console_notification_failures", () =>
            Current().NotificationFailures.Select(n => new Measurement<long>(n.Value, new KeyValuePair<string, object?>("channel", n.Key))),
            null, "Notification messages given up after every attempt failed, by channel.");
    }

    private static Measurement<double> Measure(double value, string target) => new(value, new KeyValuePair<string, object?>("target", target));

    /// <summary>The figures as of at most a second ago.</summary>
    public MetricsSnapshot Current()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_snapshot is null || now - _loadedAt > Freshness)
            {
                try
                {
                    using var db = _dbFactory.CreateDbContext();
                    _snapshot = MetricsSnapshot.Load(db, now);
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    // No figures rather than stale ones: an alert on absent() series says the console database is down.
                    _logger.LogWarning("Metrics could not be read from the console database: {Message}", e.Message);
                    _snapshot = MetricsSnapshot.Empty(now);
                }

                _loadedAt = now;
            }

            return _snapshot;
        }
    }
}

public static class MetricsServiceCollectionExtensions
{
    /// <summary>The console's meter and its instruments; exporting them (Prometheus) is the web host's part.</summary>
    public static IServiceCollection AddConsoleMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<ConsoleMetrics>();
        return services;
    }
}
