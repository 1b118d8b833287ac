using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Mvc;

namespace HelloJohn.Console.Web.Api;

/// <summary><c>/api/v1/backups</c>: the catalog, taking and cancelling backups, verifying one, downloading one (Admin).</summary>
internal static class BackupsApi
{
    public const int MaxPageSize = 200;

    public static RouteGroupBuilder MapBackupsApi(this RouteGroupBuilder api)
    {
        var backups = api.MapGroup("/backups").WithTags("Backups");
        backups.MapGet("/", ListAsync).WithSummary("List backups, newest first").WithDescription("Filter by targetId and status (Queued, Running, Succeeded, PartiallyStored, Failed, Cancelled, Expired).");
        backups.MapGet("/{id:guid}", GetAsync).WithSummary("One backup with its table counts and locations");
        backups.MapPost("/", RequestAsync).Audited().WithSummary("Take a backup now (Operator, Admin)").WithDescription("Queues a backup of the target (the default target when targetId is left out) and answers 202 with where to follow it.");
        backups.MapPost("/{id:guid}/cancel", CancelAsync).Audited().WithSummary("Cancel a queued or running backup (Operator, Admin)");
        backups.MapPost("/{id:guid}/verifications", VerifyAsync).Audited().WithSummary("Verify a backup (Operator, Admin)").WithDescription("Restores it into a throw-away database, counts every table and compares with the manifest.");
        backups.MapGet("/{id:guid}/download", DownloadAsync).Audited().WithSummary("Download the backup file (Admin)")
            .WithDescription("Streams the dump as stored (.dump or .dump.zst). Its SHA-256 is in the X-HelloJohn-Sha256 header. Every download is audited.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream");
        return api;
    }

    private static async Task<IResult> ListAsync(BackupService backups, Guid? targetId, BackupStatus? status, int page = 0, int pageSize = 25, CancellationToken ct = default)
    {
        if (page < 0 || pageSize is < 1 or > MaxPageSize)
        {
            return Results.Problem($"page starts at 0 and pageSize is 1 to {MaxPageSize}.", statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
        }

        var result = await backups.QueryAsync(new BackupQuery(page, pageSize, targetId, status), ct);
        return Results.Ok(new ApiPage<BackupListItem>(result.Items, result.TotalCount, page, pageSize));
    }

    private static async Task<IResult> GetAsync(Guid id, BackupService backups, CancellationToken ct) =>
        await backups.GetAsync(id, ct) is { } details ? Results.Ok(details) : Results.Problem($"There is no backup {id}.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static async Task<IResult> RequestAsync([FromBody] BackupRequestBody? body, HttpContext http, BackupService backups)
    {
        var id = await backups.RequestAsync(CurrentActor.FromPrincipal(http.User), body?.TargetId, BackupTrigger.Manual, http.RequestAborted);
        return Results.Accepted($"/api/v1/backups/{id}", new AcceptedRun("backup", id, $"/api/v1/backups/{id}"));
    }

    private static async Task<IResult> CancelAsync(Guid id, HttpContext http, BackupService backups)
    {
        await backups.CancelAsync(CurrentActor.FromPrincipal(http.User), id, http.RequestAborted);
        return Results.Accepted($"/api/v1/backups/{id}", new AcceptedRun("backup", id, $"/api/v1/backups/{id}"));
    }

    private static async Task<IResult> VerifyAsync(Guid id, HttpContext http, VerificationService verifications)
    {
        var runId = await verifications.RequestAsync(CurrentActor.FromPrincipal(http.User), id, VerificationTrigger.Manual, http.RequestAborted);
        return Results.Accepted($"/api/v1/verifications/{runId}", new AcceptedRun("verification", runId, $"/api/v1/verifications/{runId}"));
    }

    private static async Task<IResult> DownloadAsync(Guid id, HttpContext http, BackupDownloadService downloads)
    {
        var prefix = http.User.FindFirst(ApiTokenAuthenticationHandler.TokenPrefixClaim)?.Value;
        var download = await downloads.OpenAsync(CurrentActor.FromPrincipal(http.User), id, $"API token {prefix}…", http.RequestAborted);
        return BackupFileEndpoints.Stream(http, download);
    }
}
