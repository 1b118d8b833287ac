using System.Text.Json;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Secrets.Fixtures;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Recovery;

/// <summary>HelloJohn as the wizards see it from outside: a real Kestrel server on 127.0.0.1 whose /health the test
/// turns healthy, and whose /.well-known/jwks.json publishes the keys the test sets.</summary>
public sealed class FakeHelloJohn : IAsyncDisposable
{
    private LoopbackHttpServer? _server;
    private volatile bool _healthy;
    private volatile string _jwks = "{\"keys\":[]}";
    private int _healthRequests;

    public Uri BaseAddress => _server!.BaseAddress;
    public string BaseUrl => BaseAddress.ToString().TrimEnd('/');
    public int HealthRequests => Volatile.Read(ref _healthRequests);

    public bool Healthy
    {
        get => _healthy;
        set => _healthy = value;
    }

    public void PublishJwk(string publicJwk) => _jwks = $"{{\"keys\":[{publicJwk}]}}";

    public static async Task<FakeHelloJohn> StartAsync()
    {
        var fake = new FakeHelloJohn();
        fake._server = await LoopbackHttpServer.StartAsync(fake.HandleAsync);
        return fake;
    }

    private async Task HandleAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        if (context.Request.Path == "/health")
        {
            Interlocked.Increment(ref _healthRequests);
            context.Response.StatusCode = _healthy ? 200 : 503;
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { status = _healthy ? "Healthy" : "Unhealthy" }));
        }
        else if (context.Request.Path == "/.well-known/jwks.json")
        {
            await context.Response.WriteAsync(_jwks);
        }
        else
        {
            context.Response.StatusCode = 404;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The real console wired for the wizards' tests: fast polling, HelloJohn's base URL on a loopback fake, and
/// optionally the console database and backup folder of another instance (to restart or to run two at once).</summary>
public sealed class RecoveryAppFactory : ConsoleAppFactory
{
    public RecoveryAppFactory(PostgresClusterFixture postgres, string baseUrl, RecoveryAppFactory? sharing = null) : base(postgres)
    {
        Settings["HELLOJOHN_BASE_URL"] = baseUrl;
        Settings["Recovery:PollInterval"] = "00:00:00.100";
        Settings["Recovery:WaitTimeout"] = "00:03:00";
        Settings["Storage:Local:Directory"] = sharing?.BackupDirectory ?? Path.Combine(DataDirectory, "backups");
        // Instances sharing a console database share the certificate that protects its key ring; it lives outside the
        // data folder, which a stopped instance's clean-up removes before its successor starts.
        KeyRingCertificate = sharing?.KeyRingCertificate ?? Path.Combine(Path.GetTempPath(), $"hjc-keyring-{Guid.NewGuid():N}.pem");
        using (KeyRingProtector.LoadOrCreate(KeyRingCertificate, createIfMissing: true))
        {
            Settings[KeyRingProtector.SettingName] = KeyRingCertificate;
        }

        if (sharing is not null)
        {
            Settings["ConnectionStrings:Console"] = sharing.ConsoleDatabase.ConnectionString;
        }
    }

    public string KeyRingCertificate { get; }
}

/// <summary>A test class whose every test gets its own console wired for the wizards and its own fake HelloJohn.</summary>
public abstract class RecoveryAppTest(PostgresClusterFixture postgres) : IAsyncLifetime
{
    protected PostgresClusterFixture Postgres { get; } = postgres;

    protected FakeHelloJohn HelloJohnFake { get; private set; } = default!;

    protected RecoveryAppFactory App { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        HelloJohnFake = await FakeHelloJohn.StartAsync();
        App = new RecoveryAppFactory(Postgres, HelloJohnFake.BaseUrl);
        await App.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await HelloJohnFake.DisposeAsync();
    }
}

public static class RecoveryTestActors
{
    public static readonly Actor Admin = new("admin-1", "admin@example.test", [ConsoleRoles.Admin]);
    public static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);
    public static readonly Actor Viewer = new("viewer-1", "viewer@example.test", [ConsoleRoles.Viewer]);
}

public static class RecoveryTestExtensions
{
    public static async Task<Guid> DefaultTargetAsync(this ConsoleAppFactory app) =>
        (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

    public static async Task<Guid> BackUpAsync(this ConsoleAppFactory app) =>
        await app.Service<BackupService>().RunNowAsync(RecoveryTestActors.Operator, await app.DefaultTargetAsync(), BackupTrigger.Manual, CancellationToken.None);

    public static async Task<RecoveryRunView> RunAsync(this ConsoleAppFactory app, Guid runId) =>
        (await app.Service<RecoveryService>().GetAsync(runId, CancellationToken.None))!;

    public static async Task<RecoveryStepView> StepAsync(this ConsoleAppFactory app, Guid runId, string key) =>
        (await app.RunAsync(runId)).Steps.Single(s => s.Key == key);

    /// <summary>Waits for a step's job to end (passed or failed) and returns the step. Bounded generously: the machine
    /// is shared; the assertion is on the state reached, not on the time it took.</summary>
    public static async Task<RecoveryStepView> WaitForStepAsync(this ConsoleAppFactory app, Guid runId, string key, Func<RecoveryStepView, bool>? until = null)
    {
        until ??= s => s.Status is RecoveryStepStatus.Passed or RecoveryStepStatus.Failed;
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (true)
        {
            var step = await app.StepAsync(runId, key);
            if (until(step))
            {
                return step;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Step {key} stayed {step.Status} ({step.Message}). Log:\n" +
                    string.Join('\n', (await app.RunAsync(runId)).Log.Select(l => $"{l.StepKey}: {l.Text}")));
            }

            await Task.Delay(100);
        }
    }

    public static async Task WaitForRunLogAsync(this ConsoleAppFactory app, Guid runId, Func<RecoveryLogView, bool> line)
    {
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (!(await app.RunAsync(runId)).Log.Any(line))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The expected log line did not appear:\n" + string.Join('\n', (await app.RunAsync(runId)).Log.Select(l => $"{l.StepKey}: {l.Text}")));
            }

            await Task.Delay(100);
        }
    }

    public static async Task<RecoveryRunSummary> WaitForRunAsync(this ConsoleAppFactory app, Guid runId, Func<RecoveryRunSummary, bool> until)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            var run = (await app.RunAsync(runId)).Run;
            if (until(run))
            {
                return run;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Run {runId} stayed {run.Status}. Log:\n" + string.Join('\n', (await app.RunAsync(runId)).Log.Select(l => $"{l.StepKey}: {l.Text}")));
            }

            await Task.Delay(100);
        }
    }

    public static async Task<List<HelloJohn.Console.Core.Audit.AuditEvent>> AuditAsync(this ConsoleAppFactory app, string actionPrefix)
    {
        await using var db = await app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.AuditEvents.AsNoTracking().Where(e => e.Action.StartsWith(actionPrefix)).OrderBy(e => e.Id).ToListAsync();
    }

    /// <summary>The audit trail once an expected record is in it (audit records follow the state change they describe).</summary>
    public static async Task<List<HelloJohn.Console.Core.Audit.AuditEvent>> WaitForAuditAsync(this ConsoleAppFactory app, Func<HelloJohn.Console.Core.Audit.AuditEvent, bool> expected)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var events = await app.AuditAsync("recovery.");
            if (events.Any(expected) || DateTime.UtcNow > deadline)
            {
                return events;
            }

            await Task.Delay(100);
        }
    }

    public static Dictionary<string, string?> Inputs(params (string Key, string? Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);
}
