using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Targets;

public sealed record TargetSummary(Guid Id, string Name, string? DisplayAddress, string? BaseUrl, TargetProvider Provider, TargetConnectionSource Source);

/// <summary>Knows the HelloJohn databases under protection and how to reach them. Connection strings with passwords
/// are stored encrypted; the one from HELLOJOHN_DATABASE_URL is read from configuration at each use.</summary>
public sealed class TargetService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IOptionsMonitor<TargetOptions> options,
    IDataProtectionProvider protection,
    IAuditLog audit,
    CallerGate gate,
    TimeProvider time,
    ILogger<TargetService> logger)
{
    private readonly IDataProtector _protector = protection.CreateProtector("HelloJohn.Console.Targets.ConnectionString");

    /// <summary>Creates or refreshes the target that HELLOJOHN_DATABASE_URL names. Called at start.</summary>
    /// <remarks>Its name is its identity (every manifest carries it; a catalog rebuild matches on it), so it is taken from
    /// HELLOJOHN_TARGET_NAME once, when the target is created. After that the console database's name wins: instances
    /// sharing one console database never rename it back and forth from their own environments, and one whose variable
    /// differs says so in its log. How to reach HelloJohn (address, base URL, provider) follows the environment.</remarks>
    public async Task<Guid> EnsureEnvironmentTargetAsync(CancellationToken ct)
    {
        var o = options.CurrentValue;
        var connection = PgConnection.Parse(o.DatabaseUrl!);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Two instances starting at once must not both create it.
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtext('hellojohn-console:environment-target'))", ct);
        var target = await db.Targets.FirstOrDefaultAsync(t => t.ConnectionSource == TargetConnectionSource.Environment, ct);
        if (target is null)
        {
            target = new BackupTarget { Id = Guid.NewGuid(), Name = o.Name, CreatedAt = time.GetUtcNow(), ConnectionSource = TargetConnectionSource.Environment };
            db.Targets.Add(target);
        }
        else if (!string.Equals(target.Name, o.Name, StringComparison.Ordinal))
        {
            logger.LogWarning(
                "HELLOJOHN_TARGET_NAME is '{Configured}' here, but the target is named '{Stored}' in the console database, which wins: the name is set once, when the target is created, so instances sharing the database never rename it",
                o.Name, target.Name);
        }

        target.BaseUrl = string.IsNullOrWhiteSpace(o.BaseUrl) ? null : o.BaseUrl.TrimEnd('/');
        target.Provider = o.Provider;
        target.DisplayAddress = connection.Describe();
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return target.Id;
    }

    public async Task<IReadOnlyList<TargetSummary>> ListAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Targets.AsNoTracking().OrderBy(t => t.Name)
            .Select(t => new TargetSummary(t.Id, t.Name, t.DisplayAddress, t.BaseUrl, t.Provider, t.ConnectionSource))
            .ToListAsync(ct);
    }

    public async Task<TargetSummary> GetAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Targets.AsNoTracking().Where(t => t.Id == id)
            .Select(t => new TargetSummary(t.Id, t.Name, t.DisplayAddress, t.BaseUrl, t.Provider, t.ConnectionSource))
            .FirstOrDefaultAsync(ct) ?? throw new KeyNotFoundException($"No target with id {id}.");
    }

    /// <summary>The default target: the one from the environment, else the first by name.</summary>
    public async Task<TargetSummary?> GetDefaultAsync(CancellationToken ct)
    {
        var all = await ListAsync(ct);
        return all.FirstOrDefault(t => t.Source == TargetConnectionSource.Environment) ?? all.FirstOrDefault();
    }

    /// <summary>How to connect to the target. The result holds a password: never log or display it.</summary>
    public async Task<NpgsqlConnectionStringBuilder> GetConnectionAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var target = await db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct)
            ?? throw new KeyNotFoundException($"No target with id {id}.");
        if (target.ConnectionSource == TargetConnectionSource.Unset)
        {
            throw new InvalidOperationException($"Target '{target.Name}' has no connection: it was re-created from its backup manifests by a catalog rebuild. Nothing was run against it. An administrator gives it its connection again under Settings → Targets (Set connection).");
        }

        return target.ConnectionSource == TargetConnectionSource.Environment
            ? PgConnection.Parse(options.CurrentValue.DatabaseUrl!)
            : PgConnection.Parse(_protector.Unprotect(target.ProtectedConnectionString!));
    }

    /// <summary>Gives a target its connection: one re-created by a catalog rebuild (it has none), or a stored one whose
    /// server or password changed. The connection is tried first (and refused, with nothing changed, when it cannot
    /// reach the database); it is stored encrypted and never shown or logged again. Admin only, audited with the
    /// address alone. A target from HELLOJOHN_DATABASE_URL follows its variable and is refused here.</summary>
    public async Task<TargetSummary> SetConnectionAsync(Actor actor, Guid targetId, string connectionString, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageSettings, AuditActions.TargetConnectionSet, targetId.ToString(), ct);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var target = await db.Targets.FirstOrDefaultAsync(t => t.Id == targetId, ct)
            ?? throw new KeyNotFoundException($"There is no target with id {targetId}. Nothing was changed.");
        if (target.ConnectionSource == TargetConnectionSource.Environment)
        {
            throw new InvalidOperationException(
                $"Target '{target.Name}' takes its connection from HELLOJOHN_DATABASE_URL. Change that variable and restart the console; nothing was changed here.");
        }

        NpgsqlConnectionStringBuilder connection;
        try
        {
            connection = PgConnection.Parse(connectionString);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"{e.Message} Nothing was changed.", e);
        }

        if (await ReachProblemAsync(connection, ct) is { } problem)
        {
            await audit.RecordAsync(actor, AuditActions.TargetConnectionSet, target.Name, AuditOutcome.Failed, $"{connection.Describe()} could not be reached: {problem}", ct);
            throw new InvalidOperationException($"The console could not reach {connection.Describe()}: {problem} Nothing was changed.");
        }

        var was = target.ConnectionSource;
        target.ConnectionSource = TargetConnectionSource.Stored;
        target.ProtectedConnectionString = _protector.Protect(connection.ConnectionString);
        target.DisplayAddress = connection.Describe();
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(actor, AuditActions.TargetConnectionSet, target.Name, AuditOutcome.Succeeded,
            $"{(was == TargetConnectionSource.Unset ? "Connection given" : "Connection replaced")}: {target.DisplayAddress} (stored encrypted).", ct);
        return new TargetSummary(target.Id, target.Name, target.DisplayAddress, target.BaseUrl, target.Provider, target.ConnectionSource);
    }

    /// <summary>Why the database cannot be reached with <paramref name="connection"/>, in words without credentials; null when it can.</summary>
    private static async Task<string?> ReachProblemAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        var probe = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Timeout = 10, Pooling = false };
        try
        {
            await using var conn = new NpgsqlConnection(probe.ConnectionString);
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync(ct);
            return null;
        }
        catch (PostgresException e)
        {
            return $"PostgreSQL said: {e.MessageText} ({e.SqlState}).";
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return "no PostgreSQL answered there (check host, port and network).";
        }
    }

    /// <summary>Adds a target whose connection is stored (encrypted) in the console database, e.g. staging.</summary>
    public async Task<Guid> AddStoredAsync(string name, string connectionString, string? baseUrl, TargetProvider provider, CancellationToken ct)
    {
        var connection = PgConnection.Parse(connectionString);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var target = new BackupTarget
        {
            Id = Guid.NewGuid(),
            Name = name,
            ConnectionSource = TargetConnectionSource.Stored,
            ProtectedConnectionString = _protector.Protect(connection.ConnectionString),
            BaseUrl = baseUrl,
            Provider = provider,
            DisplayAddress = connection.Describe(),
            CreatedAt = time.GetUtcNow(),
        };
        db.Targets.Add(target);
        await db.SaveChangesAsync(ct);
        return target.Id;
    }
}
