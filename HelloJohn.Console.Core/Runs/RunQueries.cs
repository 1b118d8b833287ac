using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Runs;

/// <summary>A run as pages and APIs show it, whatever its kind.</summary>
public sealed record RunView(
    Guid Id,
    RunKind Kind,
    Guid? TargetId,
    string? TargetName,
    RunStatus Status,
    string? Phase,
    string? RequestedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Error,
    RunFailureKind? FailureKind,
    string? OwnerHost,
    long ProgressDone,
    long? ProgressTotal,
    string? CancelRequestedBy)
{
    public bool IsActive => Status is RunStatus.Queued or RunStatus.Running;
    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
}

public sealed record RunQuery(int Page = 0, int PageSize = 25, RunKind? Kind = null, Guid? TargetId = null, bool ActiveOnly = false);

public sealed record RunPage(IReadOnlyList<RunView> Items, int TotalCount);

/// <summary>Reads runs of every kind, newest first, a page at a time.</summary>
public sealed class RunQueries(IDbContextFactory<ConsoleDbContext> dbFactory)
{
    public async Task<RunPage> QueryAsync(RunQuery query, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<RunRecord>().AsNoTracking();
        if (query.Kind is { } kind)
        {
            q = q.Where(r => r.Kind == kind);
        }

        if (query.TargetId is { } target)
        {
            q = q.Where(r => r.TargetId == target);
        }

        if (query.ActiveOnly)
        {
            q = q.Where(r => r.Status == RunStatus.Queued || r.Status == RunStatus.Running);
        }

        var total = await q.CountAsync(ct);
        var items = await Project(q.OrderByDescending(r => r.CreatedAt).Skip(query.Page * query.PageSize).Take(query.PageSize)).ToListAsync(ct);
        return new RunPage(items, total);
    }

    public async Task<RunView?> GetAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await Project(db.Set<RunRecord>().AsNoTracking().Where(r => r.Id == runId)).FirstOrDefaultAsync(ct);
    }

    private static IQueryable<RunView> Project(IQueryable<RunRecord> runs) => runs.Select(r => new RunView(
        r.Id, r.Kind, r.TargetId, r.Target == null ? null : r.Target.Name, r.Status, r.Phase, r.RequestedBy, r.CreatedAt, r.StartedAt, r.FinishedAt,
        r.Error, r.FailureKind, r.OwnerHost, r.ProgressDone, r.ProgressTotal, r.CancelRequestedBy));
}

public static class RunRecordExtensions
{
    /// <summary>The run's phase as its kind's enum, or <paramref name="fallback"/> when it is not one.</summary>
    public static TPhase PhaseOr<TPhase>(this RunRecord run, TPhase fallback) where TPhase : struct, Enum =>
        Enum.TryParse<TPhase>(run.Phase, out var phase) ? phase : fallback;

    public static RunView ToView(this RunRecord r, string? targetName) => new(
        r.Id, r.Kind, r.TargetId, targetName, r.Status, r.Phase, r.RequestedBy, r.CreatedAt, r.StartedAt, r.FinishedAt,
        r.Error, r.FailureKind, r.OwnerHost, r.ProgressDone, r.ProgressTotal, r.CancelRequestedBy);
}
