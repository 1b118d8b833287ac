using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification.Scratch;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Verification;

/// <summary>The server one verification restores into, held until the run is done (a scratch cluster stays up while
/// any run uses it).</summary>
public sealed class VerificationServer(NpgsqlConnectionStringBuilder server, string description, IAsyncDisposable? lease) : IAsyncDisposable
{
    /// <summary>A role that may create databases, connected to a maintenance database.</summary>
    public NpgsqlConnectionStringBuilder Connection => server;

    /// <summary>Where the run restored, for its record ("the console's scratch cluster (PostgreSQL 15, 127.0.0.1:41234)").</summary>
    public string Description => description;

    public ValueTask DisposeAsync() => lease?.DisposeAsync() ?? ValueTask.CompletedTask;
}

/// <summary>Chooses where a verification restores (<c>Verification__RestoreInto</c>): the console's private scratch
/// cluster by default, of the backed-up server's major version or newer, so the production server only ever serves
/// the dump; the target's own server, or the configured scratch server, when chosen.</summary>
public sealed class VerificationServers(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    ScratchCluster scratch,
    IPgToolRunner pgTools,
    IOptionsMonitor<VerificationOptions> options,
    ILogger<VerificationServers> logger)
{
    public async Task<VerificationServer> AcquireAsync(Guid runId, Guid targetId, Guid? backupId, CancellationToken ct)
    {
        var o = options.CurrentValue;
        var choice = o.EffectiveRestoreInto;
        if (choice == VerificationServerChoice.PrivateCluster)
        {
            var major = await SourceMajorAsync(backupId, ct);
            try
            {
                var lease = await scratch.AcquireAsync(major, ct);
                return new VerificationServer(lease.Server, lease.Description, lease);
            }
            catch (ScratchClusterUnavailableException e) when (o.FallBackToServer)
            {
                choice = string.IsNullOrWhiteSpace(o.ScratchServer) ? VerificationServerChoice.TargetServer : VerificationServerChoice.ScratchServer;
                logger.LogWarning("No scratch cluster can run for PostgreSQL {Major} here; verifying on the {Choice} as Verification__FallBackToServer allows. {Reason}",
                    major, choice == VerificationServerChoice.TargetServer ? "target's server" : "configured scratch server", e.Message);
            }
            catch (ScratchClusterUnavailableException e)
            {
                throw new VerificationFailedException(runId, e.Message, e);
            }
        }

        var server = choice == VerificationServerChoice.ScratchServer
            ? PgConnection.Parse(o.ScratchServer!)
            : await targets.GetConnectionAsync(targetId, ct);
        return new VerificationServer(server, $"{server.Host}:{server.Port}", null);
    }

    /// <summary>The major version of the server the backup was taken from, as the catalog recorded it; the console's
    /// pg_dump's for a backup that predates that record.</summary>
    private async Task<int> SourceMajorAsync(Guid? backupId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var version = await db.Backups.Where(b => b.Id == backupId).Select(b => b.ServerVersion).FirstOrDefaultAsync(ct);
        return PostgresVersion.TryParse(version) is { } v ? v.Major / 100 : pgTools.Binaries.MajorVersion;
    }
}
