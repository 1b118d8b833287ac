using HelloJohn.Console.Core.Demo;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Hosting;

/// <summary>The zero-configuration mode: a private PostgreSQL cluster under the data folder holding the console's own
/// database and a demo HelloJohn deployment: a database with synthetic users, sessions and organizations, and three
/// tenant databases of different sizes beside it (<see cref="DemoTenantDatabase.DemoTenants"/>), so backups are sets
/// from the first click.</summary>
public sealed class EmbeddedDefault(LocalPostgresCluster cluster, string consoleConnection, string targetConnection, bool seeded)
{
    public const string ConsoleDatabase = "hellojohn_console";
    public const string ConsoleRole = "hellojohn_console";
    public const string DemoDatabase = "hellojohn";
    public const string DemoRole = "hellojohn";
    public const int DemoUsers = 5000;

    public LocalPostgresCluster Cluster => cluster;
    public string ConsoleConnectionString => consoleConnection;
    public string TargetConnectionString => targetConnection;
    public bool SeededDemoData => seeded;

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

        NpgsqlConnection.ClearAllPools();
        return new EmbeddedDefault(cluster, consoleConn, targetConn, seeded);
    }

    private sealed record RolePasswords(string Console, string Demo)
    {
        public static async Task<RolePasswords> LoadOrCreateAsync(string path, CancellationToken ct)
        {
            if (File.Exists(path))
            {
                return System.Text.Json.JsonSerializer.Deserialize<RolePasswords>(await File.ReadAllTextAsync(path, ct))!;
            }

            static string NewPassword() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).Replace('/', '_').Replace('+', '-');
            var created = new RolePasswords(NewPassword(), NewPassword());
            await using (var _ = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            {
            }

            await File.WriteAllTextAsync(path, System.Text.Json.JsonSerializer.Serialize(created), ct);
            return created;
        }
    }
}
