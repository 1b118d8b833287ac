using HelloJohn.Console.Bench.Generation;
using HelloJohn.Console.Core.Demo;
using HelloJohn.Console.Tests.Infrastructure;
using Npgsql;

namespace HelloJohn.Console.Tests.Benchmarks;

[Trait("Capability", "Benchmarks")]
[Collection(PostgresCollection.Name)]
public sealed class ScaleDataGeneratorTests(PostgresClusterFixture postgres)
{
    private static readonly string[] Tables = ["hj_schema_migrations", "hj_user", "hj_session", "hj_organization", "hj_organization_member", "hj_mfa_factor", "hj_signing_key"];

    [Fact]
    public async Task Generate_SameUserCount_WritesExactlyTheDemoGeneratorsRowsAndSchema()
    {
        var copied = await postgres.CreateDatabaseAsync("gen_copy");
        var demo = await postgres.CreateDatabaseAsync("gen_demo");

        var result = await ScaleDataGenerator.GenerateAsync(copied, 307);
        await DemoHelloJohnDatabase.EnsureAsync(demo, 307);

        Assert.Equal(307, result.Rows["hj_user"]);
        Assert.Equal(921, result.Rows["hj_session"]);
        foreach (var table in Tables)
        {
            Assert.Equal(await DigestAsync(demo, table), await DigestAsync(copied, table));
        }

        Assert.Equal(await SchemaAsync(demo), await SchemaAsync(copied));
    }

    [Fact]
    public async Task Generate_DatabaseThatHasUsers_ThrowsAndChangesNothing()
    {
        var db = await postgres.CreateDemoDatabaseAsync(users: 120);
        var schemaBefore = await SchemaAsync(db);
        var digestBefore = await DigestAsync(db, "hj_user");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ScaleDataGenerator.GenerateAsync(db, 1000));

        Assert.Contains("already holds HelloJohn users", e.Message);
        Assert.Contains("changed nothing", e.Message);
        Assert.Equal(schemaBefore, await SchemaAsync(db));
        Assert.Equal(digestBefore, await DigestAsync(db, "hj_user"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task Generate_UsersBelowOne_ThrowsBeforeConnecting(int users)
    {
        // An address nobody listens on: reaching it would fail differently.
        var nowhere = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = 1, Database = "none", Username = "none", Timeout = 1 };

        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ScaleDataGenerator.GenerateAsync(nowhere, users));

        Assert.Contains("--users", e.Message);
    }

    /// <summary>Order-independent digest of a table's full contents.</summary>
    private static async Task<string> DigestAsync(NpgsqlConnectionStringBuilder db, string table)
    {
        await using var conn = new NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM {table} t", conn);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Every column, constraint and index definition of the HelloJohn tables.</summary>
    private static async Task<string> SchemaAsync(NpgsqlConnectionStringBuilder db)
    {
        await using var conn = new NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT string_agg(line, E'\n' ORDER BY line) FROM (
              SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS line
              FROM information_schema.columns WHERE table_schema = 'public'
              UNION ALL
              SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
              UNION ALL
              SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
            ) s
            """, conn);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }
}
