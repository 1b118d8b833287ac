using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Targets;

public sealed record TargetSummary(Guid Id, string Name, string? DisplayAddress, string? BaseUrl, TargetProvider Provider, TargetConnectionSource Source)
{
    /// <summary>The databases it protects, by name and by pattern.</summary>
    public DatabaseSelection Selection { get; init; } = DatabaseSelection.Empty;

    internal static TargetSummary Of(BackupTarget t) =>
        new(t.Id, t.Name, t.DisplayAddress, t.BaseUrl, t.Provider, t.ConnectionSource) { Selection = t.Selection };
}

/// <summary>Knows the HelloJohn databases under protection and how to reach them. Connection strings with passwords
/// are stored encrypted; the one from HELLOJOHN_DATABASE_URL is read from configuration at each use.</summary>
public sealed class TargetService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IOptionsMonitor<TargetOptions> options,
    IDataProtectionProvider protection,
    IAuditLog audit,
    CallerGate gate,
    ConsoleDatabaseGuard consoleDatabase,
    TimeProvider time,
    ILogger<TargetService> logger)
{
    private readonly IDataProtector _protector = protection.CreateProtector("HelloJohn.Console.Targets.ConnectionString");

    /// <summary>Creates or refreshes the deployment that HELLOJOHN_DATABASE_URL names: its database, and the patterns of
    /// HELLOJOHN_DATABASE_PATTERNS. Called at start.</summary>
    /// <remarks>Its name is its identity (every manifest carries it; a catalog rebuild matches on it), so it is taken from
    /// HELLOJOHN_TARGET_NAME (else the name given in Settings) once, when the target is created. After that the console database's name wins: instances
    /// sharing one console database never rename it back and forth from their own environments, and one whose variable
    /// differs says so in its log. How to reach HelloJohn (address, base URL, provider) follows the environment; base URL and provider follow
    /// Settings where no variable sets them.</remarks>
    public async Task<Guid> EnsureEnvironmentTargetAsync(CancellationToken ct)
    {
        var o = options.CurrentValue;
        var connection = PgConnection.Parse(o.DatabaseUrl!);
        var selection = new DatabaseSelection([connection.Database!], DatabaseSelection.SplitList(o.DatabasePatterns));
        if (selection.Selects(consoleDatabase.DatabaseName) && ServerIdentity.Address(connection) == ServerIdentity.Address(consoleDatabase.Connection))
        {
            throw new InvalidOperationException(
                $"HELLOJOHN_DATABASE_URL and HELLOJOHN_DATABASE_PATTERNS select {consoleDatabase.DatabaseName}, the console's own database (ConnectionStrings__Console). Narrow the patterns (hellojohn_tenant_*) so they leave it out; nothing was backed up.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Two instances starting at once must not both create it.
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtext('hellojohn-console:environment-target'))", ct);
        var target = await db.Targets.FirstOrDefaultAsync(t => t.ConnectionSource == TargetConnectionSource.Environment, ct);
        // What an administrator set in Settings, for whatever no variable sets.
        var stored = await db.Set<Settings.ConsoleSetting>().AsNoTracking().Where(s => s.Key.StartsWith("target."))
            .ToDictionaryAsync(s => s.Key, s => s.Value, ct);
        if (target is null)
        {
            var name = o.NameSet ? o.Name : stored.GetValueOrDefault(Settings.EditableSetting.TargetName) ?? o.Name;
            target = new BackupTarget { Id = Guid.NewGuid(), Name = name, CreatedAt = time.GetUtcNow(), ConnectionSource = TargetConnectionSource.Environment };
            db.Targets.Add(target);
        }
        else if (o.NameSet && !string.Equals(target.Name, o.Name, StringComparison.Ordinal))
        {
            logger.LogWarning(
                "HELLOJOHN_TARGET_NAME is '{Configured}' here, but the target is named '{Stored}' in the console database, which wins: the name is set once, when the target is created, so instances sharing the database never rename it",
                o.Name, target.Name);
        }

        target.BaseUrl = string.IsNullOrWhiteSpace(o.BaseUrl) ? stored.GetValueOrDefault(Settings.EditableSetting.TargetBaseUrl) : o.BaseUrl.Trim().TrimEnd('/');
        target.Provider = o.ProviderSet ? o.Provider
            : Enum.TryParse<TargetProvider>(stored.GetValueOrDefault(Settings.EditableSetting.TargetProvider), out var provider) ? provider : o.Provider;
        target.DisplayAddress = connection.Describe();
        target.Databases = [.. selection.Databases];
        target.Patterns = [.. selection.Patterns];
        target.RetiredAt = null;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return target.Id;
    }

    public async Task<IReadOnlyList<TargetSummary>> ListAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var all = await db.Targets.AsNoTracking().Where(t => t.RetiredAt == null).OrderBy(t => t.Name).ToListAsync(ct);
        return [.. all.Select(TargetSummary.Of)];
    }

    public async Task<TargetSummary> GetAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var target = await db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct) ?? throw new KeyNotFoundException($"No target with id {id}.");
        return TargetSummary.Of(target);
    }

    /// <summary>The default target: the one from the environment, else the first by name.</summary>
    public async Task<TargetSummary?> GetDefaultAsync(CancellationToken ct)
    {
        var all = await ListAsync(ct);
        return all.FirstOrDefault(t => t.Source == TargetConnectionSource.Environment) ?? all.FirstOrDefault();
    }

    /// <summary>How to connect to one database of the deployment (<paramref name="database"/>; the connection's own when
    /// null). The result holds a password: never log or display it.</summary>
    public async Task<NpgsqlConnectionStringBuilder> GetConnectionAsync(Guid id, string? database, CancellationToken ct)
    {
        var connection = await GetConnectionAsync(id, ct);
        return database is null ? connection : connection.WithDatabase(database);
    }

    /// <summary>How to connect to the deployment's server, through the database its connection names. The result holds
    /// a password: never log or display it.</summary>
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

        if (await Deployments.DeploymentScanner.ReachProblemAsync(connection, ct) is { } problem)
        {
            await audit.RecordAsync(actor, AuditActions.TargetConnectionSet, target.Name, AuditOutcome.Failed, $"{connection.Describe()} could not be reached: {problem}", ct);
            throw new InvalidOperationException($"The console could not reach {connection.Describe()}: {problem} Nothing was changed.");
        }

        var was = target.ConnectionSource;
        target.ConnectionSource = TargetConnectionSource.Stored;
        target.ProtectedConnectionString = Protect(connection);
        target.DisplayAddress = connection.Describe();
        if (target.Databases.Count == 0 && target.Patterns.Count == 0)
        {
            target.Databases = [connection.Database!];
        }

        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(actor, AuditActions.TargetConnectionSet, target.Name, AuditOutcome.Succeeded,
            $"{(was == TargetConnectionSource.Unset ? "Connection given" : "Connection replaced")}: {target.DisplayAddress} (stored encrypted).", ct);
        return TargetSummary.Of(target);
    }

    /// <summary>The connection string encrypted for storage in the console database.</summary>
    internal string Protect(NpgsqlConnectionStringBuilder connection) => _protector.Protect(connection.ConnectionString);

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
            Databases = [connection.Database!],
        };
        db.Targets.Add(target);
        await db.SaveChangesAsync(ct);
        return target.Id;
    }
}
