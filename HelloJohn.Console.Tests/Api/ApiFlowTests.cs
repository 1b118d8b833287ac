using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Security.ApiTokens;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Api;

/// <summary>A script's day with a personal token, end to end on the real console: back up, follow the run, verify,
/// restore into a new database, download; and the token following its owner's account.</summary>
[Trait("Capability", "Api")]
[Collection(PostgresCollection.Name)]
public sealed class ApiFlowTests(ApiFlowTests.App app) : IClassFixture<ApiFlowTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : ApiTestApp(postgres);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task Flow_WithAnAdminToken_BacksUpVerifiesRestoresAndDownloads()
    {
        var admin = await app.CreateAccountAsync(ConsoleRoles.Admin);
        var token = await app.TokenForAsync(admin, "nightly script");
        using var api = app.ApiClient(token);

        using var requested = await api.PostAsJsonAsync("/api/v1/backups/", new { });
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var backup = await requested.Content.ReadFromJsonAsync<JsonElement>();
        var backupUrl = backup.GetProperty("location").GetString()!;
        Assert.Equal(backupUrl, requested.Headers.Location!.OriginalString);
        var done = await FollowAsync(api, backupUrl, b => b.GetProperty("backup").GetProperty("status").GetString()!, "Succeeded");
        var sha = done.GetProperty("backup").GetProperty("sha256").GetString()!;
        Assert.NotEmpty(done.GetProperty("tables").EnumerateArray());

        using var verify = await api.PostAsync($"{backupUrl}/verifications", null);
        Assert.Equal(HttpStatusCode.Accepted, verify.StatusCode);
        var verification = await FollowAsync(api, (await verify.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("location").GetString()!,
            v => v.GetProperty("run").GetProperty("status").GetString()!, "Passed");
        var tables = verification.GetProperty("tables").EnumerateArray().ToList();
        Assert.NotEmpty(tables);
        Assert.All(tables, t => Assert.Equal(t.GetProperty("expected").GetInt64(), t.GetProperty("actual").GetInt64()));

        var database = $"api_restore_{Guid.NewGuid():N}"[..24];
        using var restore = await api.PostAsJsonAsync("/api/v1/restores/", new { backupId = done.GetProperty("backup").GetProperty("id").GetGuid(), mode = "NewDatabase", databaseName = database });
        Assert.Equal(HttpStatusCode.Accepted, restore.StatusCode);
        var restored = await FollowAsync(api, (await restore.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("location").GetString()!, r => r.GetProperty("run").GetProperty("status").GetString()!, "Succeeded");
        Assert.True(restored.GetProperty("run").GetProperty("countsMatch").GetBoolean());
        Assert.Equal(tables.Sum(t => t.GetProperty("actual").GetInt64()), restored.GetProperty("run").GetProperty("rowsRestored").GetInt64());

        // In place needs its confirmation: without it the restore is refused and nothing runs.
        using var inPlace = await api.PostAsJsonAsync("/api/v1/restores/", new { backupId = done.GetProperty("backup").GetProperty("id").GetGuid(), mode = "InPlace", databaseName = "hellojohn" });
        Assert.Equal(HttpStatusCode.Conflict, inPlace.StatusCode);
        Assert.Contains("type its name exactly", await inPlace.Content.ReadAsStringAsync());

        using var download = await api.GetAsync($"{backupUrl}/download");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal(sha, download.Headers.GetValues("X-HelloJohn-Sha256").Single());

        var runs = await api.GetFromJsonAsync<JsonElement>("/api/v1/runs?active=false");
        Assert.Contains(runs.EnumerateArray(), r => r.GetProperty("location").GetString() == backupUrl);
        Assert.Equal("Healthy", (await api.GetFromJsonAsync<JsonElement>("/api/v1/health")).GetProperty("status").GetString());

        // Every call that changed something or read the file is in the audit trail with the token that made it.
        await using var db = await app.DbAsync();
        var calls = await db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditActions.ApiCall && e.UserId == admin.Id).ToListAsync();
        Assert.Contains(calls, c => c.Target == "POST /api/v1/backups/" && c.Outcome == AuditOutcome.Succeeded && c.Detail!.Contains(ApiTokenFormat.PrefixOf(token), StringComparison.Ordinal));
        Assert.True(calls.Any(c => c.Target!.EndsWith("/download", StringComparison.Ordinal) && c.Detail!.Contains("answered 200", StringComparison.Ordinal)),
            string.Join("\n", calls.Select(c => $"{c.Target} {c.Outcome} {c.Detail}")));
        Assert.Contains(calls, c => c.Target == "POST /api/v1/restores/" && c.Outcome == AuditOutcome.Failed);
        Assert.Contains(await db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditActions.BackupDownloaded).ToListAsync(), e => e.UserId == admin.Id);
        Assert.DoesNotContain(await db.AuditEvents.AsNoTracking().Select(e => e.Detail ?? "").ToListAsync(), d => d.Contains(token, StringComparison.Ordinal));
        var mine = await app.Service<ApiTokenService>().ListMineAsync(admin.Actor, CancellationToken.None);
        Assert.NotNull(Assert.Single(mine).LastUsedAt);
    }

    [Fact]
    public async Task Token_FollowsItsOwnersAccount_DemotedAndDisabledAtOnce()
    {
        var person = await app.CreateAccountAsync(ConsoleRoles.Admin, "followed");
        var token = await app.TokenForAsync(person);
        using var api = app.ApiClient(token, "10.1.0.1");
        var missing = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsJsonAsync($"/api/v1/backups/{missing}/cancel", new { })).StatusCode);

        var users = app.Service<UserAdministrationService>();
        var admin = (await app.AdminAsync()).Actor;
        await users.ChangeRoleAsync(admin, person.Id, ConsoleRoles.Viewer, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.PostAsJsonAsync($"/api/v1/backups/{missing}/cancel", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/backups/")).StatusCode);

        await users.DisableAsync(admin, person.Id, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/v1/backups/")).StatusCode);
    }

    [Fact]
    public async Task RefusedTokens_FromOneAddress_AreLimited_AndThenEvenAGoodTokenWaits()
    {
        var good = await app.TokenForAsync(await app.CreateAccountAsync(ConsoleRoles.Viewer));
        using var guesser = app.ApiClient(ApiTokenFormat.NewToken(), "10.2.0.1");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/v1/runs")).StatusCode);
        }

        using var limited = await guesser.GetAsync("/api/v1/runs");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("60", limited.Headers.GetValues("Retry-After").Single());
        // No oracle: while the address is limited, a good token from it is not even checked.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await app.ApiClient(good, "10.2.0.1").GetAsync("/api/v1/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient(good, "10.2.0.2").GetAsync("/api/v1/runs")).StatusCode);
    }

    [Fact]
    public async Task Tokens_AreShownOnce_StoredHashed_AndBelongToTheirCreatorAlone()
    {
        var tokens = app.Service<ApiTokenService>();
        var alice = await app.CreateAccountAsync(ConsoleRoles.Operator, "alice");
        var bob = await app.CreateAccountAsync(ConsoleRoles.Operator, "bob");
        var created = await tokens.CreateAsync(alice.Actor, "deploy hook", DateTimeOffset.UtcNow.AddDays(30), CancellationToken.None);
        Assert.StartsWith("hjc_", created.Token);
        Assert.Equal(ApiTokenFormat.PrefixOf(created.Token), created.Summary.Prefix);

        await using (var db = await app.DbAsync())
        {
            var row = await db.Set<ApiToken>().AsNoTracking().SingleAsync(t => t.Id == created.Summary.Id);
            Assert.Equal(ApiTokenFormat.HashOf(created.Token), row.Hash);
            Assert.DoesNotContain(created.Token[ApiTokenFormat.PrefixLength..], JsonSerializer.Serialize(row, Json));
        }

        Assert.Empty(await tokens.ListMineAsync(bob.Actor, CancellationToken.None));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => tokens.RevokeAsync(bob.Actor, created.Summary.Id, CancellationToken.None));
        Assert.True(Assert.Single(await tokens.ListMineAsync(alice.Actor, CancellationToken.None)).IsActive(DateTimeOffset.UtcNow));

        await Assert.ThrowsAsync<ArgumentException>(() => tokens.CreateAsync(alice.Actor, " ", DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => tokens.CreateAsync(alice.Actor, "past", DateTimeOffset.UtcNow.AddDays(-1), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => tokens.CreateAsync(alice.Actor, "forever", DateTimeOffset.UtcNow.AddYears(5), CancellationToken.None));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => tokens.CreateAsync(Actor.System, "system", DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None));
        Assert.Single(await tokens.ListMineAsync(alice.Actor, CancellationToken.None));

        await tokens.RevokeAsync(alice.Actor, created.Summary.Id, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ApiClient(created.Token, "10.3.0.1").GetAsync("/api/v1/runs")).StatusCode);
    }

    /// <summary>Reads <paramref name="url"/> until <paramref name="state"/> says <paramref name="expected"/> (or a final
    /// state that is not it, which fails).</summary>
    private static async Task<JsonElement> FollowAsync(HttpClient api, string url, Func<JsonElement, string> state, string expected)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            var body = await api.GetFromJsonAsync<JsonElement>(url, Json);
            var now = state(body);
            if (now == expected)
            {
                return body;
            }

            Assert.True(now is "Queued" or "Running", $"{url} ended {now}: {body}");
            Assert.True(DateTime.UtcNow < deadline, $"{url} is still {now} after three minutes.");
            await Task.Delay(300);
        }
    }
}
