using System.Globalization;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Sets;

/// <summary>A set's account of its run, for whoever is told it ended.</summary>
public sealed record SetRunSummary(string Text, Guid SetId, string SetName, BackupSetStatus Status, int Members, int Kept, IReadOnlyList<SetMemberState> Failed)
    : RunSummary(Text);

/// <summary>Ends a set once none of its members is queued or running any more, on whichever instance ended the last
/// one (or the next sweep, when that instance died): it takes the set's run over, writes the set manifest beside the
/// members' files and records succeeded, partial, failed or cancelled, with each failed member and why.</summary>
public sealed class SetFinisher(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RunLifecycle lifecycle,
    RunProgressNotifier notifier,
    SetMembers members,
    IBackupStoreRegistry stores,
    TimeProvider time,
    ILogger<SetFinisher> logger) : IRunFinishedHandler
{
    public async Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct)
    {
        if (finished.Kind != RunKind.Backup)
        {
            return;
        }

        Guid? setId;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            setId = await db.Backups.Where(b => b.Id == finished.RunId).Select(b => b.SetId).FirstOrDefaultAsync(ct);
        }

        if (setId is { } id)
        {
            await TryFinishAsync(id, ct);
        }
    }

    /// <summary>Ends the set if all its members have ended; otherwise tells its live view how far it is.</summary>
    public async Task TryFinishAsync(Guid setId, CancellationToken ct)
    {
        BackupSet? set;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            set = await db.Set<BackupSet>().AsNoTracking().Include(s => s.Target).FirstOrDefaultAsync(s => s.Id == setId, ct);
        }

        if (set is not { Status: BackupSetStatus.Running })
        {
            return;
        }

        var latest = await members.LatestAsync(setId, ct);
        var active = latest.Count(m => m.Active);
        if (active > 0)
        {
            var done = latest.Count - active;
            notifier.Publish(new RunProgress(RunKind.BackupSet, set.CurrentRunId, RunStatus.Running, $"{SetPhase.Members}: {done} of {latest.Count} done", done, latest.Count));
            return;
        }

        // Of two instances ending the last members at once, one takes the set over; the other finds it taken.
        var claim = await lifecycle.TakeOverAsync(set.CurrentRunId, SetPhase.Manifest, CancellationToken.None);
        if (claim is null)
        {
            return;
        }

        await using (claim)
        {
            await FinishAsync(claim, set, latest);
        }
    }

    private async Task FinishAsync(RunClaim claim, BackupSet set, IReadOnlyList<SetMemberState> latest)
    {
        var failed = latest.Where(m => !m.Kept).ToList();
        var kept = latest.Count - failed.Count;
        var status = set.CancelledBy is not null && failed.Count > 0 ? BackupSetStatus.Cancelled
            : failed.Count == 0 && !set.RolesFailed ? BackupSetStatus.Succeeded
            : kept == 0 ? BackupSetStatus.Failed
            : BackupSetStatus.Partial;
        var finishedAt = time.GetUtcNow();
        var size = latest.Where(m => m.Kept).Sum(m => m.SizeBytes ?? 0) + (set.RolesSizeBytes ?? 0);
        var error = Explain(set, status, latest, failed);
        var manifestProblem = await WriteManifestAsync(set, status, latest, finishedAt);
        if (manifestProblem is not null)
        {
            error = error is null ? manifestProblem : $"{error} {manifestProblem}";
        }

        var text = $"{set.Name}: {kept} of {latest.Count} database(s) kept, {size.ToString("N0", CultureInfo.InvariantCulture)} bytes" +
            (set.GoneDatabases.Count > 0 ? $"; gone since the last look: {string.Join(", ", set.GoneDatabases)}" : "");
        var summary = new SetRunSummary(text, set.Id, set.Name, status, latest.Count, kept, failed);
        var end = status switch
        {
            BackupSetStatus.Succeeded => RunEnd.Succeeded(text, summary),
            BackupSetStatus.Cancelled => new RunEnd(RunStatus.Cancelled, error) { AuditDetail = "cancelled: " + error, Summary = summary },
            _ => new RunEnd(RunStatus.Failed, error, failed.Select(f => f.FailureKind).FirstOrDefault(k => k is not null) ?? RunFailureKind.Unexpected)
            {
                AuditDetail = $"{status.ToString().ToLowerInvariant()}: {error}",
                Summary = summary,
            },
        };
        await lifecycle.FinishAsync(claim, end with
        {
            Record = (db, ct) => db.Set<BackupSet>().Where(s => s.Id == set.Id).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, status)
                .SetProperty(x => x.FinishedAt, finishedAt)
                .SetProperty(x => x.MemberCount, latest.Count)
                .SetProperty(x => x.MembersSucceeded, kept)
                .SetProperty(x => x.SizeBytes, size)
                .SetProperty(x => x.Error, error), ct),
        });
        logger.LogInformation("Set {Set} of {Target} {Status}: {Kept} of {Count} database(s) kept", set.Name, set.Target!.Name, status, kept, latest.Count);
    }

    private static string? Explain(BackupSet set, BackupSetStatus status, IReadOnlyList<SetMemberState> latest, List<SetMemberState> failed)
    {
        var parts = new List<string>();
        if (failed.Count > 0)
        {
            parts.Add($"{failed.Count} of {latest.Count} database(s) {(status == BackupSetStatus.Cancelled ? "were not kept" : "failed")}: " +
                string.Join("; ", failed.Select(f => $"{f.Database} ({f.Error ?? f.Status.ToString().ToLowerInvariant()})")) + ".");
        }

        if (set.RolesFailed)
        {
            parts.Add(set.RolesNote ?? "The server's roles were not kept.");
        }

        if (status == BackupSetStatus.Cancelled)
        {
            parts.Insert(0, $"Cancelled by {set.CancelledBy}.");
        }

        if (parts.Count > 0 && status is BackupSetStatus.Partial)
        {
            parts.Add("The other databases are kept; Retry failed members runs only these.");
        }

        return parts.Count == 0 ? null : string.Join(" ", parts);
    }

    /// <summary>The set manifest, in every daily store (each member's own manifest is beside its file already).</summary>
    private async Task<string?> WriteManifestAsync(BackupSet set, BackupSetStatus status, IReadOnlyList<SetMemberState> latest, DateTimeOffset finishedAt)
    {
        var manifest = new BackupSetManifest
        {
            SetId = set.Id,
            SetName = set.Name,
            TargetName = set.Target!.Name,
            TargetAddress = set.Target.DisplayAddress,
            Status = status.ToString(),
            Trigger = set.Trigger.ToString(),
            StartedAt = set.StartedAt ?? set.CreatedAt,
            FinishedAt = finishedAt,
            Members = [.. latest.Select(m => new BackupSetManifestMember(m.Database, m.BackupId, m.FileName, m.Status.ToString(), m.SizeBytes, m.Sha256, m.SchemaVersion, m.Error))],
            Roles = set.RolesFailed || set.RolesFileName is null ? null : new BackupSetManifestRoles(set.RolesFileName, set.RolesSizeBytes ?? 0, set.RolesSha256!, set.RolesWithPasswords),
            GoneDatabases = set.GoneDatabases,
        };
        var bytes = manifest.ToJsonBytes();
        var failures = new List<string>();
        var written = 0;
        foreach (var store in stores.StoresOf(BackupTier.Daily))
        {
            try
            {
                await store.PutSmallAsync(SetNaming.ManifestKey(set.Name), bytes, CancellationToken.None);
                written++;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures.Add($"{store.Name} ({e.Message})");
            }
        }

        if (failures.Count == 0)
        {
            return null;
        }

        logger.LogWarning("The manifest of set {Set} was not written to {Stores}", set.Name, string.Join(", ", failures));
        return written == 0
            ? $"The set manifest could not be written ({string.Join("; ", failures)}); each database's own manifest is beside its file."
            : $"The set manifest is missing from {string.Join("; ", failures)}.";
    }
}
