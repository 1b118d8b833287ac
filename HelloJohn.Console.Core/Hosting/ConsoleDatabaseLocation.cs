using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Hosting;

/// <summary>Where the console's own database keeps its files, when the console can know it: the embedded cluster's data
/// folder, or a PostgreSQL server on this machine that tells its <c>data_directory</c> (superuser or
/// pg_read_all_settings). Null for a server elsewhere: its disk is not this machine's.</summary>
public sealed class ConsoleDatabaseLocation(IServiceProvider services, IConfiguration configuration, ILogger<ConsoleDatabaseLocation> logger)
{
    private readonly SemaphoreSlim _once = new(1, 1);
    private bool _looked;
    private string? _dataDirectory;

    public async Task<string?> DataDirectoryAsync(CancellationToken ct)
    {
        await _once.WaitAsync(ct);
        try
        {
            if (!_looked)
            {
                _dataDirectory = await LookAsync(ct);
                _looked = true;
            }

            return _dataDirectory;
        }
        finally
        {
            _once.Release();
        }
    }

    private async Task<string?> LookAsync(CancellationToken ct)
    {
        if (services.GetService<EmbeddedDefault>() is { ConsoleConnectionString.Length: > 0 } embedded)
        {
            return embedded.Cluster.DataDirectory;
        }

        var connection = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString(ConsoleCoreExtensions.ConsoleConnectionName) ?? "") { Timeout = 5 };
        if (!IsThisMachine(connection.Host))
        {
            return null;
        }

        try
        {
            await using var conn = new NpgsqlConnection(connection.ConnectionString);
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT current_setting('data_directory')", conn);
            return await cmd.ExecuteScalarAsync(ct) as string;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Not allowed to read it: the console does not know, and says nothing.
            logger.LogDebug("The console database's data_directory could not be read: {Message}", e.Message);
            return null;
        }
    }

    private static bool IsThisMachine(string? host) =>
        !string.IsNullOrWhiteSpace(host)
        && host.Split(',').All(h => h.StartsWith('/') || h.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(h, out var ip) && IPAddress.IsLoopback(ip)));
}
