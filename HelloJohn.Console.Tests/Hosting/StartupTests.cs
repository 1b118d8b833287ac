using System.Net;
using System.Text.Json;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Tests.Hosting;

[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class StartupTests(PostgresClusterFixture postgres)
{
    [Fact]
    public async Task Health_AllPartsUp_ReportsEachCheckAsJson()
    {
        await using var app = new ConsoleAppFactory(postgres);
        await app.InitializeAsync();
        using var client = app.CreateClient();

        var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        var checks = json.RootElement.GetProperty("checks");
        foreach (var check in new[] { "console-database", "storage", "target" })
        {
            Assert.Equal("Healthy", checks.GetProperty(check).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Health_TargetDown_IsDegradedNotUnhealthy()
    {
        await using var app = new ConsoleAppFactory(postgres);
        await app.InitializeAsync();
        app.Target = new Npgsql.NpgsqlConnectionStringBuilder(postgres.Demo.ConnectionString) { Port = Core.Postgres.LocalPostgresCluster.FreeLoopbackPort(), Timeout = 2 };
        using var client = app.CreateClient();

        using var json = JsonDocument.Parse(await client.GetStringAsync("/health"));

        Assert.Equal("Degraded", json.RootElement.GetProperty("status").GetString());
        var target = json.RootElement.GetProperty("checks").GetProperty("target");
        Assert.Contains("is not reachable", target.GetProperty("description").GetString());
        Assert.DoesNotContain(PostgresClusterFixture.DemoPassword, json.RootElement.ToString());
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
