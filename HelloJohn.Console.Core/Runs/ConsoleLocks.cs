using System.Security.Cryptography;
using System.Text;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Runs;

/// <summary>PostgreSQL advisory locks in the console database. Every console instance shares that database, so a lock
/// taken here keeps work single across instances (a restore into one database, retention of one target, the sweep).
/// Each lock lives on a connection of its own: it is released when the holder disposes it or when its process dies
/// and the session ends. (An instance's own proof of life is held by <see cref="ConsoleInstance"/>.)</summary>
public sealed class ConsoleLocks(IDbContextFactory<ConsoleDbContext> dbFactory)
{
    /// <summary>Takes the lock named <paramref name="scope"/> without waiting; null when someone else holds it.</summary>
    public async Task<ConsoleLock?> TryAcquireAsync(string scope, CancellationToken ct)
    {
        var key = KeyFor(scope);
        var conn = new NpgsqlConnection(await UnpooledConsoleConnectionAsync(ct));
        try
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", conn) { Parameters = { new() { Value = key } } };
            if ((bool)(await cmd.ExecuteScalarAsync(ct))!)
            {
                return new ConsoleLock(conn, key);
            }
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }

        await conn.DisposeAsync();
        return null;
    }

    /// <summary>Takes the lock named <paramref name="scope"/>, waiting up to <paramref name="wait"/> for its holder to
    /// let go (retention holds a target's for a moment after every backup); null when it is still held after that.</summary>
    public async Task<ConsoleLock?> WaitAsync(string scope, TimeSpan wait, TimeProvider time, CancellationToken ct)
    {
        var until = time.GetUtcNow() + wait;
        while (true)
        {
            if (await TryAcquireAsync(scope, ct) is { } held)
            {
                return held;
            }

            if (time.GetUtcNow() >= until)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), time, ct);
        }
    }

    /// <summary>Whether some session holds the lock named <paramref name="scope"/> right now.</summary>
    public async Task<bool> IsHeldAsync(string scope, CancellationToken ct)
    {
        await using var probe = await TryAcquireAsync(scope, ct);
        return probe is null;
    }

    /// <summary>A stable 64-bit key for a lock name; the name keeps each feature's locks apart from the others'.</summary>
    public static long KeyFor(string scope) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("hellojohn-console:" + scope)), 0);

    public static string ForRestore(Guid targetId, string database) => $"restore:{targetId:N}:{database}";

    public static string ForRetention(Guid targetId) => $"retention:{targetId:N}";

    /// <summary>Backups of one database of a target (a set's members run side by side, one per database).</summary>
    public static string ForBackups(Guid targetId, string? database = null) => database is null ? $"backups:{targetId:N}" : $"backups:{targetId:N}:{database}";

    /// <summary>Base backups of one server streaming WAL: one pg_basebackup at a time.</summary>
    public static string ForBaseBackup(Guid targetId) => $"pitr-basebackup:{targetId:N}";

    public const string Sweep = "runs:sweep";

    private async Task<string> UnpooledConsoleConnectionAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Not pooled: a pooled session would outlive Dispose and keep the lock.
        return new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString()) { Pooling = false }.ConnectionString;
    }
}

/// <summary>A held advisory lock. Disposing releases it and closes its connection.</summary>
public sealed class ConsoleLock(NpgsqlConnection conn, long key) : IAsyncDisposable
{
    /// <summary>Whether the session holding the lock still answers; a dropped session has lost the lock.</summary>
    public async Task<bool> IsAliveAsync(CancellationToken ct)
    {
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync(ct);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", conn) { Parameters = { new() { Value = key } } };
            await cmd.ExecuteScalarAsync(CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // The session is gone, and with it the lock.
        }
        finally
        {
            await conn.DisposeAsync();
        }
    }
}
