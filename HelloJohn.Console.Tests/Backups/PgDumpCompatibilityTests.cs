using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Tests.Backups;

/// <summary>pg_dump cannot dump a newer server: the backup refuses first and names the package to install.</summary>
[Trait("Capability", "Backups")]
public sealed class PgDumpCompatibilityTests
{
    [Theory]
    [InlineData("pg_dump (PostgreSQL) 15.18 (Debian 15.18-1.pgdg120+1)", "17.2 (Ubuntu 17.2-1.pgdg24.04+1)", "17")]
    [InlineData("pg_dump (PostgreSQL) 15.18", "16.4", "16")]
    [InlineData("pg_dump (PostgreSQL) 9.6.24", "10.23", "10")]
    public void EnsureCanDump_ClientOlderThanServer_RefusesNamingThePackage(string pgDump, string server, string major)
    {
        var e = Assert.Throws<PgDumpFailedException>(() => PgDumpCompatibility.EnsureCanDump(pgDump, server, "hellojohn@db:5432/hellojohn"));

        Assert.Contains($"older than PostgreSQL {server} on hellojohn@db:5432/hellojohn", e.Message, StringComparison.Ordinal);
        Assert.Contains($"Install postgresql-client-{major}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"HELLOJOHN_PG_BIN to /usr/lib/postgresql/{major}/bin", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("Nothing was written.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pg_dump (PostgreSQL) 17.2", "17.0")]
    [InlineData("pg_dump (PostgreSQL) 17.2", "15.18")]
    [InlineData("pg_dump (PostgreSQL) 15.1", "15.18")] // an older minor release of the same major dumps fine
    [InlineData("not a version", "17.2")] // unreadable: pg_dump itself decides
    public void EnsureCanDump_ClientAtLeastTheServersMajor_Passes(string pgDump, string server) =>
        PgDumpCompatibility.EnsureCanDump(pgDump, server, "db");
}
