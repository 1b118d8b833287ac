using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Finds the verification databases that crashed runs left on a server and drops them, unless a live run
/// owns one, sessions still use it, or it is recent and unknown to this console. A run whose console instance died is
/// ended first (through the run sweep's own path, which drops its database).</summary>
public sealed class VerificationLeftovers(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RunSweeper sweeper,
    IOptionsMonitor<VerificationOptions> options,
    TimeProvider time,
    ILogger<VerificationLeftovers> logger)
{
    /// <summary>Tidies <paramref name="server"/>; returns a report for the run, or null when there was nothing.</summary>
    public async Task<string?> SweepAsync(NpgsqlConnectionStringBuilder server, Guid currentRunId, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(server.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        var found = (await ServerDatabases.ListAsync(conn, DatabaseNames.VerificationPrefix, ct))
            .Where(d => DatabaseNames.IsVerificationDatabase(d.Name)).ToList();
        if (found.Count == 0)
        {
            return null;
        }

        var notes = new List<string>();
        foreach (var (name, sessions) in found)
        {
            if (await NoteAsync(conn, server, name, sessions, currentRunId, ct) is { } note)
            {
                notes.Add(note);
            }
        }

        return notes.Count == 0 ? null : $"Found {notes.Count} leftover verification database(s): {string.Join(", ", notes)}.";
    }

    private async Task<string?> NoteAsync(NpgsqlConnection conn, NpgsqlConnectionStringBuilder server, string name, int sessions, Guid currentRunId, CancellationToken ct)
    {
        RunRecord? owner;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            owner = await db.Set<VerificationRun>().AsNoTracking().Where(r => r.DatabaseName == name).OrderByDescending(r => r.Run!.CreatedAt)
                .Select(r => r.Run).FirstOrDefaultAsync(ct);
            if (owner is { Status: RunStatus.Running, OwnerInstanceId: { } instance } && owner.Id != currentRunId && !await ConsoleInstance.IsAliveAsync(db, instance, ct))
            {
                // Its console died: end the run as the sweep would, which drops this database.
                await sweeper.EndAbandonedAsync(owner, ct);
                return await ServerDatabases.ExistsAsync(conn, name, ct) ? $"{name} (could not be dropped; see its run)" : $"{name} (dropped)";
            }
        }

        if (owner is not null && (owner.Id == currentRunId || owner.IsActive))
        {
            return null;
        }

        var grace = options.CurrentValue.LeftoverGracePeriod;
        if (owner is null && DatabaseNames.CreatedAt(name) is { } made && time.GetUtcNow() - made < grace)
        {
            // Not ours and recent: another console sharing this server, or HelloJohn's own script, may be using it.
            return $"{name} (not made by this console and younger than {grace.TotalHours:0} h, left alone)";
        }

        if (sessions > 0)
        {
            return $"{name} (in use by {sessions} session(s), left alone)";
        }

        try
        {
            await ServerDatabases.DropAsync(conn, name, force: false, ct);
            logger.LogWarning("Dropped {Database}, left on {Server} by a verification that did not finish", name, $"{server.Host}:{server.Port}");
            if (owner is not null)
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                await db.Set<VerificationRun>().Where(r => r.Id == owner.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.DatabaseDropped, true), ct);
            }

            return $"{name} (dropped)";
        }
        catch (PostgresException e)
        {
            return $"{name} (could not be dropped: {e.MessageText})";
        }
    }
}
