using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>The real console (all services, Hangfire server, EF migrations) on a console database of its own, protecting
/// the fixture's demo HelloJohn database. Logs are captured so tests can assert that no secret is written.</summary>
public class ConsoleAppFactory(PostgresClusterFixture postgres) : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminEmail = "admin@example.test";
    public const string AdminPassword = "Admin-Pa55word!";

    private NpgsqlConnectionStringBuilder? _consoleDb;

    public PostgresClusterFixture Postgres => postgres;
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"hjc-test-data-{Guid.NewGuid():N}"[..26]);
    public CapturingLoggerProvider Logs { get; } = new();
    public NpgsqlConnectionStringBuilder ConsoleDatabase => _consoleDb ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>The target's connection; tests may point it elsewhere before first use.</summary>
    public NpgsqlConnectionStringBuilder Target { get; set; } = postgres.Demo;

    /// <summary>Extra settings (key → value) applied on top of the defaults.</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    public string BackupDirectory => Settings.TryGetValue("Storage:Local:Directory", out var d) && d is not null ? d : Path.Combine(DataDirectory, "backups");

    public virtual async Task InitializeAsync() => _consoleDb = await postgres.CreateDatabaseAsync("console");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Console", ConsoleDatabase.ConnectionString);
        builder.UseSetting("HELLOJOHN_DATABASE_URL", Target.ConnectionString);
        builder.UseSetting("HELLOJOHN_TARGET_NAME", "test");
        builder.UseSetting("Console:DataDirectory", DataDirectory);
        builder.UseSetting("HELLOJOHN_CONSOLE_ADMIN_EMAIL", AdminEmail);
        builder.UseSetting("HELLOJOHN_CONSOLE_ADMIN_PASSWORD", AdminPassword);
        builder.UseSetting("Backups:ProgressInterval", "00:00:00.200");
        // Verifications restore into the fixture's server, where tests look for their databases; the console's private
        // scratch cluster (the default) is tested on its own, since each would start one.
        builder.UseSetting("Verification:RestoreInto", "TargetServer");
        foreach (var (k, v) in Settings)
        {
            builder.UseSetting(k, v);
        }

        builder.ConfigureLogging(l => l.ClearProviders().AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Whether the <see cref="TestAccounts"/> are added at start.</summary>
    protected virtual bool SeedsTestAccounts => true;

    /// <summary>Starts the console, then adds the <see cref="TestAccounts"/> its tests act as.</summary>
    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);
        if (SeedsTestAccounts)
        {
            TestAccounts.EnsureAsync(host.Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>()).GetAwaiter().GetResult();
        }

        return host;
    }

    public new async Task DisposeAsync()
    {
        // Hangfire's log provider is process-wide and may be this host's logger factory, which is disposed with it:
        // hosts of other tests still running would then fail to create a job (or a worker to log). A silent one
        // takes its place first; the next host to start sets its own.
        SilentHangfireLogProvider.Install();
        await base.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was written.
        }
    }

    /// <summary>Runs a PostgreSQL tool with the fixture's runner (e.g. pg_restore --list on a produced file).</summary>
    public Task<PgToolResult> RunToolAsync(string tool, params string[] args) => postgres.Runner.RunAsync(new PgToolInvocation(tool, args));
}
