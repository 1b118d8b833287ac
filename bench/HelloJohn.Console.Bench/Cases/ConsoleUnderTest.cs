using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>The console's Core (every service, its Hangfire server, migrations) in this process, without the web UI:
/// the same code path as a backup the UI starts, minus the browser.</summary>
public sealed class ConsoleUnderTest(IHost host, string dataDirectory) : IAsyncDisposable
{
    public static readonly Actor Operator = new("bench", "bench@localhost", [ConsoleRoles.Operator]);

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
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            // Expected on a fresh console database (EF probes its history table; no admin or key encryptor yet).
            .AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None)
            .AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error)
            .AddFilter("HelloJohn.Console.Core.Security", LogLevel.Error);
        builder.AddConsoleCore();
        var host = builder.Build();
        await host.StartAsync(ct);
        return new ConsoleUnderTest(host, dataDirectory);
    }

    public async Task<Guid> DefaultTargetAsync(CancellationToken ct) =>
        (await Service<TargetService>().GetDefaultAsync(ct))?.Id ?? throw new InvalidOperationException("The console did not register its target at start.");

    public async Task<BackupDetails> BackupAsync(Guid targetId, CancellationToken ct)
    {
        var backups = Service<BackupService>();
        var id = await backups.RunNowAsync(Operator, targetId, BackupTrigger.Manual, ct);
        return await backups.GetAsync(id, ct) ?? throw new InvalidOperationException($"Backup {id} vanished from the catalog.");
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
    }
}
