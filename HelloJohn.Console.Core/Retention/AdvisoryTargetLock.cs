using Npgsql;

namespace HelloJohn.Console.Core.Retention;

/// <summary>A PostgreSQL session-level advisory lock on the console database, held on a connection of its own, so two
/// console instances sharing that database never work on the same target at once. Disposing releases it; so does the
/// server if the process dies, since the session ends.</summary>
internal sealed class AdvisoryTargetLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly int _scope;
    private readonly int _key;

    private AdvisoryTargetLock(NpgsqlConnection connection, int scope, int key)
    {
        _connection = connection;
        _scope = scope;
        _key = key;
    }

    /// <summary>Takes the lock for <paramref name="targetId"/> in <paramref name="scope"/>, or returns null at once when
    /// another session holds it.</summary>
    public static async Task<AdvisoryTargetLock?> TryAcquireAsync(string connectionString, int scope, Guid targetId, CancellationToken ct)
    {
        // Unpooled: closing must end the session, so a lock can never stay behind in a pooled connection.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "hellojohn-console-lock" };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            var key = KeyOf(targetId);
            await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock($1, $2)", connection)
            {
                Parameters = { new() { Value = scope }, new() { Value = key } },
            };
            if (await cmd.ExecuteScalarAsync(ct) is true)
            {
                return new AdvisoryTargetLock(connection, scope, key);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock($1, $2)", _connection)
            {
                Parameters = { new() { Value = _scope }, new() { Value = _key } },
            };
            await cmd.ExecuteScalarAsync(CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // Closing the session below releases it anyway.
        }

        await _connection.DisposeAsync();
    }

    private static int KeyOf(Guid targetId)
    {
        // Two targets sharing a key would only run one after the other, never both at once: a fold is enough.
        Span<byte> bytes = stackalloc byte[16];
        targetId.TryWriteBytes(bytes);
        return BitConverter.ToInt32(bytes[..4]) ^ BitConverter.ToInt32(bytes[4..8]) ^ BitConverter.ToInt32(bytes[8..12]) ^ BitConverter.ToInt32(bytes[12..]);
    }
}
