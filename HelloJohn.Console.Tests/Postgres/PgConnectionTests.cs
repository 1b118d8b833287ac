using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Tests.Postgres;

[Trait("Capability", "Backups")]
public sealed class PgConnectionTests
{
    [Fact]
    public void Parse_PostgresUrl_ReadsEveryPartAndUnescapesThePassword()
    {
        var b = PgConnection.Parse("postgres://hello%40john:p%3Ass%2Fw%40rd@db.example.com:6543/hellojohn?sslmode=require&application_name=x");

        Assert.Equal("db.example.com", b.Host);
        Assert.Equal(6543, b.Port);
        Assert.Equal("hellojohn", b.Database);
        Assert.Equal("hello@john", b.Username);
        Assert.Equal("p:ss/w@rd", b.Password);
        Assert.Equal(SslMode.Require, b.SslMode);
    }

    [Fact]
    public void Parse_PostgresqlUrlWithoutPort_DefaultsTo5432()
    {
        var b = PgConnection.Parse("postgresql://u:p@localhost/db");
        Assert.Equal(5432, b.Port);
        Assert.Equal("db", b.Database);
    }

    [Fact]
    public void Parse_KeywordForm_IsAccepted()
    {
        var b = PgConnection.Parse("Host=127.0.0.1;Port=5433;Database=hj;Username=u;Password=secret");
        Assert.Equal(("127.0.0.1", 5433, "hj", "u"), (b.Host, b.Port, b.Database, b.Username));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("postgres://u:p@host:5432/", "names no database")]
    [InlineData("Database=hj;Username=u", "names no host")]
    [InlineData("not a connection string", "neither a postgres:// URL nor Npgsql keyword form")]
    public void Parse_BadInput_SaysWhatIsWrong(string value, string expected)
    {
        var e = Assert.Throws<FormatException>(() => PgConnection.Parse(value));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Describe_NeverIncludesThePassword()
    {
        var b = PgConnection.Parse("postgres://u:topsecret@h:5432/d");
        Assert.Equal("u@h:5432/d", b.Describe());
        Assert.DoesNotContain("topsecret", b.ToUrl(includePassword: false));
        Assert.Contains("topsecret", b.ToUrl(includePassword: true));
    }

    [Fact]
    public void ParseMajorVersion_ReadsPgDumpOutput()
    {
        Assert.Equal(15, PgBinaries.ParseMajorVersion("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"));
        Assert.Equal(0, PgBinaries.ParseMajorVersion("garbage"));
    }
}
