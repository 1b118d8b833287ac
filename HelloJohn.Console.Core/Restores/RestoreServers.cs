using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Where a restore goes: its target's server, or a PostgreSQL server the person named in the request (a target
/// re-created by a catalog rebuild has no connection of its own; a new server after a disaster is not a target yet).
/// A named server's connection string is tried before the request is accepted, kept encrypted with its run only until
/// the run has ended and cleaned up, and never logged or shown: only its address is.</summary>
public sealed class RestoreServers(IDbContextFactory<Data.ConsoleDbContext> dbFactory, TargetService targets, IDataProtectionProvider protection)
{
    private readonly IDataProtector _protector = protection.CreateProtector("HelloJohn.Console.Restores.NamedServer");

    /// <summary>Reads and tries a connection string a person typed. Throws <see cref="RestoreRefusedException"/> saying
    /// why it cannot be used, never with the password.</summary>
    public async Task<NpgsqlConnectionStringBuilder> ParseAndReachAsync(string typed, CancellationToken ct)
    {
        NpgsqlConnectionStringBuilder connection;
        try
        {
            connection = PgConnection.Parse(typed);
        }
        catch (FormatException e)
        {
            throw new RestoreRefusedException($"The server to restore into: {e.Message} Nothing was restored.");
        }

        if (await Deployments.DeploymentScanner.ReachProblemAsync(connection, ct) is { } problem)
        {
            throw new RestoreRefusedException($"The console could not reach the server to restore into, {connection.Describe()}: {problem} Nothing was restored.");
        }

        return connection;
    }

    /// <summary>The target's own connection; <see cref="RestoreRefusedException"/> when it has none, saying both ways out.</summary>
    public async Task<NpgsqlConnectionStringBuilder> OfTargetAsync(Guid targetId, CancellationToken ct)
    {
        var target = await targets.GetAsync(targetId, ct);
        if (target.Source == TargetConnectionSource.Unset)
        {
            throw new RestoreRefusedException(NoConnection(target.Name) + " Nothing was restored.");
        }

        return await targets.GetConnectionAsync(targetId, ct);
    }

    /// <summary>Says that a target has no connection and what to do about it.</summary>
    public static string NoConnection(string targetName) =>
        $"The target '{targetName}' has no connection: it was re-created from its backup manifests by a catalog rebuild. " +
        "Restore into a new database on a server you name (its connection string), or have an administrator give the target its connection under Settings → Targets.";

    internal string Protect(NpgsqlConnectionStringBuilder connection) => _protector.Protect(connection.ConnectionString);

    /// <summary>The server a restore run goes into: the one named in its request, else its target's.</summary>
    internal async Task<NpgsqlConnectionStringBuilder> ForRunAsync(RestoreRun run, Guid targetId, CancellationToken ct) =>
        run.ProtectedServerConnection is { } named
            ? PgConnection.Parse(_protector.Unprotect(named))
            : await OfTargetAsync(targetId, ct);

    /// <summary>Forgets a run's named server once the run has ended and its leftovers are cleaned up.</summary>
    internal async Task ForgetAsync(Guid runId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Set<RestoreRun>().Where(r => r.Id == runId && r.ProtectedServerConnection != null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ProtectedServerConnection, (string?)null), CancellationToken.None);
    }
}
