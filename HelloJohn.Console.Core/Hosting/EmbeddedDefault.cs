using HelloJohn.Console.Core.Demo;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Hosting;

/// <summary>The zero-configuration mode: a private PostgreSQL cluster under the data folder holding the console's own
/// database and a demo HelloJohn deployment: a database with synthetic users, sessions and organizations, and three
/// tenant databases of different sizes beside it (<see cref="DemoTenantDatabase.DemoTenants"/>), so backups are sets
/// from the first click.</summary>
public sealed class EmbeddedDefault(LocalPostgresCluster cluster, string consoleConnection, string targetConnection, bool seeded, string replicationConnection = "")
{
    public const string ConsoleDatabase = "hellojohn_console";
    public const string ConsoleRole = "hellojohn_console";
    public const string DemoDatabase = "hellojohn";
    public const string DemoRole = "hellojohn";
    public const int DemoUsers = 5000;
    /// <summary>The role the console streams WAL and takes base backups with (REPLICATION, nothing else).</summary>
    public const string ReplicationRole = "hellojohn_replication";

    public LocalPostgresCluster Cluster => cluster;
    public string ConsoleConnectionString => consoleConnection;
    public string TargetConnectionString => targetConnection;
    public bool SeededDemoData => seeded;
    /// <summary>For point-in-time recovery of the demo database: loopback replication is allowed by initdb's pg_hba.conf.</summary>
    public string ReplicationConnectionString => replicationConnection;

    /// <summary>Starts (or reuses) the cluster in <c>{dataDirectory}/postgres</c> and makes sure both databases exist.</summary>
    public static async Task<EmbeddedDefault> StartAsync(string dataDirectory, ILoggerFactory loggerFactory, bool needConsole, bool needTarget, CancellationToken ct = default)
    {
        var binaries = PgBinaries.Locate();
        var runner = new PgToolRunner(binaries, loggerFactory.CreateLogger<PgToolRunner>());
        var cluster = await LocalPostgresCluster.StartAsync(Path.Combine(dataDirectory, "postgres"), runner, loggerFactory.CreateLogger<LocalPostgresCluster>(), ct: ct);
        var passwords = await RolePasswords.LoadOrCreateAsync(Path.Combine(cluster.Root, "roles.json"), ct);

        var consoleConn = "";
        if (needConsole)
        {
            await cluster.EnsureDatabaseAsync(ConsoleDatabase, ConsoleRole, passwords.Console, canCreateDatabases: false, ct);
            consoleConn = cluster.ConnectionFor(ConsoleDatabase, ConsoleRole, passwords.Console).ConnectionString;
        }

        var targetConn = "";
        var seeded = false;
        if (needTarget)
        {
            // The demo role owns its database and may create databases: verification and restores into a new
            // database need that, as they would on a real HelloJohn server.
            await cluster.EnsureDatabaseAsync(DemoDatabase, DemoRole, passwords.Demo, canCreateDatabases: true, ct);
            var demo = cluster.ConnectionFor(DemoDatabase, DemoRole, passwords.Demo);
            seeded = await DemoHelloJohnDatabase.EnsureAsync(demo, DemoUsers, ct);
            foreach (var (tenant, users) in DemoTenantDatabase.DemoTenants)
            {
                await cluster.EnsureDatabaseAsync(tenant, DemoRole, passwords.Demo, canCreateDatabases: true, ct);
                seeded |= await DemoTenantDatabase.EnsureAsync(demo.WithDatabase(tenant), tenant, users, ct);
            }

            targetConn = demo.ConnectionString;
        }

        var replication = "";
        if (needTarget)
        {
            passwords = await passwords.WithReplicationAsync(Path.Combine(cluster.Root, "roles.json"), ct);
            await EnsureReplicationRoleAsync(cluster, passwords.Replication!, ct);
            replication = cluster.ConnectionFor(DemoDatabase, ReplicationRole, passwords.Replication).ConnectionString;
        }

        NpgsqlConnection.ClearAllPools();
        return new EmbeddedDefault(cluster, consoleConn, targetConn, seeded, replication);
    }

    private static async Task EnsureReplicationRoleAsync(LocalPostgresCluster cluster, string password, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", conn) { Parameters = { new() { Value = ReplicationRole } } };
        var verb = await exists.ExecuteScalarAsync(ct) is null ? "CREATE" : "ALTER";
        // Passwords cannot be bound as parameters in DDL; the literal is escaped by doubling quotes.
        await using var ddl = new NpgsqlCommand($"{verb} ROLE {LocalPostgresCluster.QuoteIdent(ReplicationRole)} WITH LOGIN REPLICATION PASSWORD {LocalPostgresCluster.QuoteLiteral(password)}", conn);
        await ddl.ExecuteNonQueryAsync(ct);
    }

    private sealed record RolePasswords(string Console, string Demo, string? Replication = null)
    {
        /// <summary>Adds the replication role's password to a file written before point-in-time recovery existed.</summary>
        public async Task<RolePasswords> WithReplicationAsync(string path, CancellationToken ct)
        {
            if (Replication is not null)
            {
                return this;
            }

            var updated = this with { Replication = NewPassword() };
            await File.WriteAllTextAsync(path, System.Text.Json.JsonSerializer.Serialize(updated), ct);
            return updated;
        }

        private static string NewPassword() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).Replace('/', '_').Replace('+', '-');

        public static async Task<RolePasswords> LoadOrCreateAsync(string path, CancellationToken ct)
        {
            if (File.Exists(path))
            {
                return System.Text.Json.JsonSerializer.Deserialize<RolePasswords>(await File.ReadAllTextAsync(path, ct))!;
            }

            var created = new RolePasswords(NewPassword(), NewPassword(), NewPassword());
            await using (var _ = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            {
            }

            await File.WriteAllTextAsync(path, System.Text.Json.JsonSerializer.Serialize(created), ct);
            return created;
        }
    }
}
