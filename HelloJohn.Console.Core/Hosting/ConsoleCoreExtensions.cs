using Hangfire;
using Hangfire.PostgreSql;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Core.Metrics;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Security.ApiTokens;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Hosting;

public static class ConsoleCoreExtensions
{
    public const string ConsoleConnectionName = "Console";

    /// <summary>Registers the console's services. With no HELLOJOHN_DATABASE_URL or ConnectionStrings__Console, it first
    /// starts the embedded default (a private PostgreSQL cluster with a demo HelloJohn database).</summary>
    public static IHostApplicationBuilder AddConsoleCore(this IHostApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var services = builder.Services;
        var dataDirectory = string.IsNullOrWhiteSpace(config["Console:DataDirectory"]) ? ConsoleOptions.DefaultDataDirectory() : Path.GetFullPath(config["Console:DataDirectory"]!);
        config["Console:DataDirectory"] = dataDirectory;

        var needConsole = string.IsNullOrWhiteSpace(config.GetConnectionString(ConsoleConnectionName));
        var needTarget = string.IsNullOrWhiteSpace(config["HELLOJOHN_DATABASE_URL"]);
        if (needConsole || needTarget)
        {
            using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
            // Blocking here is deliberate: every other service needs the connection strings this produces.
            var embedded = EmbeddedDefault.StartAsync(dataDirectory, loggerFactory, needConsole, needTarget).GetAwaiter().GetResult();
            var values = new Dictionary<string, string?>();
            if (needConsole)
            {
                values[$"ConnectionStrings:{ConsoleConnectionName}"] = embedded.ConsoleConnectionString;
            }

            if (needTarget)
            {
                values["HELLOJOHN_DATABASE_URL"] = embedded.TargetConnectionString;
                values["HELLOJOHN_TARGET_NAME"] = config["HELLOJOHN_TARGET_NAME"] ?? "demo";
                values["HELLOJOHN_DATABASE_PATTERNS"] = config["HELLOJOHN_DATABASE_PATTERNS"] ?? Demo.DemoTenantDatabase.DemoPattern;
                // The demo server streams its WAL from the first start, so the window and RPO are live at once.
                values["Pitr:Enabled"] = config["Pitr:Enabled"] ?? "true";
                values["Pitr:ReplicationUrl"] = config["Pitr:ReplicationUrl"] ?? embedded.ReplicationConnectionString;
            }

            config.AddInMemoryCollection(values);
            services.AddSingleton(embedded);
            services.AddHostedService<EmbeddedClusterLifetime>();
        }

        services.AddSingleton(TimeProvider.System);
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidation>();
        services.AddSingleton(_ => PgBinaries.Locate());
        services.AddSingleton<IPgToolRunner, PgToolRunner>();
        services.AddSingleton(sp => new ConsoleWorkFolder(Path.Combine(dataDirectory, ConsoleWorkFolder.DefaultFolderName), sp.GetRequiredService<ILogger<ConsoleWorkFolder>>()));
        services.AddSingleton<IConsoleStartupTask, WorkFolderStartupTask>();

        services.AddDbContextFactory<ConsoleDbContext>((sp, o) =>
            o.UseNpgsql(sp.GetRequiredService<IConfiguration>().GetConnectionString(ConsoleConnectionName),
                npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history")));
        // First hosted service: the console database must be migrated before Data Protection's own start-up reads its key ring.
        services.AddHostedService<ConsoleDatabaseInitializer>();
        services.AddRuns();
        var protectorPath = config[KeyRingProtector.SettingName];
        var protector = KeyRingProtector.LoadOrCreate(
            string.IsNullOrWhiteSpace(protectorPath) ? Path.Combine(dataDirectory, KeyRingProtector.DefaultFileName) : Path.GetFullPath(protectorPath),
            createIfMissing: string.IsNullOrWhiteSpace(protectorPath));
        services.AddDataProtection().SetApplicationName("HelloJohn.Console").PersistKeysToDbContext<ConsoleDbContext>()
            .ProtectKeysWithCertificate(protector).UnprotectKeysWithAnyCertificate(protector);

        services.AddConsoleAudit();
        services.AddConsoleSecurity(embedded: needConsole);
        services.AddTargets();
        services.AddDeployments();
        services.AddSingleton<Dashboard.DashboardService>();
        services.AddSingleton<History.HistoryService>();
        services.AddBackups();
        services.AddRestores().AddVerification();
        services.AddLocalStorage(config, dataDirectory);
        services.AddStorageServices(config);
        services.AddCatalogRebuild();
        services.AddRetention();
        services.AddSchedules();
        services.AddSecretsServices();
        services.AddRecovery();
        services.AddPitr(dataDirectory);
        services.AddNotifications();
        services.AddApiTokens();
        services.AddConsoleMetrics();
        services.AddSets();
        services.AddTransient<IScheduledJwksCheckJob, JwksCheckJob>();
        services.AddSingleton<IConsoleStartupTask, ScheduleStartupTask>();
        services.AddConsoleJobs(config);

        services.AddHealthChecks()
            .AddCheck<ConsoleDatabaseHealthCheck>("console-database")
            .AddCheck<BackupStorageHealthCheck>("storage")
            .AddCheck<TargetDatabaseHealthCheck>("target");
        return builder;
    }

    private static IServiceCollection AddConsoleJobs(this IServiceCollection services, IConfiguration config)
    {
        // Hangfire's own registration hands out its process-wide JobStorage.Current and JobActivator.Current, which the
        // last host to start in a process overwrites: this host's storage and activator are its own services, so its
        // jobs are queued in its console database and run with its services, whatever else shares the process.
        services.AddSingleton<JobStorage>(sp =>
        {
            var storageOptions = new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                // A person pressed a button and watches: workers poll every second, not the default 15. Long polling
                // (LISTEN/NOTIFY) stays off: when its listening connection is cut (a restart of the console's
                // database, a terminated backend), jobs queued afterwards stay "Enqueued" (Hangfire.PostgreSql
                // issue 410), which this console saw as restores that never started.
                QueuePollInterval = TimeSpan.FromSeconds(1),
                EnableLongPolling = false,
                DistributedLockTimeout = TimeSpan.FromMinutes(1),
            };
            var connectionString = sp.GetRequiredService<IConfiguration>().GetConnectionString(ConsoleConnectionName);
            return new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, storageOptions), storageOptions);
        });
        services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, hangfire) => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseActivator(sp.GetRequiredService<JobActivator>())
            .UseStorage(sp.GetRequiredService<JobStorage>()));
        // An instance with Console__JobWorkers=0 serves pages and sweeps, and leaves the jobs to the other instances.
        var workers = config.GetSection(ConsoleOptions.Section).Get<ConsoleOptions>()?.EffectiveJobWorkers ?? ConsoleOptions.DefaultJobWorkers;
        if (workers > 0)
        {
            services.AddHangfireServer(o =>
            {
                o.WorkerCount = workers;
                o.CancellationCheckInterval = TimeSpan.FromSeconds(2);
            });
        }

        return services;
    }
}
