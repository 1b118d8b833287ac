using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>Runs as another console instance would have left them in the shared console database.</summary>
public static class RunFixtures
{
    /// <summary>A console instance that started on the shared database and died: its row is there, nobody holds its lock.</summary>
    public static async Task<Guid> AddDeadInstanceAsync(this ConsoleAppFactory app, string host = "gone-host")
    {
        await using var db = await app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var instance = new ConsoleInstanceRecord
        {
            Id = Guid.NewGuid(),
            Host = host,
            ProcessId = int.MaxValue - 1,
            StartedAt = DateTimeOffset.UtcNow.AddMinutes(-10),
            LastSeenAt = DateTimeOffset.UtcNow.AddMinutes(-1),
        };
        db.Add(instance);
        await db.SaveChangesAsync();
        return instance.Id;
    }

    /// <summary>A run record of <paramref name="kind"/>, queued, or running and owned by <paramref name="owner"/>.</summary>
    public static RunRecord Run(RunKind kind, Guid targetId, Guid? id = null, Guid? owner = null, string? phase = null) => new()
    {
        Id = id ?? Guid.NewGuid(),
        Kind = kind,
        TargetId = targetId,
        Status = owner is null ? RunStatus.Queued : RunStatus.Running,
        Phase = phase ?? (owner is null ? "Queued" : "Running"),
        RequestedBy = "operator@example.test",
        RequestedByUserId = "op-1",
        CreatedAt = DateTimeOffset.UtcNow,
        StartedAt = owner is null ? null : DateTimeOffset.UtcNow,
        HeartbeatAt = owner is null ? null : DateTimeOffset.UtcNow,
        OwnerInstanceId = owner,
        OwnerHost = owner is null ? null : "gone-host",
        OwnerProcessId = owner is null ? null : int.MaxValue - 1,
    };
}
