using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Mvc;

namespace HelloJohn.Console.Web.Api;

/// <summary>A deployment as the API shows it: never its connection string, only the server's address.</summary>
public sealed record ApiDeployment(
    Guid Id,
    string Name,
    string? Server,
    IReadOnlyList<string> Databases,
    IReadOnlyList<string> Patterns,
    string? BaseUrl,
    TargetProvider Provider,
    TargetConnectionSource Connection,
    IReadOnlyList<ApiDeploymentDatabase> Found);

/// <summary>A database of a deployment's server as last found: Protected, NotProtected or Gone.</summary>
public sealed record ApiDeploymentDatabase(string Name, DeploymentDatabaseState State, string? SelectedBy, long? SizeBytes, DateTimeOffset LastSeenAt, DateTimeOffset? GoneSince);

/// <summary>A deployment to add or change. Leave connection out when changing to keep the stored one.</summary>
public sealed record ApiDeploymentBody(string Name, string? Connection, IReadOnlyList<string>? Databases, IReadOnlyList<string>? Patterns, string? BaseUrl, TargetProvider Provider = TargetProvider.SelfManaged)
{
    public DeploymentDraft Draft() => new(Name, Connection, string.Join('\n', Databases ?? []), string.Join('\n', Patterns ?? []), BaseUrl, Provider);
}

/// <summary><c>/api/v1/deployments</c>: the deployments under protection and the databases found on their servers;
/// administrators add, change and remove them (tried first, as in Settings).</summary>
internal static class DeploymentsApi
{
    public static RouteGroupBuilder MapDeploymentsApi(this RouteGroupBuilder api)
    {
        var deployments = api.MapGroup("/deployments").WithTags("Deployments");
        deployments.MapGet("/", ListAsync).WithSummary("Deployments: each server and the databases it protects, by name and by pattern");
        deployments.MapGet("/{id:guid}", GetAsync).WithSummary("One deployment with the databases last found on its server (protected, not protected, gone)");
        deployments.MapPost("/", AddAsync).Audited().WithSummary("Add a deployment (Admin)")
            .WithDescription("The connection is tried and the selection evaluated first; a selection of nothing, of the console's own database or overlapping another deployment of the same server is refused (409) with nothing saved.");
        deployments.MapPut("/{id:guid}", UpdateAsync).Audited().WithSummary("Change a deployment (Admin); leave connection out to keep the stored one");
        deployments.MapDelete("/{id:guid}", RemoveAsync).Audited().WithSummary("Remove a deployment (Admin); confirmation must be its name")
            .WithDescription("One with backups is retired: its schedules and connection are removed and its backups stay in the catalog.");
        return api;
    }

    private static async Task<IReadOnlyList<ApiDeployment>> ListAsync(TargetService targets, DeploymentScanner scanner, CancellationToken ct)
    {
        var list = new List<ApiDeployment>();
        foreach (var target in await targets.ListAsync(ct))
        {
            list.Add(await ToApiAsync(target, scanner, ct));
        }

        return list;
    }

    private static async Task<IResult> GetAsync(Guid id, TargetService targets, DeploymentScanner scanner, CancellationToken ct) =>
        Results.Ok(await ToApiAsync(await targets.GetAsync(id, ct), scanner, ct));

    private static async Task<IResult> AddAsync([FromBody] ApiDeploymentBody body, HttpContext http, DeploymentService deployments, TargetService targets, DeploymentScanner scanner)
    {
        var id = await deployments.AddAsync(CurrentActor.FromPrincipal(http.User), body.Draft(), http.RequestAborted);
        return Results.Created($"/api/v1/deployments/{id}", await ToApiAsync(await targets.GetAsync(id, http.RequestAborted), scanner, http.RequestAborted));
    }

    private static async Task<IResult> UpdateAsync(Guid id, [FromBody] ApiDeploymentBody body, HttpContext http, DeploymentService deployments, TargetService targets, DeploymentScanner scanner)
    {
        await deployments.UpdateAsync(CurrentActor.FromPrincipal(http.User), id, body.Draft(), http.RequestAborted);
        return Results.Ok(await ToApiAsync(await targets.GetAsync(id, http.RequestAborted), scanner, http.RequestAborted));
    }

    private static async Task<IResult> RemoveAsync(Guid id, string? confirmation, HttpContext http, DeploymentService deployments) =>
        Results.Ok(new { outcome = await deployments.RemoveAsync(CurrentActor.FromPrincipal(http.User), id, confirmation, http.RequestAborted) });

    private static async Task<ApiDeployment> ToApiAsync(TargetSummary t, DeploymentScanner scanner, CancellationToken ct) =>
        new(t.Id, t.Name, t.DisplayAddress, t.Selection.Databases, t.Selection.Patterns, t.BaseUrl, t.Provider, t.Source,
            [.. (await scanner.DatabasesAsync(t.Id, ct)).Select(d => new ApiDeploymentDatabase(d.Name, d.State, d.SelectedBy, d.SizeBytes, d.LastSeenAt, d.GoneSince))]);
}
