using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>What the replication protocol says about the server: who it is and where its WAL is.</summary>
public sealed record ServerIdentity(string SystemIdentifier, int Timeline, Lsn WalPosition);

/// <summary>Which servers stream WAL to the console, and how to reach them for replication. The results hold a
/// password: never log or show them.</summary>
public sealed class PitrConnections(TargetService targets, IOptionsMonitor<PitrOptions> options)
{
    /// <summary>Self-managed servers (and Docker Compose ones) with a connection, when PITR is on. Managed providers
    /// (Neon, Supabase, RDS) keep WAL themselves and allow no replication connection from outside.</summary>
    public async Task<IReadOnlyList<TargetSummary>> ProtectedAsync(CancellationToken ct) =>
        !options.CurrentValue.Enabled
            ? []
            : (await targets.ListAsync(ct)).Where(IsEligible).ToList();

    public static bool IsEligible(TargetSummary t) =>
        t.Provider is TargetProvider.SelfManaged or TargetProvider.DockerCompose && t.Source != TargetConnectionSource.Unset;

    public string SlotName(Guid server) => options.CurrentValue.SlotPrefix + server.ToString("N")[..16];

    /// <summary>The connection used for pg_receivewal, pg_basebackup and the readiness queries.</summary>
    public async Task<NpgsqlConnectionStringBuilder> ReplicationAsync(Guid server, CancellationToken ct)
    {
        var target = await targets.GetAsync(server, ct);
        var url = options.CurrentValue.ReplicationUrl;
        if (target.Source == TargetConnectionSource.Environment && !string.IsNullOrWhiteSpace(url))
        {
            return PgConnection.Parse(url);
        }

        return await targets.GetConnectionAsync(server, ct);
    }

    /// <summary>IDENTIFY_SYSTEM over a replication connection (it also proves the role may replicate).</summary>
    public static async Task<ServerIdentity> IdentifyAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        var b = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false, Timeout = 15 };
        await using var replication = new PhysicalReplicationConnection(b.ConnectionString);
        await replication.Open(ct);
        var id = await replication.IdentifySystem(ct);
        return new ServerIdentity(id.SystemId, (int)id.Timeline, new Lsn((ulong)id.XLogPos));
    }
}
