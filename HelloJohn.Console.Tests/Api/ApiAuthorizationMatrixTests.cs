using System.Net;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Security.ApiTokens;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Tests.Api;

/// <summary>Every API endpoint × every role × every kind of bad credential. A role without the permission gets 403, a
/// missing, malformed, expired or revoked token, or one whose owner is disabled, gets 401 (also when it worked until its
/// owner was disabled or revoked it), a browser session alone gets 401; a token whose owner was demoted, and another
/// user's token, act with that owner's role as it is now; and none of them starts or changes anything. Calls that are allowed aim at ids that do not exist, so they are
/// answered (404, 409) without running work.</summary>
[Trait("Capability", "Api")]
[Collection(PostgresCollection.Name)]
public sealed class ApiAuthorizationMatrixTests(ApiAuthorizationMatrixTests.App app) : IClassFixture<ApiAuthorizationMatrixTests.App>
{
    public sealed class App : ApiTestApp
    {
        public App(PostgresClusterFixture postgres) : base(postgres) => Settings["Api:BadTokensPerMinute"] = "100000";
    }

    private static readonly string Missing = Guid.NewGuid().ToString();

    /// <param name="Needs">Null: any console role may call it.</param>
    private sealed record Row(string Method, string Pattern, ConsolePermission? Needs, object? Body = null)
    {
        public string Path => Pattern.Replace("{id:guid}", Missing, StringComparison.Ordinal);
    }

    private static readonly Row[] Matrix =
    [
        new("GET", "/api/v1/health", null),
        new("GET", "/api/v1/targets", null),
        new("GET", "/api/v1/runs", null),
        new("GET", "/api/v1/backups/", null),
        new("GET", "/api/v1/backups/{id:guid}", null),
        new("POST", "/api/v1/backups/", ConsolePermission.RunBackup, new { targetId = Missing }),
        new("POST", "/api/v1/backups/{id:guid}/cancel", ConsolePermission.CancelBackup),
        new("POST", "/api/v1/backups/{id:guid}/verifications", ConsolePermission.VerifyBackup),
        new("GET", "/api/v1/backups/{id:guid}/download", ConsolePermission.DownloadBackup),
        new("GET", "/api/v1/verifications/", null),
        new("GET", "/api/v1/verifications/{id:guid}", null),
        new("POST", "/api/v1/verifications/{id:guid}/cancel", ConsolePermission.VerifyBackup),
        new("GET", "/api/v1/restores/", null),
        new("GET", "/api/v1/restores/{id:guid}", null),
        new("POST", "/api/v1/restores/", ConsolePermission.RestoreToNewDatabase, new { backupId = Missing, mode = "NewDatabase", databaseName = "api_matrix" }),
        new("POST", "/api/v1/restores/", ConsolePermission.RestoreInPlace, new { backupId = Missing, mode = "InPlace", databaseName = "hellojohn", confirmation = "hellojohn" }),
        new("POST", "/api/v1/restores/{id:guid}/cancel", ConsolePermission.RestoreToNewDatabase),
        new("GET", "/api/v1/deployments/", null),
        new("GET", "/api/v1/deployments/{id:guid}", null),
        new("POST", "/api/v1/deployments/", ConsolePermission.ManageSettings, new { name = "api-matrix", connection = "postgres://x:y@127.0.0.1:1/postgres" }),
        new("PUT", "/api/v1/deployments/{id:guid}", ConsolePermission.ManageSettings, new { name = "api-matrix", databases = new[] { "x" } }),
        new("DELETE", "/api/v1/deployments/{id:guid}", ConsolePermission.ManageSettings),
        new("GET", "/api/v1/sets/", null),
        new("GET", "/api/v1/sets/{id:guid}", null),
        new("POST", "/api/v1/sets/", ConsolePermission.RunBackup, new { deploymentId = Missing }),
        new("POST", "/api/v1/sets/{id:guid}/retry", ConsolePermission.RunBackup),
        new("POST", "/api/v1/sets/{id:guid}/cancel", ConsolePermission.CancelBackup),
        new("POST", "/api/v1/sets/{id:guid}/verifications", ConsolePermission.VerifyBackup),
        new("POST", "/api/v1/sets/{id:guid}/restores", ConsolePermission.RestoreToNewDatabase, new { prefix = "api_matrix_" }),
        new("GET", "/api/v1/sets/{id:guid}/roles", ConsolePermission.DownloadBackup),
    ];

    [Fact]
    public void ApiEndpoints_OfTheRunningApp_AreAllInTheMatrix()
    {
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1/", StringComparison.Ordinal) && e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>() is not null)
            .Where(e => !e.RoutePattern.RawText!.StartsWith("/api/v1/reference", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {e.RoutePattern.RawText}"))
            .Distinct().ToList();
        var rows = Matrix.Select(r => $"{r.Method} {r.Pattern}").Distinct().ToList();
        Assert.Equal(rows.Order(), endpoints.Order());
    }

    [Fact]
    public async Task EveryEndpoint_ForEveryRoleAndBadCredential_AnswersAsItShouldAndChangesNothing()
    {
        var tokens = new Dictionary<string, string>();
        foreach (var role in ConsoleRoles.All)
        {
            tokens[role] = await app.TokenForAsync(await app.CreateAccountAsync(role));
        }

        var admin = await app.CreateAccountAsync(ConsoleRoles.Admin);
        var tokenService = app.Service<ApiTokenService>();
        var expired = await app.TokenForAsync(admin, "expired");
        var revoked = await tokenService.CreateAsync(admin.Actor, "revoked", DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None);
        await tokenService.RevokeAsync(admin.Actor, revoked.Summary.Id, CancellationToken.None);
        var disabledOwner = await app.CreateAccountAsync(ConsoleRoles.Admin, "disabled");
        var ofDisabled = await app.TokenForAsync(disabledOwner);
        await using (var db = await app.DbAsync())
        {
            var prefix = ApiTokenFormat.PrefixOf(expired);
            await db.Set<ApiToken>().Where(t => t.Prefix == prefix).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)));
        }

