using System.Security.Cryptography;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Sets;

/// <summary>A set's roles file, opened for an administrator's download.</summary>
public sealed record SetRolesFile(string FileName, string Sha256, byte[] Content);

/// <summary>The server's roles kept with a set. Their content is never shown (with passwords it holds their hashes):
/// administrators may download the file, see what restoring it would change on the deployment's server, and apply it
/// for the roles they choose after typing the deployment's name.</summary>
public sealed class SetRolesService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    IBackupStoreRegistry stores,
    IAuditLog audit,
    CallerGate gate)
{
    public async Task<SetRolesFile> DownloadAsync(Actor actor, Guid setId, CancellationToken ct)
    {
        actor = await DemandAsync(actor, ConsolePermission.DownloadBackup, AuditActions.SetRolesDownloaded, setId, ct);
        var file = await ReadAsync(setId, ct);
        await audit.RecordAsync(actor, AuditActions.SetRolesDownloaded, file.FileName, AuditOutcome.Succeeded, $"sha256 {file.Sha256[..12]}…", ct);
        return file;
    }

    /// <summary>What applying the set's roles to its deployment's server would do, role by role; nothing is changed.</summary>
    public async Task<IReadOnlyList<RoleChange>> PlanAsync(Actor actor, Guid setId, CancellationToken ct)
    {
        actor = await DemandAsync(actor, ConsolePermission.RestoreToNewDatabase, AuditActions.SetRolesApplied, setId, ct);
        var (file, targetId) = await ReadWithTargetAsync(setId, ct);
        return await ServerRoles.PlanAsync(file.Content, await targets.GetConnectionAsync(targetId, ct), ct);
    }

    /// <summary>Applies the backed-up roles named in <paramref name="roles"/> to the deployment's server, in one
    /// transaction. <paramref name="confirmation"/> must be the deployment's name.</summary>
    public async Task ApplyAsync(Actor actor, Guid setId, IReadOnlyCollection<string> roles, string? confirmation, CancellationToken ct)
    {
        actor = await DemandAsync(actor, ConsolePermission.RestoreInPlace, AuditActions.SetRolesApplied, setId, ct);
        var (file, targetId) = await ReadWithTargetAsync(setId, ct);
        var target = await targets.GetAsync(targetId, ct);
        if (roles.Count == 0)
        {
            throw new InvalidOperationException("Choose the roles to restore. Nothing was changed.");
        }

        if (!string.Equals(confirmation?.Trim(), target.Name, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Type the deployment's name, {target.Name}, to change the roles of its server. Nothing was changed.");
        }

        try
        {
            await ServerRoles.ApplyAsync(file.Content, await targets.GetConnectionAsync(targetId, ct), roles, ct);
        }
        catch (Npgsql.PostgresException e)
        {
            await audit.RecordAsync(actor, AuditActions.SetRolesApplied, file.FileName, AuditOutcome.Failed, $"{string.Join(", ", roles)}: {e.MessageText}", ct);
            throw new InvalidOperationException($"PostgreSQL refused: {e.MessageText}. It ran in one transaction, so no role was changed.", e);
        }

        await audit.RecordAsync(actor, AuditActions.SetRolesApplied, file.FileName, AuditOutcome.Succeeded, $"Restored on {target.DisplayAddress}: {string.Join(", ", roles)}.", ct);
    }

    private async Task<SetRolesFile> ReadAsync(Guid setId, CancellationToken ct) => (await ReadWithTargetAsync(setId, ct)).File;

    /// <summary>Reads the roles file from the first store that has it and proves it by its SHA-256.</summary>
    private async Task<(SetRolesFile File, Guid TargetId)> ReadWithTargetAsync(Guid setId, CancellationToken ct)
    {
        BackupSet set;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            set = await db.Set<BackupSet>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == setId, ct)
                ?? throw new KeyNotFoundException($"There is no backup set {setId}.");
        }

        if (set.RolesFileName is null || set.RolesSha256 is null || set.Status == BackupSetStatus.Expired)
        {
            throw new InvalidOperationException($"{set.Name} has no roles file ({set.RolesNote ?? (set.Status == BackupSetStatus.Expired ? "it expired" : "they were not kept")}).");
        }

        foreach (var store in stores.All)
        {
            if (!await store.ExistsAsync(set.RolesFileName, ct))
            {
                continue;
            }

            await using var stream = await store.OpenReadAsync(set.RolesFileName, ct);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            var content = copy.ToArray();
            if (Convert.ToHexStringLower(SHA256.HashData(content)) == set.RolesSha256)
            {
                return (new SetRolesFile(set.RolesFileName, set.RolesSha256, content), set.TargetId);
            }
        }

        throw new InvalidOperationException($"{set.RolesFileName} is in no store with the SHA-256 its set recorded; it was not used.");
    }

    private Task<Actor> DemandAsync(Actor actor, ConsolePermission permission, string action, Guid setId, CancellationToken ct) =>
        gate.DemandAsync(actor, permission, action, setId.ToString(), ct);
}
