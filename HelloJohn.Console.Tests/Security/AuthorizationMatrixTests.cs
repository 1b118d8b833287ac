using System.Net;
using System.Reflection;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Tests.Security;

/// <summary>Who may reach what, for every page and endpoint of the console. A page or endpoint that is not in
/// <see cref="Matrix"/> fails the suite: whoever adds one must decide who may open it (and give it a policy).</summary>
[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed partial class AuthorizationMatrixTests(AuthorizationMatrixTests.App app) : IClassFixture<AuthorizationMatrixTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : SecurityAppFactory(postgres);

    /// <summary>The least a caller needs. <see cref="Access.SetupClosed"/>: the setup page once an admin exists, which
    /// sends everyone to sign in. <see cref="Access.ApiToken"/>: the REST API, which a browser session never opens (its own
    /// matrix, ApiAuthorizationMatrixTests, covers tokens of every role). <see cref="Access.SecondStep"/>: the two-factor
    /// step, which sends anyone who has not just given a right password back to sign in.</summary>
    public enum Access { Public, AnyRole, Operator, Admin, SetupClosed, ApiToken, SecondStep }

    /// <param name="OfAnItem">A download of one item, requested here for an item that does not exist: when allowed it
    /// answers 404, not 200.</param>
    private sealed record Row(string Pattern, Access Access, string Method = "GET", string? Path = null, bool OfAnItem = false)
    {
        public string RequestPath => Path ?? Pattern;

        /// <summary>A page or download someone opens: when allowed, it must answer 200, not merely pass authorization.</summary>
        public bool MustAnswerOk => Method == "GET" && !Pattern.StartsWith("/_", StringComparison.Ordinal) && !OfAnItem;
    }

    private static readonly Row[] Matrix =
    [
        // Reachable before signing in.
        new("/signin", Access.Public),
        new("/account/signin", Access.Public, "POST"),
        new("/health", Access.Public),
        // The API reference page's own script and icon (public code, no data).
        new("/api/v1/reference/scalar.js", Access.Public),
        new("/api/v1/reference/scalar.aspnetcore.js", Access.Public),
        new("/api/v1/reference/favicon.svg", Access.Public),
        new("/setup", Access.SetupClosed),
        new("/signin/two-factor", Access.SecondStep),
        new("/invite", Access.Public),
        // Every role: reading the console.
        new("/", Access.AnyRole),
        new("/backups", Access.AnyRole),
        new("/restores", Access.AnyRole),
        new("/verification", Access.AnyRole),
        new("/recovery", Access.AnyRole),
        new("/recovery/{RunId:guid}", Access.AnyRole, Path: "/recovery/00000000-0000-0000-0000-000000000000"),
        new("/pitr", Access.AnyRole),
        new("/pitr/{ServerId:guid}", Access.AnyRole, Path: "/pitr/00000000-0000-0000-0000-000000000000"),
        new("/keys", Access.AnyRole),
        new("/schedules", Access.AnyRole),
        new("/history", Access.AnyRole),
        new("/audit", Access.AnyRole),
        new("/audit/export.csv", Access.AnyRole),
        new("/denied", Access.AnyRole),
        new("/account/signout", Access.AnyRole, "POST"),
        new("/account/password", Access.AnyRole),
        new("/account/password", Access.AnyRole, "POST"),
        new("/account/two-factor", Access.AnyRole),
        new("/account/tokens", Access.AnyRole),
        new("/api/{documentName}/openapi.json", Access.AnyRole, Path: "/api/v1/openapi.json"),
        new("/api/v1/reference/{documentName?}", Access.AnyRole, Path: "/api/v1/reference/v1"),
        // The REST API: personal tokens only.
        new("/api/v1/health", Access.ApiToken),
        new("/api/v1/targets", Access.ApiToken),
        new("/api/v1/runs", Access.ApiToken),
        new("/api/v1/backups/", Access.ApiToken),
        new("/api/v1/backups/", Access.ApiToken, "POST"),
        new("/api/v1/backups/{id:guid}", Access.ApiToken, Path: "/api/v1/backups/00000000-0000-0000-0000-000000000000"),
        new("/api/v1/backups/{id:guid}/cancel", Access.ApiToken, "POST", "/api/v1/backups/00000000-0000-0000-0000-000000000000/cancel"),
        new("/api/v1/backups/{id:guid}/verifications", Access.ApiToken, "POST", "/api/v1/backups/00000000-0000-0000-0000-000000000000/verifications"),
        new("/api/v1/backups/{id:guid}/download", Access.ApiToken, Path: "/api/v1/backups/00000000-0000-0000-0000-000000000000/download"),
        new("/api/v1/verifications/", Access.ApiToken),
        new("/api/v1/verifications/{id:guid}", Access.ApiToken, Path: "/api/v1/verifications/00000000-0000-0000-0000-000000000000"),
        new("/api/v1/verifications/{id:guid}/cancel", Access.ApiToken, "POST", "/api/v1/verifications/00000000-0000-0000-0000-000000000000/cancel"),
        new("/api/v1/restores/", Access.ApiToken),
        new("/api/v1/restores/", Access.ApiToken, "POST"),
        new("/api/v1/restores/{id:guid}", Access.ApiToken, Path: "/api/v1/restores/00000000-0000-0000-0000-000000000000"),
        new("/api/v1/restores/{id:guid}/cancel", Access.ApiToken, "POST", "/api/v1/restores/00000000-0000-0000-0000-000000000000/cancel"),
        new("/api/v1/deployments/", Access.ApiToken),
        new("/api/v1/deployments/", Access.ApiToken, "POST"),
        new("/api/v1/deployments/{id:guid}", Access.ApiToken, Path: "/api/v1/deployments/00000000-0000-0000-0000-000000000000"),
        new("/api/v1/deployments/{id:guid}", Access.ApiToken, "PUT", "/api/v1/deployments/00000000-0000-0000-0000-000000000000"),
        new("/api/v1/deployments/{id:guid}", Access.ApiToken, "DELETE", "/api/v1/deployments/00000000-0000-0000-0000-000000000000"),
        new("/api/v1/sets/", Access.ApiToken),
        new("/api/v1/sets/", Access.ApiToken, "POST"),
        new("/api/v1/sets/{id:guid}", Access.ApiToken, Path: "/api/v1/sets/00000000-0000-0000-0000-000000000000"),
        new("/api/v1/sets/{id:guid}/retry", Access.ApiToken, "POST", "/api/v1/sets/00000000-0000-0000-0000-000000000000/retry"),
        new("/api/v1/sets/{id:guid}/cancel", Access.ApiToken, "POST", "/api/v1/sets/00000000-0000-0000-0000-000000000000/cancel"),
        new("/api/v1/sets/{id:guid}/verifications", Access.ApiToken, "POST", "/api/v1/sets/00000000-0000-0000-0000-000000000000/verifications"),
        new("/api/v1/sets/{id:guid}/restores", Access.ApiToken, "POST", "/api/v1/sets/00000000-0000-0000-0000-000000000000/restores"),
        new("/api/v1/sets/{id:guid}/roles", Access.ApiToken, Path: "/api/v1/sets/00000000-0000-0000-0000-000000000000/roles"),
        // Blazor's own plumbing: the circuit hub and redirects of interactive pages.
        new("/_blazor", Access.AnyRole),
        new("/_blazor/negotiate", Access.AnyRole, "POST"),
        new("/_blazor/disconnect/", Access.AnyRole, "POST"),
        new("/_blazor/initializers/", Access.AnyRole),
        new("/_framework/opaque-redirect", Access.AnyRole),
        // Admin only.
        new("/settings", Access.Admin),
        new("/backups/{id:guid}/download", Access.Admin, Path: "/backups/00000000-0000-0000-0000-000000000000/download", OfAnItem: true),
        new("/users", Access.Admin),
        new("/jobs/{**path}", Access.Admin, Path: "/jobs"),
    ];

    private static readonly string[] Identities = ["anonymous", ConsoleRoles.Viewer, ConsoleRoles.Operator, ConsoleRoles.Admin];

    [Fact]
    public void RoutablePages_DiscoveredByReflection_AreAllInTheMatrix()
    {
        var pages = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (Type: t, r.Template)))
            .ToList();

        Assert.NotEmpty(pages);
        var missing = pages.Where(p => Matrix.All(r => r.Pattern != p.Template)).Select(p => $"{p.Template} ({p.Type.Name})").ToList();
        Assert.True(missing.Count == 0, "Pages without a row in the authorization matrix (decide who may open them, give them [Authorize(Policy = …)], add a row): " + string.Join(", ", missing));
    }

    [Fact]
    public void Endpoints_OfTheRunningApp_AreAllInTheMatrixAndNoRowIsStale()
    {
        var patterns = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText!).Distinct().ToList();

        var missing = patterns.Where(p => Matrix.All(r => r.Pattern != p)).ToList();
        Assert.True(missing.Count == 0, "Endpoints without a row in the authorization matrix: " + string.Join(", ", missing));
        var stale = Matrix.Where(r => !patterns.Contains(r.Pattern)).Select(r => r.Pattern).ToList();
        Assert.True(stale.Count == 0, "Matrix rows for endpoints that no longer exist: " + string.Join(", ", stale));
    }

    [Fact]
    public async Task EveryRow_ForEveryRole_GivesTheExpectedAnswer()
    {
        var clients = new Dictionary<string, HttpClient> { ["anonymous"] = app.NewClient() };
        foreach (var role in ConsoleRoles.All)
        {
            clients[role] = await app.SignedInClientAsync(await app.CreateAccountAsync(role));
        }

        var failures = new List<string>();
        foreach (var row in Matrix)
        {
            foreach (var identity in Identities)
            {
                using var request = new HttpRequestMessage(new HttpMethod(row.Method), row.RequestPath);
                if (row.Method == "POST")
                {
                    // No antiforgery token: a request that passes authorization is then refused with 400, which still
                    // shows it was let through; sign-out must not actually sign this client out.
                    request.Content = row.Access == Access.ApiToken ? System.Net.Http.Json.JsonContent.Create(new { }) : new FormUrlEncodedContent([]);
                }

                using var response = await clients[identity].SendAsync(request);
                var expected = Expected(row, identity);
                var actual = Classify(response);
                if (actual == Answer.Allowed && row.MustAnswerOk && response.StatusCode != HttpStatusCode.OK)
                {
                    actual = Answer.Broken;
                }

                if (actual == Answer.Allowed && row.OfAnItem && response.StatusCode != HttpStatusCode.NotFound)
                {
                    actual = Answer.Broken;
                }

                if (expected != actual)
                {
                    failures.Add($"{row.Method} {row.RequestPath} as {identity}: expected {expected}, got {actual} ({(int)response.StatusCode} {response.Headers.Location})");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private enum Answer { Allowed, SignInRequired, Refused, SentToSignIn, Broken }

    private static Answer Expected(Row row, string identity)
    {
        if (row.Access is Access.SetupClosed or Access.SecondStep)
        {
            return Answer.SentToSignIn;
        }

        if (row.Access == Access.Public)
        {
            return Answer.Allowed;
        }

        if (row.Access == Access.ApiToken)
        {
            return Answer.SignInRequired;
        }

        if (identity == "anonymous")
        {
            return Answer.SignInRequired;
        }

        var needed = row.Access switch
        {
            Access.AnyRole => ConsolePermission.ViewHistory,
            Access.Operator => ConsolePermission.RunBackup,
            _ => ConsolePermission.ManageUsers,
        };
        return ConsolePermissions.RoleHas(identity, needed) ? Answer.Allowed : Answer.Refused;
    }

    private static Answer Classify(HttpResponseMessage response)
    {
        var location = response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l.AbsolutePath : l.OriginalString.Split('?')[0]) : null;
        var query = response.Headers.Location?.OriginalString.Contains("ReturnUrl=", StringComparison.Ordinal) == true;
        return (response.StatusCode, location) switch
        {
            (HttpStatusCode.Redirect or HttpStatusCode.Unauthorized, "/signin") when query => Answer.SignInRequired,
            (HttpStatusCode.Redirect, "/signin") => Answer.SentToSignIn,
            (HttpStatusCode.Redirect, "/denied") or (HttpStatusCode.Forbidden, _) => Answer.Refused,
            (HttpStatusCode.Unauthorized, _) => Answer.SignInRequired,
            _ => Answer.Allowed,
        };
    }
}
