using System.Globalization;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Tests.Infrastructure;
using Npgsql;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestActors;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestExtensions;

namespace HelloJohn.Console.Tests.Recovery;

/// <summary>The point-in-time wizard's last check on a database with HelloJohn's current schema (<c>app_user</c>,
/// <c>identity</c>, <c>sessions</c>…), not the documentation's <c>hj_*</c> tables: it is recognised as HelloJohn's,
/// and a row written after the chosen time is still seen.</summary>
[Trait("Capability", "Pitr")]
[Collection(PostgresCollection.Name)]
public sealed class PointInTimeCheckTests(PostgresClusterFixture postgres) : RecoveryAppTest(postgres)
{
    private RecoveryService Recovery => App.Service<RecoveryService>();

    [Fact]
    public async Task RecoveredDatabase_CurrentSchema_IsRecognisedAndAWriteAfterTheTargetIsCaught()
    {
        var target = DateTimeOffset.UtcNow.AddMinutes(-30);
        var recovered = await CurrentSchemaDatabaseAsync(newestWrite: target.AddMinutes(-5));
        var tooLate = await CurrentSchemaDatabaseAsync(newestWrite: target.AddHours(2));
        var unrelated = await Postgres.CreateDatabaseAsync("shop");
        await ExecuteAsync(unrelated, "CREATE TABLE orders (id int, created_at timestamptz); CREATE TABLE sessions (id int)");

        var passed = await CheckAsync(target, recovered);
        var later = await CheckAsync(target, tooLate);
        var notHelloJohn = await CheckAsync(target, unrelated);

        Assert.True(passed.Status == RecoveryStepStatus.Passed, passed.Message);
        Assert.Contains("is HelloJohn's database: it holds HelloJohn's tables app_user, identity, refresh_token, sessions, schema_migrations (the current schema)", passed.Message, StringComparison.Ordinal);
        Assert.Equal(RecoveryStepStatus.Failed, later.Status);
        Assert.Contains("was recovered to a later point", later.Message, StringComparison.Ordinal);
        Assert.Equal(RecoveryStepStatus.Failed, notHelloJohn.Status);
        Assert.Contains("is not a recovered HelloJohn database: it has fewer than 3 of HelloJohn's tables", notHelloJohn.Message, StringComparison.Ordinal);
    }

    private async Task<RecoveryStepResult> CheckAsync(DateTimeOffset target, NpgsqlConnectionStringBuilder database)
    {
        var runId = await Recovery.StartAsync(Operator, new RecoveryStartRequest(RecoveryScenario.PointInTime, await App.DefaultTargetAsync()), CancellationToken.None);
        var time = target.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Equal(RecoveryStepStatus.Passed, (await Recovery.AdvanceAsync(Operator, runId, PointInTimeSteps.ChooseTimeKey, Inputs(("time", time), ("zone", "UTC")), CancellationToken.None)).Status);
        await Recovery.MarkDoneAsync(Operator, runId, PointInTimeSteps.RestoreToTimeKey, CancellationToken.None);
        var result = await Recovery.AdvanceAsync(Operator, runId, PointInTimeSteps.RecoveredDatabaseKey, Inputs(("connection", database.ConnectionString)), CancellationToken.None);
        await Recovery.AbandonAsync(Operator, runId, "test done", CancellationToken.None);
        return result;
    }

    /// <summary>A database laid out as HelloJohn's current schema, its newest row written at <paramref name="newestWrite"/>.</summary>
    private async Task<NpgsqlConnectionStringBuilder> CurrentSchemaDatabaseAsync(DateTimeOffset newestWrite)
    {
        var db = await Postgres.CreateDatabaseAsync("hjcur");
        await ExecuteAsync(db, """
            CREATE TABLE app_user (id uuid PRIMARY KEY, email text, created_at timestamptz NOT NULL);
            CREATE TABLE identity (id uuid PRIMARY KEY, user_id uuid, provider text, created_at timestamptz NOT NULL);
            CREATE TABLE refresh_token (id uuid PRIMARY KEY, user_id uuid, created_at timestamptz NOT NULL);
            CREATE TABLE sessions (id uuid PRIMARY KEY, user_id uuid, created_at timestamptz NOT NULL);
            CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean);
            INSERT INTO schema_migrations VALUES (42, false);
            INSERT INTO app_user VALUES (gen_random_uuid(), 'a@example.test', now() - interval '3 days');
            """);
        await using var conn = new NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO sessions VALUES (gen_random_uuid(), NULL, $1)", conn) { Parameters = { new() { Value = newestWrite } } };
        await insert.ExecuteNonQueryAsync();
        return db;
    }

    private static async Task ExecuteAsync(NpgsqlConnectionStringBuilder db, string sql)
    {
        await using var conn = new NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