        var users = app.Service<UserAdministrationService>();
        var headAdmin = (await app.AdminAsync()).Actor;
        await users.DisableAsync(headAdmin, disabledOwner.Id, CancellationToken.None);

        // Tokens that worked until their owner's account changed: each is used once first, so nothing of the first
        // answer may be remembered for the next.
        var demoted = await app.CreateAccountAsync(ConsoleRoles.Admin, "demoted");
        var ofDemoted = await app.TokenForAsync(demoted);
        var disabledLater = await app.CreateAccountAsync(ConsoleRoles.Operator, "disabled-later");
        var ofDisabledLater = await app.TokenForAsync(disabledLater);
        var revokedLater = await app.CreateAccountAsync(ConsoleRoles.Operator, "revoked-later");
        var ofRevokedLater = await tokenService.CreateAsync(revokedLater.Actor, "revoked later", DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None);
        foreach (var used in new[] { ofDemoted, ofDisabledLater, ofRevokedLater.Token })
        {
            using var first = await app.ApiClient(used).GetAsync($"/api/v1/backups/{Missing}");
            Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        }

        await users.ChangeRoleAsync(headAdmin, demoted.Id, ConsoleRoles.Viewer, CancellationToken.None);
        await users.DisableAsync(headAdmin, disabledLater.Id, CancellationToken.None);
        await tokenService.RevokeAsync(revokedLater.Actor, ofRevokedLater.Summary.Id, CancellationToken.None);

        // Another person's token: an Admin cannot revoke it (it is "not found" to them), and presented by anyone it acts
        // with its owner's role (Viewer), never the presenter's.
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer, "others");
        var othersToken = await tokenService.CreateAsync(viewer.Actor, "viewer's", DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => tokenService.RevokeAsync(admin.Actor, othersToken.Summary.Id, CancellationToken.None));
        var stillOthers = new Dictionary<string, string> { ["demoted owner's token (now Viewer)"] = ofDemoted, ["another user's token (Viewer) kept after an Admin's revoke"] = othersToken.Token };
        var bad = new Dictionary<string, HttpClient>
        {
            ["no token"] = app.ApiClient(null),
            ["malformed token"] = app.ApiClient("not-a-token"),
            ["unknown token"] = app.ApiClient(ApiTokenFormat.NewToken()),
            ["expired token"] = app.ApiClient(expired),
            ["revoked token"] = app.ApiClient(revoked.Token),
            ["disabled owner's token"] = app.ApiClient(ofDisabled),
            ["browser session"] = await app.SignedInClientAsync(admin),
            ["token used, then its owner disabled"] = app.ApiClient(ofDisabledLater),
            ["token used, then revoked by its owner"] = app.ApiClient(ofRevokedLater.Token),
        };
        var before = await RunCountsAsync();
        var failures = new List<string>();
        foreach (var row in Matrix)
        {
            foreach (var role in ConsoleRoles.All)
            {
                using var response = await ApiTestApp.SendAsync(app.ApiClient(tokens[role]), row.Method, row.Path, row.Body);
                var allowed = row.Needs is not { } needs || ConsolePermissions.RoleHas(role, needs);
                var status = (int)response.StatusCode;
                var ok = allowed ? status is >= 200 and < 500 and not 401 and not 403 and not 429 : status == 403;
                if (!ok)
                {
                    failures.Add($"{row.Method} {row.Path} as {role}: expected {(allowed ? "an answer" : "403")}, got {status} {await response.Content.ReadAsStringAsync()}");
                }
            }

            foreach (var (what, token) in stillOthers)
            {
                using var response = await ApiTestApp.SendAsync(app.ApiClient(token), row.Method, row.Path, row.Body);
                var allowed = row.Needs is not { } needs || ConsolePermissions.RoleHas(ConsoleRoles.Viewer, needs);
                var status = (int)response.StatusCode;
                if (allowed ? status is < 200 or >= 500 or 401 or 403 or 429 : status != 403)
                {
                    failures.Add($"{row.Method} {row.Path} with the {what}: expected {(allowed ? "an answer" : "403")}, got {status}");
                }
            }

            foreach (var (what, client) in bad)
            {
                using var response = await ApiTestApp.SendAsync(client, row.Method, row.Path, row.Body);
                if (response.StatusCode != HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{row.Method} {row.Path} with {what}: expected 401, got {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(before, await RunCountsAsync());
    }

    private async Task<(int, int, int)> RunCountsAsync()
    {
        await using var db = await app.DbAsync();
        return (await db.Backups.CountAsync(), await db.Set<VerificationRun>().CountAsync(), await db.Set<RestoreRun>().CountAsync());
    }
}
