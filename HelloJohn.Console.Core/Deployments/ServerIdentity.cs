using System.Net;
using HelloJohn.Console.Core.Hosting;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace HelloJohn.Console.Core.Deployments;

/// <summary>Tells whether two connections reach one PostgreSQL server: by the server's system identifier when it can be
/// read (the same server reached as localhost and as 127.0.0.1 is one server), else by host and port.</summary>
public static class ServerIdentity
{
    /// <summary>The identity of the server <paramref name="conn"/> is connected to.</summary>
    public static async Task<string> OfAsync(NpgsqlConnection conn, NpgsqlConnectionStringBuilder address, CancellationToken ct)
    {
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT system_identifier::text FROM pg_control_system()", conn);
            if (await cmd.ExecuteScalarAsync(ct) is string id)
            {
                return "system:" + id;
            }
        }
        catch (PostgresException)
        {
            // Managed providers may refuse it: fall back to the address.
        }

        return Address(address);
    }

    /// <summary>host:port as an identity, with loopback names made one.</summary>
    public static string Address(NpgsqlConnectionStringBuilder address)
    {
        var host = (address.Host ?? "").Trim().ToLowerInvariant();
        if (host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip)))
        {
            host = "loopback";
        }

        return $"address:{host}:{address.Port}";
    }
}

/// <summary>The console's own database, which no deployment may select: backing it up as HelloJohn's would be harmless,
/// restoring over it would not.</summary>
public sealed class ConsoleDatabaseGuard(IConfiguration configuration)
{
    private readonly SemaphoreSlim _once = new(1, 1);
    private string? _identity;

    public NpgsqlConnectionStringBuilder Connection =>
        new(configuration.GetConnectionString(ConsoleCoreExtensions.ConsoleConnectionName) ?? "");

    public string DatabaseName => Connection.Database ?? "";

    /// <summary>The console database's server identity, read once.</summary>
    public async Task<string> IdentityAsync(CancellationToken ct)
    {
        await _once.WaitAsync(ct);
        try
        {
            if (_identity is null)
            {
                var connection = Connection;
                await using var conn = new NpgsqlConnection(connection.ConnectionString);
                await conn.OpenAsync(ct);
                _identity = await ServerIdentity.OfAsync(conn, connection, ct);
            }

            return _identity;
        }
        finally
        {
            _once.Release();
        }
    }

    /// <summary>Whether <paramref name="database"/> on the server of identity <paramref name="serverIdentity"/> (reached at
    /// <paramref name="address"/>) is the console's own database.</summary>
    public async Task<bool> IsConsoleDatabaseAsync(string serverIdentity, NpgsqlConnectionStringBuilder address, string database, CancellationToken ct)
    {
        if (!string.Equals(database, DatabaseName, StringComparison.Ordinal))
        {
            return false;
        }

        return serverIdentity == await IdentityAsync(ct) || ServerIdentity.Address(address) == ServerIdentity.Address(Connection);
    }
}
