using System.Globalization;
using System.Text;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Audit;

/// <summary>Reads the audit trail: filtered pages for the Audit page (paged in the database) and CSV export.
/// Reading needs <see cref="ConsolePermission.ViewAuditTrail"/>; nothing here changes an event.</summary>
public sealed class AuditQueryService(IDbContextFactory<ConsoleDbContext> dbFactory, IAuditLog audit, CallerGate gate)
{
    public const int MaxPageSize = 500;

    public async Task<AuditPage> QueryAsync(Actor actor, AuditFilter filter, int pageIndex, int pageSize, CancellationToken ct)
    {
        await gate.DemandAsync(actor, ConsolePermission.ViewAuditTrail, AuditActions.AuditRead, filter.Describe(), ct);
        if (pageIndex < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pageIndex), pageIndex, "The page number cannot be negative.");
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, $"A page holds between 1 and {MaxPageSize} events.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = Apply(db.AuditEvents.AsNoTracking(), filter);
        var total = await query.CountAsync(ct);
        var items = await query
            .OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Skip(pageIndex * pageSize).Take(pageSize)
            .Select(e => new AuditEntry(e.Id, e.At, e.Actor, e.UserId, e.Action, e.Target, e.Outcome, e.Detail, null))
            .ToListAsync(ct);
        return new AuditPage(await AuditTargetNames.NameAsync(db, items, ct), total, pageIndex, pageSize);
    }

    /// <summary>Writes every event matching <paramref name="filter"/>, oldest first, as RFC 4180 CSV (UTF-8) to
    /// <paramref name="destination"/>, streaming from the database. The export itself is audited. Returns the row count.</summary>
    public async Task<int> ExportCsvAsync(Actor actor, AuditFilter filter, Stream destination, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ViewAuditTrail, AuditActions.AuditExported, filter.Describe(), ct);

        Validate(filter);
        var rows = 0;
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await using var writer = new StreamWriter(destination, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
            await writer.WriteLineAsync("id,at_utc,actor,user_id,action,target,outcome,detail");
            var events = Apply(db.AuditEvents.AsNoTracking(), filter).OrderBy(e => e.At).ThenBy(e => e.Id).AsAsyncEnumerable();
            await foreach (var e in events.WithCancellation(ct))
            {
                await writer.WriteLineAsync(string.Join(',',
                    e.Id.ToString(CultureInfo.InvariantCulture),
                    e.At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                    Cell(e.Actor),
                    Cell(e.UserId),
                    Cell(e.Action),
                    Cell(e.Target),
                    e.Outcome.ToString(),
                    Cell(e.Detail)));
                rows++;
            }

            await writer.FlushAsync(ct);
        }
        catch (Exception e)
        {
            await audit.RecordAsync(actor, AuditActions.AuditExported, null, AuditOutcome.Failed, $"{filter.Describe()}; stopped after {rows} rows by {e.GetType().Name}", CancellationToken.None);
            throw;
        }

        await audit.RecordAsync(actor, AuditActions.AuditExported, null, AuditOutcome.Succeeded, $"{filter.Describe()}; {rows} rows", CancellationToken.None);
        return rows;
    }

    private static IQueryable<AuditEvent> Apply(IQueryable<AuditEvent> query, AuditFilter filter)
    {
        Validate(filter);
        if (!string.IsNullOrWhiteSpace(filter.User))
        {
            var pattern = "%" + EscapeLike(filter.User.Trim()) + "%";
            query = query.Where(e => EF.Functions.ILike(e.Actor, pattern, "\\"));
        }

        if (!string.IsNullOrWhiteSpace(filter.Action))
        {
            var action = filter.Action.Trim();
            query = query.Where(e => e.Action == action);
        }

        if (filter.Outcome is { } outcome)
        {
            query = query.Where(e => e.Outcome == outcome);
        }

        if (filter.From is { } from)
        {
            var fromUtc = from.ToUniversalTime();
            query = query.Where(e => e.At >= fromUtc);
        }

        if (filter.To is { } to)
        {
            var toUtc = to.ToUniversalTime();
            query = query.Where(e => e.At < toUtc);
        }

        return query;
    }

    private static void Validate(AuditFilter filter)
    {
        if (filter.From is { } from && filter.To is { } to && to <= from)
        {
            throw new ArgumentException($"The time range ends ({to:u}) before it starts ({from:u}). Pick an end after the start.", nameof(filter));
        }
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    /// <summary>Quotes a CSV cell when needed, and defuses text a spreadsheet would run as a formula (a sign-in
    /// failure's "email" is typed by anyone, so it may be "=HYPERLINK(…)").</summary>
    internal static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
