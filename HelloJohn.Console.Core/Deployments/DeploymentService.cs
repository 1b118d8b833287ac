using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Deployments;

/// <summary>A deployment as an administrator writes it. <see cref="Connection"/> may be left empty when editing: the
/// stored one is kept.</summary>
public sealed record DeploymentDraft(string Name, string? Connection, string? Databases, string? Patterns, string? BaseUrl, TargetProvider Provider)
{
    public DatabaseSelection Selection => DatabaseSelection.From(Databases, Patterns);
}

/// <summary>What a draft would protect on its server, with what deserves a second look (a pattern matching nothing).</summary>
public sealed record DeploymentPreview(string Address, DeploymentScan Scan, IReadOnlyList<string> Warnings);

/// <summary>A deployment change was refused; the message says why and that nothing was changed.</summary>
public sealed class DeploymentRejectedException(string message) : InvalidOperationException(message);

/// <summary>Administrators add, change and remove the deployments the console protects. Every change is tried first
/// (the connection reached, the selection evaluated on the server), refused with nothing changed when it cannot be
/// right, stored with the connection encrypted, and audited with the server's address only.</summary>
public sealed class DeploymentService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    DeploymentScanner scanner,
    ScheduleService schedules,
    IAuditLog audit,
    CallerGate gate,
    TimeProvider time)
{
    /// <summary>Tries the draft without saving it: what it would protect, and warnings.</summary>
    public async Task<DeploymentPreview> PreviewAsync(Actor actor, Guid? id, DeploymentDraft draft, CancellationToken ct)
    {
        actor = await DemandAsync(actor, AuditActions.DeploymentChanged, id?.ToString() ?? draft.Name, ct);
        var (_, preview) = await CheckAsync(id, draft, ct);
        return preview;
    }

    public async Task<Guid> AddAsync(Actor actor, DeploymentDraft draft, CancellationToken ct)
    {
        actor = await DemandAsync(actor, AuditActions.DeploymentAdded, draft.Name, ct);
        var (connection, preview) = await CheckOrAuditAsync(actor, AuditActions.DeploymentAdded, null, draft, ct);
        var target = new BackupTarget
        {
            Id = Guid.NewGuid(),
            Name = draft.Name.Trim(),
            ConnectionSource = TargetConnectionSource.Stored,
            CreatedAt = time.GetUtcNow(),
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            Apply(target, draft, connection, preview);
            db.Targets.Add(target);
            await db.SaveChangesAsync(ct);
        }

        await scanner.RecordAsync(target.Id, preview.Scan, ct);
        await schedules.EnsureDefaultsAsync(actor, target.Id, ct);
        await audit.RecordAsync(actor, AuditActions.DeploymentAdded, target.Name, AuditOutcome.Succeeded, Describe(preview, draft.Selection), ct);
        return target.Id;
    }

    public async Task UpdateAsync(Actor actor, Guid id, DeploymentDraft draft, CancellationToken ct)
    {
        actor = await DemandAsync(actor, AuditActions.DeploymentChanged, id.ToString(), ct);
        var (connection, preview) = await CheckOrAuditAsync(actor, AuditActions.DeploymentChanged, id, draft, ct);
        string before;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var target = await db.Targets.SingleAsync(t => t.Id == id, ct);
            before = $"{target.DisplayAddress}: {target.Selection}";
            Apply(target, draft, connection, preview);
            await db.SaveChangesAsync(ct);
        }

        await scanner.RecordAsync(id, preview.Scan, ct);
        await audit.RecordAsync(actor, AuditActions.DeploymentChanged, draft.Name.Trim(), AuditOutcome.Succeeded, $"Was {before}. Now {Describe(preview, draft.Selection)}", ct);
    }

    /// <summary>Stops protecting a deployment. One that nothing refers to yet is deleted; one with backups or history
    /// is retired: its schedules and connection are removed, its backups stay in the catalog (restorable, expired by
    /// nothing), and it is no longer offered. <paramref name="confirmation"/> must be its name.</summary>
    public async Task<string> RemoveAsync(Actor actor, Guid id, string? confirmation, CancellationToken ct)
    {
        actor = await DemandAsync(actor, AuditActions.DeploymentRemoved, id.ToString(), ct);
        var target = await targets.GetAsync(id, ct);
        if (target.Source == TargetConnectionSource.Environment)
        {
            throw new DeploymentRejectedException($"{target.Name} comes from HELLOJOHN_DATABASE_URL. Unset that variable and restart the console to stop protecting it; nothing was changed.");
        }

        if (!string.Equals(confirmation?.Trim(), target.Name, StringComparison.Ordinal))
        {
            await audit.RecordAsync(actor, AuditActions.DeploymentRemoved, target.Name, AuditOutcome.Failed, "Refused: the confirmation did not match its name. Nothing was changed.", ct);
            throw new DeploymentRejectedException($"Type the deployment's name, {target.Name}, to remove it. Nothing was changed.");
        }

        await schedules.RemoveAllAsync(actor, id, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Targets.SingleAsync(t => t.Id == id, ct);
        db.Targets.Remove(row);
        string outcome;
        try
        {
            await db.SaveChangesAsync(ct);
            outcome = $"Removed {target.Name} ({target.DisplayAddress}); nothing referred to it.";
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation })
        {
            // Backups, runs or escrowed secrets refer to it: keep the record for them, without its connection.
            db.ChangeTracker.Clear();
            var now = time.GetUtcNow();
            var retiredName = $"{target.Name} (removed {now:yyyy-MM-dd HH:mm})";
            await db.Targets.Where(t => t.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(t => t.RetiredAt, now)
                .SetProperty(t => t.Name, retiredName.Length > 128 ? retiredName[..128] : retiredName)
                .SetProperty(t => t.ConnectionSource, TargetConnectionSource.Unset)
                .SetProperty(t => t.ProtectedConnectionString, (string?)null), ct);
            await db.Set<DeploymentDatabase>().Where(d => d.TargetId == id).ExecuteDeleteAsync(ct);
            outcome = $"Retired {target.Name} ({target.DisplayAddress}): its schedules and connection are removed; its backups stay in the catalog as '{retiredName}'.";
        }

        await audit.RecordAsync(actor, AuditActions.DeploymentRemoved, target.Name, AuditOutcome.Succeeded, outcome, ct);
        return outcome;
    }

    /// <summary>Takes note that a database selected by a pattern is gone on purpose (a tenant deleted): it is no longer
    /// reported. A database listed by name stays reported until it is taken off the list.</summary>
    public async Task AcknowledgeGoneAsync(Actor actor, Guid id, string database, CancellationToken ct)
    {
        actor = await DemandAsync(actor, AuditActions.DeploymentGoneAcknowledged, id.ToString(), ct);
        var target = await targets.GetAsync(id, ct);
        if (target.Selection.Databases.Contains(database, StringComparer.Ordinal))
        {
            throw new DeploymentRejectedException($"{database} is listed by name in {target.Name}: edit the deployment and take it off the list. Nothing was changed.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var removed = await db.Set<DeploymentDatabase>()
            .Where(d => d.TargetId == id && d.Name == database && d.State == DeploymentDatabaseState.Gone).ExecuteDeleteAsync(ct);
        if (removed == 0)
        {
            throw new DeploymentRejectedException($"{database} is not reported as gone from {target.Name}. Nothing was changed.");
        }

        await audit.RecordAsync(actor, AuditActions.DeploymentGoneAcknowledged, target.Name, AuditOutcome.Succeeded,
            $"{database} is gone on purpose; its backups stay until retention expires their sets.", ct);
    }

    private Task<Actor> DemandAsync(Actor actor, string action, string subject, CancellationToken ct) =>
        gate.DemandAsync(actor, ConsolePermission.ManageSettings, action, subject, ct);

    private async Task<(NpgsqlConnectionStringBuilder, DeploymentPreview)> CheckOrAuditAsync(Actor actor, string action, Guid? id, DeploymentDraft draft, CancellationToken ct)
    {
        try
        {
            return await CheckAsync(id, draft, ct);
        }
        catch (DeploymentRejectedException e)
        {
            await audit.RecordAsync(actor, action, draft.Name, AuditOutcome.Failed, e.Message, ct);
            throw;
        }
    }

    /// <summary>Every rule a deployment must meet, checked in the order a person fixes them; throws
    /// <see cref="DeploymentRejectedException"/> at the first broken one.</summary>
    private async Task<(NpgsqlConnectionStringBuilder, DeploymentPreview)> CheckAsync(Guid? id, DeploymentDraft draft, CancellationToken ct)
    {
        var name = draft.Name?.Trim() ?? "";
        if (name.Length is 0 or > 128)
        {
            throw new DeploymentRejectedException("Give the deployment a name of 1 to 128 characters (production, staging). Nothing was saved.");
        }

        TargetSummary? existing = id is { } known ? await targets.GetAsync(known, ct) : null;
        if (existing?.Source == TargetConnectionSource.Environment)
        {
            throw new DeploymentRejectedException($"{existing.Name} comes from HELLOJOHN_DATABASE_URL and HELLOJOHN_DATABASE_PATTERNS. Change those variables and restart the console; nothing was changed here.");
        }

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (await db.Targets.AnyAsync(t => t.Name == name && t.Id != id, ct))
            {
                throw new DeploymentRejectedException($"A deployment named {name} exists already. Pick another name; nothing was saved.");
            }
        }

        if (!string.IsNullOrWhiteSpace(draft.BaseUrl) &&
            (!Uri.TryCreate(draft.BaseUrl.Trim(), UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https")))
        {
            throw new DeploymentRejectedException("HelloJohn's URL must be an absolute http:// or https:// address, such as https://auth.example.com. Nothing was saved.");
        }

        var selection = draft.Selection;
        if (selection.IsEmpty)
        {
            throw new DeploymentRejectedException("Select at least one database, by name or by pattern (hellojohn_tenant_*). Nothing was saved.");
        }

        if (selection.Problems() is { Count: > 0 } problems)
        {
            throw new DeploymentRejectedException($"{string.Join(" ", problems)} Nothing was saved.");
        }

        var connection = await ConnectionOfAsync(existing, draft, ct);
        if (await DeploymentScanner.ReachProblemAsync(connection, ct) is { } unreachable)
        {
            throw new DeploymentRejectedException($"The console could not reach {connection.Describe()}: {unreachable} Nothing was saved.");
        }

        var scan = await scanner.ScanAsync(connection, selection, ct);
        if (scan.ConsoleDatabaseSelected is { } own)
        {
            var by = selection.SelectedBy(own) == "listed" ? "It lists" : $"The pattern {selection.SelectedBy(own)} matches";
            throw new DeploymentRejectedException($"{by} {own}, the console's own database. Leave it out (a restore over it would take the console down); nothing was saved.");
        }

        if (scan.MissingListed.Count > 0)
        {
            throw new DeploymentRejectedException($"{connection.Host}:{connection.Port} has no database named {string.Join(", ", scan.MissingListed)}. Check the spelling (names are case-sensitive); nothing was saved.");
        }

        if (scan.Protected.Count == 0)
        {
            throw new DeploymentRejectedException($"This selects no database on {connection.Host}:{connection.Port}: {string.Join(", ", selection.Patterns)} match nothing there. Nothing was saved.");
        }

        await RefuseDuplicateAsync(id, scan.ServerIdentity, selection, ct);
        var warnings = scan.UnmatchedPatterns.Select(p => $"The pattern {p} matches no database now; it will protect the ones created later.").ToList();
        return (connection, new DeploymentPreview($"{connection.Host}:{connection.Port}", scan, warnings));
    }

    private async Task<NpgsqlConnectionStringBuilder> ConnectionOfAsync(TargetSummary? existing, DeploymentDraft draft, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(draft.Connection))
        {
            if (existing is null || existing.Source != TargetConnectionSource.Stored)
            {
                throw new DeploymentRejectedException("Give the connection to the server (postgres://user:password@host:5432/postgres). Nothing was saved.");
            }

            return await targets.GetConnectionAsync(existing.Id, ct);
        }

        try
        {
            return PgConnection.Parse(draft.Connection);
        }
        catch (FormatException e)
        {
            throw new DeploymentRejectedException($"{e.Message} Nothing was saved.");
        }
    }

    /// <summary>Two deployments of one server may not share a database: each would take its own sets of it, and
    /// restoring one's over the other's could not be told apart.</summary>
    private async Task RefuseDuplicateAsync(Guid? id, string serverIdentity, DatabaseSelection selection, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var sameServer = await db.Targets.AsNoTracking()
            .Where(t => t.Id != id && t.RetiredAt == null && t.ServerIdentity == serverIdentity).ToListAsync(ct);
        foreach (var other in sameServer)
        {
            if (selection.OverlapWith(other.Selection) is { } shared)
            {
                throw new DeploymentRejectedException($"{other.Name} already protects {shared} on this server. Edit {other.Name} instead, or narrow this selection; nothing was saved.");
            }
        }
    }

    private void Apply(BackupTarget target, DeploymentDraft draft, NpgsqlConnectionStringBuilder connection, DeploymentPreview preview)
    {
        target.Name = draft.Name.Trim();
        target.ConnectionSource = TargetConnectionSource.Stored;
        target.ProtectedConnectionString = targets.Protect(connection);
        target.DisplayAddress = connection.Describe();
        target.ServerIdentity = preview.Scan.ServerIdentity;
        target.Databases = [.. draft.Selection.Databases];
        target.Patterns = [.. draft.Selection.Patterns];
        target.BaseUrl = string.IsNullOrWhiteSpace(draft.BaseUrl) ? null : draft.BaseUrl.Trim().TrimEnd('/');
        target.Provider = draft.Provider;
        target.RetiredAt = null;
    }

    private static string Describe(DeploymentPreview preview, DatabaseSelection selection) =>
        $"{preview.Address}: {selection} → {preview.Scan.Protected.Count} database(s) protected (connection stored encrypted)." +
        (preview.Warnings.Count > 0 ? " " + string.Join(" ", preview.Warnings) : "");
}
