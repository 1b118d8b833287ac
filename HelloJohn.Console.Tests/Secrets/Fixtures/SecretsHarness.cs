using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Tests.Secrets.Fixtures;

/// <summary>The Secrets services wired as the console wires them (AddSecretsServices), on the test database, with a
/// Data Protection key ring in a temporary folder and every log line captured.</summary>
public sealed class SecretsHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly AsyncServiceScope _scope;
    private readonly string? _ownedKeyRing;

    private SecretsHarness(ServiceProvider services, CapturingLoggerProvider logs, string keyRing, string? ownedKeyRing)
    {
        _services = services;
        _scope = services.CreateAsyncScope();
        Logs = logs;
        KeyRingDirectory = keyRing;
        _ownedKeyRing = ownedKeyRing;
    }

    public CapturingLoggerProvider Logs { get; }

    public string KeyRingDirectory { get; }

    public static Actor Admin { get; } = new(TestAccounts.AdminId, "admin@example.com", [ConsoleRoles.Admin]);
    public static Actor Operator { get; } = new(TestAccounts.OperatorId, "operator@example.com", [ConsoleRoles.Operator]);
    public static Actor Viewer { get; } = new(TestAccounts.ViewerId, "viewer@example.com", [ConsoleRoles.Viewer]);

    /// <param name="keyRingDirectory">A Data Protection key ring to share with another harness; a new one by default.</param>
    /// <param name="db">The test database; null for tests that never touch it (a connection would be refused).</param>
    /// <param name="time">The clock the services use; the system clock by default.</param>
    public static SecretsHarness Create(SecretsDatabaseFixture? db, IDictionary<string, string?>? settings = null, string? keyRingDirectory = null, TimeProvider? time = null)
    {
        var logs = new CapturingLoggerProvider();
        var ownedKeyRing = keyRingDirectory is null ? Path.Combine(Path.GetTempPath(), "hjc-keys-" + Guid.NewGuid().ToString("N")) : null;
        var keyRing = keyRingDirectory ?? ownedKeyRing!;
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        services.AddDbContextFactory<ConsoleDbContext>(o => o.UseNpgsql(db?.ConnectionString ?? "Host=127.0.0.1;Port=1;Database=unused"));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddSingleton<IAuditLog, AuditLog>();
        services.AddSingleton<CallerGate>();
        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(keyRing)).SetApplicationName("HelloJohn.Console.Tests");
        services.AddSecretsServices();
        return new SecretsHarness(services.BuildServiceProvider(validateScopes: true), logs, keyRing, ownedKeyRing);
    }

    public T Get<T>() where T : notnull => _scope.ServiceProvider.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        await _scope.DisposeAsync();
        await _services.DisposeAsync();
        if (_ownedKeyRing is not null && Directory.Exists(_ownedKeyRing))
        {
            Directory.Delete(_ownedKeyRing, recursive: true);
        }
    }

    public static async Task<List<AuditEvent>> AuditEventsAsync(SecretsDatabaseFixture db, string target)
    {
        await using var context = db.CreateContext();
        return await context.AuditEvents.AsNoTracking().Where(e => e.Target == target).OrderBy(e => e.Id).ToListAsync();
    }
}
