using System.Globalization;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;

namespace HelloJohn.Console.Web.Security;

/// <summary>The audit trail's CSV export. A plain GET (a download link on the Audit page carries the filters), guarded by
/// the same policy as the page. There is no endpoint that edits or deletes an event.</summary>
public static class AuditEndpoints
{
    public const string ExportPath = "/audit/export.csv";

    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(ExportPath, ExportAsync).RequireAuthorization(ConsolePolicies.ViewAuditTrail);
        return app;
    }

    /// <summary>The export link for <paramref name="filter"/>, as the Audit page offers it.</summary>
    public static string ExportUrl(AuditFilter filter)
    {
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                query.Add($"{name}={Uri.EscapeDataString(value.Trim())}");
            }
        }

        Add("user", filter.User);
        Add("action", filter.Action);
        Add("outcome", filter.Outcome?.ToString());
        Add("from", filter.From?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        Add("to", filter.To?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        return query.Count == 0 ? ExportPath : $"{ExportPath}?{string.Join('&', query)}";
    }

    private static async Task ExportAsync(HttpContext http, AuditQueryService auditTrail, TimeProvider time)
    {
        var q = http.Request.Query;
        var problems = new List<string>();
        AuditOutcome? outcome = null;
        if (!string.IsNullOrWhiteSpace(q["outcome"]))
        {
            if (Enum.TryParse<AuditOutcome>(q["outcome"], ignoreCase: true, out var o) && Enum.IsDefined(o))
            {
                outcome = o;
            }
            else
            {
                problems.Add($"outcome must be one of {string.Join(", ", Enum.GetNames<AuditOutcome>())}");
            }
        }

        var from = ParseTime(q["from"], "from", problems);
        var to = ParseTime(q["to"], "to", problems);
        if (from is not null && to is not null && to <= from)
        {
            problems.Add("to must be after from");
        }

        if (problems.Count > 0)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync($"The audit export was not made: {string.Join("; ", problems)}. Times are ISO 8601, e.g. 2026-01-31T00:00:00Z.");
            return;
        }

        var filter = new AuditFilter(q["user"], q["action"], outcome, from, to);
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"hellojohn-console-audit-{time.GetUtcNow():yyyyMMdd-HHmmss}.csv\"";
        http.Response.Headers.CacheControl = "no-store";
        await auditTrail.ExportCsvAsync(CurrentActor.FromPrincipal(http.User), filter, http.Response.Body, http.RequestAborted);
    }

    private static DateTimeOffset? ParseTime(string? value, string name, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
        {
            return t;
        }

        problems.Add($"{name} is not a time");
        return null;
    }
}
