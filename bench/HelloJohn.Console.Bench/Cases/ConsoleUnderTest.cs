using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>The console's Core (every service, its Hangfire server, migrations) in this process, without the web UI:
/// the same code path as a backup the UI starts, minus the browser.</summary>
public sealed class ConsoleUnderTest(IHost host, string dataDirectory, CheckTimingsLog checks) : IAsyncDisposable
{
    /// <summary>The benchmark acts as the console's own scheduled jobs do: a made-up person would be refused, since every
    /// guarded operation re-reads its caller's account from the console database.</summary>
    public static readonly Actor Operator = Actor.System;

    public IServiceProvider Services => host.Services;
    public string DataDirectory => dataDirectory;

    public T Service<T>() where T : notnull => host.Services.GetRequiredService<T>();

    public static async Task<ConsoleUnderTest> StartAsync(NpgsqlConnectionStringBuilder consoleDatabase, NpgsqlConnectionStringBuilder target, string dataDirectory,
        IReadOnlyDictionary<string, string?>? settings = null, CancellationToken ct = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = Environments.Production,
            ApplicationName = "HelloJohn.Console.Bench",
        });
        var values = new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ConsoleCoreExtensions.ConsoleConnectionName}"] = consoleDatabase.ConnectionString,
            ["HELLOJOHN_DATABASE_URL"] = target.ConnectionString,
            ["HELLOJOHN_TARGET_NAME"] = "bench",
            ["Console:DataDirectory"] = dataDirectory,
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            values[k] = v;
        }

        builder.Configuration.AddInMemoryCollection(values);
        var checks = new CheckTimingsLog();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            // Expected on a fresh console database (EF probes its history table; no admin or key encryptor yet).
            .AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None)
            .AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error)
            .AddFilter("HelloJohn.Console.Core.Security", LogLevel.Error)
            .AddProvider(checks)
            .AddFilter<CheckTimingsLog>(CheckTimingsLog.Category, LogLevel.Information)
            .AddFilter<ConsoleLoggerProvider>(CheckTimingsLog.Category, LogLevel.Warning);
        builder.AddConsoleCore();
        var host = builder.Build();
        await host.StartAsync(ct);
        return new ConsoleUnderTest(host, dataDirectory, checks);
    }

    /// <summary>Changes a setting of the running console, as an edited configuration file would.</summary>
    public void Set(string key, string? value)
    {
        var config = (IConfigurationRoot)Service<IConfiguration>();
        config[key] = value;
        config.Reload();
    }

    public async Task<Guid> DefaultTargetAsync(CancellationToken ct) =>
        (await Service<TargetService>().GetDefaultAsync(ct))?.Id ?? throw new InvalidOperationException("The console did not register its target at start.");

    public async Task<BackupDetails> BackupAsync(Guid targetId, CancellationToken ct)
    {
        var backups = Service<BackupService>();
        var id = await backups.RunNowAsync(Operator, targetId, BackupTrigger.Manual, ct);
        return await backups.GetAsync(id, ct) ?? throw new InvalidOperationException($"Backup {id} vanished from the catalog.");
    }

    /// <summary>Verifies a backup in the caller; returns the run and the time of each phase.</summary>
    public async Task<(VerificationRunDetails Details, IReadOnlyList<(string Phase, TimeSpan Time)> Phases)> VerifyAsync(Guid backupId, CancellationToken ct)
    {
        var phases = new PhaseRecorder();
        void OnProgress(RunProgress p)
        {
            if (p.Kind == RunKind.Verification && !p.FromOtherInstance)
            {
                phases.Enter(Describe(p.PhaseAs<RestorePhase>()));
            }
        }

        var notifier = Service<RunProgressNotifier>();
        notifier.Changed += OnProgress;
        try
        {
            var details = await Service<VerificationService>().VerifyAsync(Operator, backupId, ct);
            return (details, phases.Finish(Describe(RestorePhase.Checking), checks.Latest()));
        }
        finally
        {
            notifier.Changed -= OnProgress;
        }
    }

    /// <summary>Restores a backup into a new database in the caller; returns the run and the time of each phase.</summary>
    public async Task<(RestoreRunDetails Details, IReadOnlyList<(string Phase, TimeSpan Time)> Phases)> RestoreAsync(Guid backupId, string database, CancellationToken ct)
    {
        var phases = new PhaseRecorder();
        void OnProgress(RunProgress p)
        {
            if (p.Kind == RunKind.Restore && !p.FromOtherInstance)
            {
                phases.Enter(Describe(p.PhaseAs<RestorePhase>()));
            }
        }

        var notifier = Service<RunProgressNotifier>();
        notifier.Changed += OnProgress;
        try
        {
            var details = await Service<RestoreService>().RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, database), ct);
            return (details, phases.Finish(Describe(RestorePhase.Checking), checks.Latest()));
        }
        finally
        {
            notifier.Changed -= OnProgress;
        }
    }

    /// <summary>Runs a recovery drill to its end, as the schedule does; returns its measured RTO and each step's time.</summary>
    public async Task<(TimeSpan Rto, IReadOnlyList<(string Phase, TimeSpan Time)> Steps)> DrillAsync(Guid targetId, CancellationToken ct)
    {
        var recovery = Service<RecoveryService>();
        await recovery.RunScheduledDrillAsync(targetId, ct);
        var drill = await recovery.GetLastDrillAsync(targetId, ct) ?? throw new InvalidOperationException("The drill left no run.");
        if (drill.Rto is not { } rto)
        {
            throw new InvalidOperationException($"The drill did not complete ({drill.Status}: {drill.EndReason}); the benchmark's figures are not valid.");
        }

        await using var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync(ct);
        var steps = await db.Set<RecoveryStepState>().AsNoTracking().Where(s => s.RunId == drill.RunId).OrderBy(s => s.Position).ToListAsync(ct);
        return (rto, [.. steps.Where(s => s.StartedAt is not null && s.CompletedAt is not null).Select(s => (s.Key, s.CompletedAt!.Value - s.StartedAt!.Value))]);
    }

    private static string Describe(RestorePhase phase) => phase switch
    {
        RestorePhase.Queued => "accept",
        RestorePhase.Checking => "checks",
        RestorePhase.Creating => "create database",
        RestorePhase.Restoring => "pg_restore",
        RestorePhase.Counting => "count + compare",
        RestorePhase.CleaningUp => "drop database",
        RestorePhase.Done => "finish (record, audit)",
        _ => phase.ToString(),
    };

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
    }
}
