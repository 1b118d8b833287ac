using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Choose the backup to restore" (or, in a drill, pick the newest verified one): keeps the choice and its
/// snapshot time (the recovery point), then checks it is still there and restorable on the new server, and says what
/// its age at the incident costs.</summary>
internal sealed class ChooseBackupStep(RecoveryBackups backups, RecoveryMeasure measure) : IRecoveryStep
{
    public async Task ApplyInputAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        if (!Guid.TryParse(inputs.GetValueOrDefault("backup"), out var id))
        {
            throw new RecoveryInputException("Choose a backup from the list. Nothing was restored.");
        }

        var backup = await backups.FindAsync(id, ctx.Target.Id, ct)
            ?? throw new RecoveryInputException($"There is no backup {id} of '{ctx.Target.Name}'. Nothing was restored. Choose one from the list.");
        await UseBackupAsync(ctx, backup, backups, ct);
    }

    public async Task ActAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var candidates = await backups.CandidatesAsync(ctx.Run, ct);
        var pick = candidates.FirstOrDefault(c => c.IsDefault)
            ?? throw new RecoveryStepFailedException($"'{ctx.Target.Name}' has no finished backup to restore. Take a backup first (Backups → Back up now).");
        await UseBackupAsync(ctx, (await backups.FindAsync(pick.Id, null, ct))!, backups, ct);
        await ctx.LogAsync(pick.VerifiedAt is { } v
            ? $"Picked {pick.FileName}, verified {v:u}."
            : $"Picked {pick.FileName}: no backup of this target has passed a verification yet, so the newest finished one is used.", pick.VerifiedAt is null ? RecoveryLogLevel.Warning : RecoveryLogLevel.Info);
    }

    private static async Task UseBackupAsync(RecoveryStepContext ctx, BackupRecord backup, RecoveryBackups backups, CancellationToken ct)
    {
        if (backup.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored) || backup.StartedAt is null)
        {
            throw new RecoveryInputException($"{backup.FileName} is {backup.Status.ToString().ToLowerInvariant()}; only a finished backup can be restored. Nothing was restored.");
        }

        ctx.Run.BackupId = backup.Id;
        ctx.Run.BackupFileName = backup.FileName;
        ctx.Run.SetId = backup.SetId;
        // pg_dump reads the snapshot exported when the backup started: that is the newest data it holds. A set's
        // databases were dumped one after another; the oldest snapshot is the point the whole deployment returns to.
        var members = backup.SetId is { } setId ? await backups.KeptMembersAsync(setId, ct) : [];
        ctx.Run.RecoveryPointAt = members.Count > 0 ? members.Min(m => m.StartedAt) : backup.StartedAt;
        ctx.Run.BackupServerVersion = backup.ServerVersion;
        await ctx.LogAsync($"Backup {backup.FileName}: snapshot {backup.StartedAt:u}, PostgreSQL {backup.ServerVersion ?? "unknown"}.");
        if (members.Count > 1)
        {
            await ctx.LogAsync($"It is one of a set of {members.Count} databases ({string.Join(", ", members.Select(m => m.DatabaseName))}): all of them are restored and verified, and the RTO is measured over the set.");
        }
    }

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        if (ctx.Run.BackupId is not { } id)
        {
            return CheckOutcome.Fail("No backup is chosen yet.");
        }

        var backup = await backups.FindAsync(id, null, ct);
        if (backup is null || backup.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            return CheckOutcome.Fail($"{ctx.Run.BackupFileName} is no longer available (expired or removed). Nothing was restored. Choose another backup.");
        }

        var version = PostgresVersion.CompareForRestore(backup.ServerVersion, ctx.Run.NewServerVersion);
        if (!version.Passed)
        {
            return version;
        }

        var verifiedAt = await backups.VerifiedAtAsync(ctx.Target.Id, id, ct);
        var (incident, source) = await measure.IncidentAsync(ctx.Run, ct);
        var age = incident - backup.StartedAt!.Value;
        var proof = verifiedAt is { } v ? $"verified by a restore on {v:u}" : "not verified by a restore yet (the restore still checks its SHA-256, its archive and its row counts)";
        return CheckOutcome.Pass($"{backup.FileName}, snapshot {backup.StartedAt:u}, {proof}. " +
            $"Data written after it is lost: {RecoveryDurations.Describe(age < TimeSpan.Zero ? TimeSpan.Zero : age)} at the incident ({RecoveryDurations.Describe(source)}). {version.Message}");
    }
}
