using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HelloJohn.Console.Web.Api;

/// <summary>Targets, verifications, restores, every run's status, and the console's health.</summary>
internal static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/health", HealthAsync).WithTags("Console").WithSummary("The console's health: its database, storage and the target");
        api.MapGet("/targets", (TargetService targets, CancellationToken ct) => targets.ListAsync(ct)).WithTags("Targets").WithSummary("The HelloJohn databases under protection");
        api.MapGet("/runs", RunsAsync).WithTags("Runs").WithSummary("Backups, verifications and restores: the active ones, or the latest of each kind with active=false");

        var verifications = api.MapGroup("/verifications").WithTags("Verification");
        verifications.MapGet("/", ListVerificationsAsync).WithSummary("Verification runs, newest first");
        verifications.MapGet("/{id:guid}", GetVerificationAsync).WithSummary("One verification with each table's expected and actual rows");
        verifications.MapPost("/{id:guid}/cancel", CancelVerificationAsync).Audited().WithSummary("Cancel a queued or running verification (Operator, Admin)");

        var restores = api.MapGroup("/restores").WithTags("Restores");
        restores.MapGet("/", ListRestoresAsync).WithSummary("Restore runs, newest first");
        restores.MapGet("/{id:guid}", GetRestoreAsync).WithSummary("One restore with its phases and row counts");
        restores.MapPost("/", RequestRestoreAsync).Audited().WithSummary("Restore a backup (new database: Operator, Admin; in place: Admin with confirmation)")
            .WithDescription("mode NewDatabase restores into databaseName, which must not be the live database (replaceExisting drops an existing one of that name). mode InPlace restores over the live database: databaseName and confirmation must both be its name, and a safety backup is taken first.");
        restores.MapPost("/{id:guid}/cancel", CancelRestoreAsync).Audited().WithSummary("Cancel a queued or running restore (while it is safe)");
        return api;
    }

    private static async Task<IResult> HealthAsync(HealthCheckService health, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(ct);
        var body = new ApiHealth(report.Status.ToString(), report.Entries.ToDictionary(e => e.Key, e => new HealthCheckStatus(e.Value.Status.ToString(), e.Value.Description)));
        return Results.Json(body, statusCode: report.Status == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    private static async Task<IResult> ListVerificationsAsync(VerificationService verifications, Guid? backupId, int page = 0, int pageSize = 25, CancellationToken ct = default)
    {
        if (BadPage(page, pageSize) is { } bad)
        {
            return bad;
        }

        var result = await verifications.QueryAsync(page, pageSize, backupId, ct);
        return Results.Ok(new ApiPage<VerificationRunItem>(result.Items, result.TotalCount, page, pageSize));
    }

    private static async Task<IResult> GetVerificationAsync(Guid id, VerificationService verifications, CancellationToken ct) =>
        await verifications.GetAsync(id, ct) is { } run ? Results.Ok(run) : NotFound("verification", id);

    private static async Task<IResult> CancelVerificationAsync(Guid id, HttpContext http, VerificationService verifications)
    {
        await verifications.CancelAsync(CurrentActor.FromPrincipal(http.User), id, http.RequestAborted);
        return Results.Accepted($"/api/v1/verifications/{id}", new AcceptedRun("verification", id, $"/api/v1/verifications/{id}"));
    }

    private static async Task<IResult> ListRestoresAsync(RestoreService restores, int page = 0, int pageSize = 25, CancellationToken ct = default)
    {
        if (BadPage(page, pageSize) is { } bad)
        {
            return bad;
        }

        var result = await restores.QueryAsync(page, pageSize, ct);
        return Results.Ok(new ApiPage<RestoreRunItem>(result.Items, result.TotalCount, page, pageSize));
    }

    private static async Task<IResult> GetRestoreAsync(Guid id, RestoreService restores, CancellationToken ct) =>
        await restores.GetAsync(id, ct) is { } run ? Results.Ok(run) : NotFound("restore", id);

    private static async Task<IResult> RequestRestoreAsync([FromBody] RestoreRequestBody body, HttpContext http, RestoreService restores)
    {
        var id = await restores.RequestAsync(CurrentActor.FromPrincipal(http.User),
            new RestoreRequest(body.BackupId, body.Mode, body.DatabaseName?.Trim() ?? "", body.ReplaceExisting, body.Confirmation), http.RequestAborted);
        return Results.Accepted($"/api/v1/restores/{id}", new AcceptedRun("restore", id, $"/api/v1/restores/{id}"));
    }

    private static async Task<IResult> CancelRestoreAsync(Guid id, HttpContext http, RestoreService restores)
    {
        await restores.CancelAsync(CurrentActor.FromPrincipal(http.User), id, http.RequestAborted);
        return Results.Accepted($"/api/v1/restores/{id}", new AcceptedRun("restore", id, $"/api/v1/restores/{id}"));
    }

    private static async Task<IResult> RunsAsync(BackupService backups, VerificationService verifications, RestoreService restores, bool active = true, CancellationToken ct = default)
    {
        const int take = 50;
        var runs = new List<RunStatus>();
        runs.AddRange((await backups.QueryAsync(new BackupQuery(0, take), ct)).Items.Where(b => !active || b.IsActive)
            .Select(b => new RunStatus("backup", b.Id, b.Status.ToString(), null, b.FileName, b.TargetName, b.CreatedAt, b.StartedAt, b.FinishedAt, b.Error, $"/api/v1/backups/{b.Id}")));
        runs.AddRange((await verifications.QueryAsync(0, take, null, ct)).Items.Where(v => !active || v.IsActive)
            .Select(v => new RunStatus("verification", v.Id, v.Status.ToString(), v.Phase.ToString(), v.BackupFileName, v.TargetName, v.CreatedAt, v.StartedAt, v.FinishedAt, v.Error, $"/api/v1/verifications/{v.Id}")));
        runs.AddRange((await restores.QueryAsync(0, take, ct)).Items.Where(r => !active || r.IsActive)
            .Select(r => new RunStatus("restore", r.Id, r.Status.ToString(), r.Phase.ToString(), $"{r.BackupFileName} → {r.DatabaseName}", r.TargetName, r.CreatedAt, r.StartedAt, r.FinishedAt, r.Error, $"/api/v1/restores/{r.Id}")));
        return Results.Ok(runs.OrderByDescending(r => r.CreatedAt).ToList());
    }

    private static IResult? BadPage(int page, int pageSize) => page < 0 || pageSize is < 1 or > BackupsApi.MaxPageSize
        ? Results.Problem($"page starts at 0 and pageSize is 1 to {BackupsApi.MaxPageSize}.", statusCode: StatusCodes.Status400BadRequest, title: "Bad request")
        : null;

    private static IResult NotFound(string kind, Guid id) => Results.Problem($"There is no {kind} run {id}.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
}
