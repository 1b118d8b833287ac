using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Audit;

/// <summary>Names the things an audit event points at by id, for people: <c>drill:0d74e1ee-…</c> becomes
/// "Recovery drill · demo", a backup's id its file name. The event itself is kept as written (the export and the
/// filter use it); only what a page shows is named. An id nothing answers to any more is shown as it is.</summary>
internal static partial class AuditTargetNames
{
    public static async Task<IReadOnlyList<AuditEntry>> NameAsync(ConsoleDbContext db, IReadOnlyList<AuditEntry> entries, CancellationToken ct)
    {
        var ids = new HashSet<Guid>();
        var scheduleIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (e.Target is not { } target)
            {
                continue;
            }

            if (ScheduleTarget().Match(target) is { Success: true } m)
            {
                scheduleIds.Add(target);
                ids.Add(Guid.Parse(m.Groups["target"].Value));
            }
            else if (Guid.TryParseExact(target, "D", out var id))
            {
                ids.Add(id);
            }
        }

        if (ids.Count == 0)
        {
            return entries;
        }

        var targets = await db.Targets.AsNoTracking().Where(t => ids.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        var names = targets.ToDictionary(t => t.Key, t => $"target {t.Value}");

        foreach (var b in await db.Backups.AsNoTracking().Where(b => ids.Contains(b.Id)).Select(b => new { b.Id, b.FileName }).ToListAsync(ct))
        {
            names[b.Id] = b.FileName;
        }

        foreach (var v in await db.Set<VerificationRun>().AsNoTracking().Where(v => ids.Contains(v.Id)).Select(v => new { v.Id, v.BackupFileName }).ToListAsync(ct))
        {
            names[v.Id] = $"verification of {v.BackupFileName}";
        }

        foreach (var r in await db.Set<RestoreRun>().AsNoTracking().Where(r => ids.Contains(r.Id)).Select(r => new { r.Id, r.BackupFileName, r.DatabaseName }).ToListAsync(ct))
        {
            names[r.Id] = $"restore of {r.BackupFileName} → {r.DatabaseName}";
        }

        foreach (var r in await db.Set<RecoveryRun>().AsNoTracking().Where(r => ids.Contains(r.Id)).Select(r => new { r.Id, r.Scenario, Target = r.Target!.Name }).ToListAsync(ct))
        {
            names[r.Id] = $"{RecoveryScenarios.Info(r.Scenario).Title} · {r.Target}";
        }

        foreach (var r in await db.Set<Pitr.PitrRestoreRecord>().AsNoTracking().Where(r => ids.Contains(r.Id)).Select(r => new { r.Id, r.DataDirectory, r.Port }).ToListAsync(ct))
        {
            names[r.Id] = $"restored server {r.DataDirectory} (port {r.Port})";
        }

        var kinds = await db.Set<ScheduleSetting>().AsNoTracking().Where(s => scheduleIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Kind, ct);
        return [.. entries.Select(e => e with { TargetName = NameOf(e.Target, targets, names, kinds) })];
    }

    private static string? NameOf(string? target, Dictionary<Guid, string> targets, Dictionary<Guid, string> names, Dictionary<string, ScheduleKind> kinds)
    {
        if (target is null)
        {
            return null;
        }

        if (ScheduleTarget().Match(target) is { Success: true } m)
        {
            var kind = kinds.TryGetValue(target, out var k) ? ScheduleKindNames.Of(k) : m.Groups["kind"].Value;
            var targetId = Guid.Parse(m.Groups["target"].Value);
            return targets.TryGetValue(targetId, out var name) ? $"{kind} · {name}" : null;
        }

        return Guid.TryParseExact(target, "D", out var id) && names.TryGetValue(id, out var named) ? named : null;
    }

    // Schedule ids as ScheduleService.JobId writes them: backup:, verify:, retention:, drill:, jwks-check: and a target id.
    [GeneratedRegex(@"^(?<kind>[a-z-]+):(?<target>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")]
    private static partial Regex ScheduleTarget();
}
