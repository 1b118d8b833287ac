using System.Net;
using System.Text.Json;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Security;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Tests.Hosting;

[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class StartupTests(PostgresClusterFixture postgres)
{
    [Fact]
    public async Task Health_AllPartsUp_TellsAnyoneHealthyAndSignedInUsersEachCheck()
    {
        await using var app = new SecurityAppFactory(postgres);
        await app.InitializeAsync();
        using var anonymous = app.CreateClient();

        var response = await anonymous.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        using (var json = JsonDocument.Parse(body))
        {
            // Only the verdict: no database user, host, port, name or backup count for someone who has not signed in.
            Assert.Equal(["status"], json.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        }

        foreach (var secret in new[] { postgres.Demo.Host!, postgres.Demo.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), PostgresClusterFixture.DemoRole, "backup" })
        {
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        }

        using var viewer = await app.SignedInClientAsync(await app.CreateAccountAsync(ConsoleRoles.Viewer));
        using var details = JsonDocument.Parse(await viewer.GetStringAsync("/health"));
        Assert.Equal("Healthy", details.RootElement.GetProperty("status").GetString());
        var checks = details.RootElement.GetProperty("checks");
        foreach (var check in new[] { "console-database", "storage", "target" })
        {
            Assert.Equal("Healthy", checks.GetProperty(check).GetProperty("status").GetString());
        }

        Assert.Contains($"{postgres.Demo.Host}:{postgres.Demo.Port}", checks.GetProperty("target").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Start_DefaultSchedules_EachRegistrationLoggedOnce()
    {
        await using var app = new ConsoleAppFactory(postgres);
        await app.InitializeAsync();
        var target = (await app.Service<Core.Targets.TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

        var registrations = app.Logs.Lines.Where(l => l.Contains("ScheduleService: Schedule ", StringComparison.Ordinal)).ToList();

        foreach (var id in new[] { $"backup:{target}", $"verify:{target}", $"retention:{target}", $"drill:{target}" })
        {
            Assert.Single(registrations, l => l.Contains($"Schedule {id}:", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Health_TargetDown_IsDegradedForSignedInUsersAndHealthyForBalancers()
    {
        await using var app = new SecurityAppFactory(postgres);
        await app.InitializeAsync();
        app.Target = new Npgsql.NpgsqlConnectionStringBuilder(postgres.Demo.ConnectionString) { Port = Core.Postgres.LocalPostgresCluster.FreeLoopbackPort(), Timeout = 2 };
        using var anonymous = app.CreateClient();
        using var admin = await app.SignedInClientAsync(await app.AdminAsync());

        using var verdict = JsonDocument.Parse(await anonymous.GetStringAsync("/health"));
        using var json = JsonDocument.Parse(await admin.GetStringAsync("/health"));

        // The console serves; HelloJohn's database being down is for its users to read, not a reason to pull it out.
        Assert.Equal("Healthy", verdict.RootElement.GetProperty("status").GetString());
        Assert.Equal("Degraded", json.RootElement.GetProperty("status").GetString());
        var target = json.RootElement.GetProperty("checks").GetProperty("target");
        Assert.Contains("is not reachable", target.GetProperty("description").GetString());
        Assert.DoesNotContain(PostgresClusterFixture.DemoPassword, json.RootElement.ToString());
    }

    [Fact]
    public async Task SecondInstance_WithAnotherTargetName_DoesNotRenameTheSharedTarget()
    {
        // Two instances on one console database, each with its own HELLOJOHN_TARGET_NAME: the first one's name stays.
        await using var first = new ConsoleAppFactory(postgres);
        await first.InitializeAsync();
        first.Settings["HELLOJOHN_TARGET_NAME"] = "demo";
        var targetId = (await first.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
        await using var second = new ConsoleAppFactory(postgres);
        await second.InitializeAsync();
        second.Settings["ConnectionStrings:Console"] = first.ConsoleDatabase.ConnectionString;
        second.Settings["HELLOJOHN_TARGET_NAME"] = "production";
        second.Settings[Core.Hosting.KeyRingProtector.SettingName] = Path.Combine(first.DataDirectory, Core.Hosting.KeyRingProtector.DefaultFileName);

        var seen = await second.Service<TargetService>().ListAsync(CancellationToken.None);

        Assert.Equal([(targetId, "demo")], seen.Select(t => (t.Id, t.Name)));
        Assert.Contains("HELLOJOHN_TARGET_NAME is 'production' here, but the target is named 'demo' in the console database, which wins", second.Logs.AllText, StringComparison.Ordinal);
        Assert.Equal("demo", (await first.Service<TargetService>().GetAsync(targetId, CancellationToken.None)).Name);
    }

    [Theory]
    [InlineData("HELLOJOHN_DATABASE_URL", "postgres://user@host:5432/", "HELLOJOHN_DATABASE_URL is not a usable connection string")]
    [InlineData("HELLOJOHN_BASE_URL", "auth.example.com", "HELLOJOHN_BASE_URL must be an absolute")]
    [InlineData("Backups:Compression", "12", "Backups__Compression must be")]
    [InlineData("Backups:WaitForRunningBackup", "-00:01:00", "Backups__WaitForRunningBackup must be")]
    [InlineData("Runs:SweepInterval", "00:00:00", "Runs__SweepInterval must be")]
    [InlineData("Runs:KeepAliveCount", "0", "Runs__KeepAliveCount must be")]
    [InlineData("Console:JobWorkers", "-1", "Console__JobWorkers must be")]
    [InlineData("Storage:Local:Enabled", "false", "Storage__Local__Enabled is false and no S3 bucket is configured")]
    public async Task Start_BadSetting_FailsNamingTheVariable(string key, string value, string expected)
    {
        await using var app = new ConsoleAppFactory(postgres);
        await app.InitializeAsync();
        app.Settings[key] = value;

        var e = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        var validation = e as OptionsValidationException ?? e.InnerException as OptionsValidationException ?? (e as AggregateException)?.InnerExceptions.OfType<OptionsValidationException>().FirstOrDefault();
        Assert.NotNull(validation);
        Assert.Contains(expected, validation.Message);
    }
}
