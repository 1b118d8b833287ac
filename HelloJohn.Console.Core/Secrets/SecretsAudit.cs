using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Secrets.Configuration;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Secrets;

/// <summary>The caller check and audit record every escrow action shares. Details passed here are built by the
/// services from names, versions and fingerprints, never from secret values.</summary>
internal static class SecretsAudit
{
    /// <summary>Runs <paramref name="work"/> and audits its outcome. Only the escrow's own exceptions, whose messages are
    /// written to hold no secret, go into a failed record; anything else is recorded by type name alone.</summary>
    public static async Task<T> AuditedAsync<T>(this IAuditLog audit, Actor actor, string action, string target, Func<Task<(T Result, string Detail)>> work, CancellationToken ct)
    {
        try
        {
            var (result, detail) = await work();
            await audit.RecordAsync(actor, action, target, AuditOutcome.Succeeded, detail, ct);
            return result;
        }
        catch (Exception e) when (e is InvalidSigningKeyException or SecretStoreException or InvalidConfigurationEscrowException)
        {
            await audit.RecordAsync(actor, action, target, AuditOutcome.Failed, e.Message, CancellationToken.None);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await audit.RecordAsync(actor, action, target, AuditOutcome.Failed, $"Failed with {e.GetType().Name}.", CancellationToken.None);
            throw;
        }
    }

    /// <summary>Checks the caller's current standing before telling them anything: one who may not is refused (and the
    /// refusal audited under the secret's name) whether or not the target exists. Then finds the target.</summary>
    public static async Task<BackupTarget> DemandThenRequireTargetAsync(this CallerGate gate, IAuditLog audit, IDbContextFactory<ConsoleDbContext> dbFactory,
        Actor actor, ConsolePermission permission, string action, Guid targetId, Func<BackupTarget, string> secretName, CancellationToken ct)
    {
        var check = await gate.CheckAsync(actor, permission, ct);
        if (check.Refusal is { } refusal)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var known = await db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == targetId, ct);
            await audit.RecordAsync(actor, action, known is null ? $"target {targetId}" : secretName(known), AuditOutcome.Denied, check.DeniedDetail, CancellationToken.None);
            throw refusal;
        }

        return await dbFactory.RequireTargetAsync(targetId, ct);
    }

    public static async Task<BackupTarget> RequireTargetAsync(this IDbContextFactory<ConsoleDbContext> dbFactory, Guid targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == targetId, ct)
            ?? throw new KeyNotFoundException($"There is no target with id {targetId}; it may have been removed. Nothing was changed. Pick a target from the list and try again.");
    }
}
