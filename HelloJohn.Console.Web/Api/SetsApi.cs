using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Mvc;

namespace HelloJohn.Console.Web.Api;

/// <summary>A set to take: of the deployment named (the default one when left out).</summary>
public sealed record SetRequestBody(Guid? DeploymentId = null);

/// <summary>Where to restore a whole set: each database into prefix + name + suffix.</summary>
public sealed record SetRestoreBody(string? Prefix, string? Suffix);

/// <summary><c>/api/v1/sets</c>: backup sets of deployments, their members, retrying the failed ones, verifying and
/// restoring whole sets, and the roles file (Admin).</summary>
internal static class SetsApi
{
    public static RouteGroupBuilder MapSetsApi(this RouteGroupBuilder api)
    {
        var sets = api.MapGroup("/sets").WithTags("Backup sets");
        sets.MapGet("/", ListAsync).WithSummary("Backup sets, newest first").WithDescription("Filter by deploymentId and status (Queued, Running, Succeeded, Partial, Failed, Cancelled, Expired).");
        sets.MapGet("/{id:guid}", GetAsync).WithSummary("One set with each member (database, file, status, size, SHA-256, schema version, why it failed) and its roles file");
        sets.MapPost("/", RequestAsync).Audited().WithSummary("Back up a deployment now, as a set (Operator, Admin)");
        sets.MapPost("/{id:guid}/retry", RetryAsync).Audited().WithSummary("Run again only the members that failed (Operator, Admin)");
        sets.MapPost("/{id:guid}/cancel", CancelAsync).Audited().WithSummary("Cancel a queued or running set (Operator, Admin)");
        sets.MapPost("/{id:guid}/verifications", VerifyAsync).Audited().WithSummary("Verify every member of a set (Operator, Admin)");
        sets.MapPost("/{id:guid}/restores", RestoreAsync).Audited().WithSummary("Restore every member into new databases named prefix + database + suffix (Operator, Admin)")
            .WithDescription("Every name is checked first; one that exists or is a live database refuses the whole request (409) with nothing restored. Roles are not applied.");
        sets.MapGet("/{id:guid}/roles", RolesAsync).Audited().WithSummary("Download the set's roles file, pg_dumpall --globals-only (Admin)")
            .WithDescription("With passwords it holds their hashes. Its SHA-256 is in the X-HelloJohn-Sha256 header. Every download is audited.")
            .Produces(StatusCodes.Status200OK, contentType: "application/sql");
        return api;
    }

    private static async Task<IResult> ListAsync(SetService sets, Guid? deploymentId, BackupSetStatus? status, int page = 0, int pageSize = 25, CancellationToken ct = default)
    {
        if (page < 0 || pageSize is < 1 or > BackupsApi.MaxPageSize)
        {
            return Results.Problem($"page starts at 0 and pageSize is 1 to {BackupsApi.MaxPageSize}.", statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
        }

        var result = await sets.QueryAsync(new BackupSetQuery(page, pageSize, deploymentId, status), ct);
        return Results.Ok(new ApiPage<BackupSetListItem>(result.Items, result.TotalCount, page, pageSize));
    }

    private static async Task<IResult> GetAsync(Guid id, SetService sets, CancellationToken ct) =>
        await sets.GetAsync(id, ct) is { } set ? Results.Ok(set) : Results.Problem($"There is no backup set {id}.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static async Task<IResult> RequestAsync([FromBody] SetRequestBody? body, HttpContext http, SetService sets)
    {
        var id = await sets.RequestAsync(CurrentActor.FromPrincipal(http.User), body?.DeploymentId, BackupTrigger.Manual, http.RequestAborted);
        return Results.Accepted($"/api/v1/sets/{id}", new AcceptedRun("set", id, $"/api/v1/sets/{id}"));
    }

    private static async Task<IResult> RetryAsync(Guid id, HttpContext http, SetService sets)
    {
        await sets.RetryFailedAsync(CurrentActor.FromPrincipal(http.User), id, http.RequestAborted);
        return Results.Accepted($"/api/v1/sets/{id}", new AcceptedRun("set", id, $"/api/v1/sets/{id}"));
    }

    private static async Task<IResult> CancelAsync(Guid id, HttpContext http, SetService sets)
    {
        var result = await sets.CancelAsync(CurrentActor.FromPrincipal(http.User), id, http.RequestAborted);
        return Results.Accepted($"/api/v1/sets/{id}", new { result.Message, Location = $"/api/v1/sets/{id}" });
    }

    private static async Task<IResult> VerifyAsync(Guid id, HttpContext http, SetVerificationService verifications)
    {
        var verificationId = await verifications.RequestAsync(CurrentActor.FromPrincipal(http.User), id, VerificationTrigger.Manual, http.RequestAborted);
        return Results.Accepted($"/api/v1/sets/{id}", new AcceptedRun("set verification", verificationId, $"/api/v1/sets/{id}"));
    }

    private static async Task<IResult> RestoreAsync(Guid id, [FromBody] SetRestoreBody body, HttpContext http, SetRestoreService restores)
    {
        var runs = await restores.RestoreAsync(CurrentActor.FromPrincipal(http.User), id, body.Prefix, body.Suffix, http.RequestAborted);
        return Results.Accepted("/api/v1/restores", runs.Select(r => new AcceptedRun("restore", r, $"/api/v1/restores/{r}")).ToList());
    }

    private static async Task<IResult> RolesAsync(Guid id, HttpContext http, SetRolesService roles)
    {
        var file = await roles.DownloadAsync(CurrentActor.FromPrincipal(http.User), id, http.RequestAborted);
        http.Response.Headers["X-HelloJohn-Sha256"] = file.Sha256;
        return Results.File(file.Content, "application/sql", file.FileName);
    }
}
