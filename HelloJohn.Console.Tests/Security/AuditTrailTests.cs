using System.Net;
using System.Text;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Security;

/// <summary>The audit trail: one event per action with the right actor and outcome, queries paged in the database,
/// CSV export, and no way to change what was written.</summary>
[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed class AuditTrailTests(AuditTrailTests.App app) : IClassFixture<AuditTrailTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : SecurityAppFactory(postgres);

    private AuditQueryService Trail => app.Service<AuditQueryService>();

    public static TheoryData<string> Actions => ["create", "role", "disable", "enable", "reset", "unlock", "viewer-creates", "operator-disables", "viewer-backs-up", "viewer-exports"];

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Action_WritesExactlyOneEventWithActorAndOutcomeAndNoSecret(string action)
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        var op = await app.CreateAccountAsync(ConsoleRoles.Operator);
        var accounts = app.Service<UserAdministrationService>();
        if (action == "enable")
        {
            await accounts.DisableAsync(admin.Actor, viewer.Id, CancellationToken.None);
        }

        if (action == "unlock")
        {
            using var client = app.NewClient();
            for (var i = 0; i < 5; i++)
            {
                await app.PostSignInAsync(client, viewer.Email, "Wrong-Pa55word-" + i);
            }
        }

        const string secretPassword = "Secret-Pa55word-Never-Logged";
        app.PasswordsUsed.Add(secretPassword);
        var since = await app.LastAuditIdAsync();

        var (expectedAction, actor, outcome) = action switch
        {
            "create" => await Run(() => accounts.CreateAsync(admin.Actor, new NewConsoleUser($"new-{Guid.NewGuid():N}@example.test", null, ConsoleRoles.Viewer, secretPassword), CancellationToken.None),
                AuditActions.UserCreated, admin, AuditOutcome.Succeeded),
            "role" => await Run(() => accounts.ChangeRoleAsync(admin.Actor, viewer.Id, ConsoleRoles.Operator, CancellationToken.None), AuditActions.UserRoleChanged, admin, AuditOutcome.Succeeded),
            "disable" => await Run(() => accounts.DisableAsync(admin.Actor, viewer.Id, CancellationToken.None), AuditActions.UserDisabled, admin, AuditOutcome.Succeeded),
            "enable" => await Run(() => accounts.EnableAsync(admin.Actor, viewer.Id, CancellationToken.None), AuditActions.UserEnabled, admin, AuditOutcome.Succeeded),
            "reset" => await Run(() => accounts.ResetPasswordAsync(admin.Actor, viewer.Id, secretPassword, CancellationToken.None), AuditActions.UserPasswordReset, admin, AuditOutcome.Succeeded),
            "unlock" => await Run(() => accounts.UnlockAsync(admin.Actor, viewer.Id, CancellationToken.None), AuditActions.UserUnlocked, admin, AuditOutcome.Succeeded),
            "viewer-creates" => await Refused(() => accounts.CreateAsync(viewer.Actor, new NewConsoleUser("x@example.test", null, ConsoleRoles.Admin, secretPassword), CancellationToken.None),
                AuditActions.UserCreated, viewer),
            "operator-disables" => await Refused(() => accounts.DisableAsync(op.Actor, viewer.Id, CancellationToken.None), AuditActions.UserDisabled, op),
            "viewer-backs-up" => await Refused(() => app.Service<BackupService>().RequestAsync(viewer.Actor, null, BackupTrigger.Manual, CancellationToken.None), AuditActions.BackupRequested, viewer),
            "viewer-exports" => await Run(() => Trail.ExportCsvAsync(viewer.Actor, AuditFilter.None, Stream.Null, CancellationToken.None), AuditActions.AuditExported, viewer, AuditOutcome.Succeeded),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };

        var e = Assert.Single(await app.AuditSinceAsync(since));
        Assert.Equal((expectedAction, actor.Email, actor.Id, outcome), (e.Action, e.Actor, e.UserId, e.Outcome));
        await app.AssertNoPasswordLeakedAsync();
    }

    private static async Task<(string, TestAccount, AuditOutcome)> Run(Func<Task> act, string action, TestAccount actor, AuditOutcome outcome)
    {
        await act();
        return (action, actor, outcome);
    }

    private static async Task<(string, TestAccount, AuditOutcome)> Refused(Func<Task> act, string action, TestAccount actor)
    {
        await Assert.ThrowsAsync<PermissionDeniedException>(act);
        return (action, actor, AuditOutcome.Denied);
    }

    private async Task<string> SeedAsync(int count, Func<int, AuditEvent>? shape = null)
    {
        var prefix = $"seed-{Guid.NewGuid():N}"[..13];
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await using var db = await app.DbAsync();
        for (var i = 0; i < count; i++)
        {
            var e = shape?.Invoke(i) ?? new AuditEvent { Actor = "", Action = AuditActions.BackupRequested };
            e.Actor = $"{prefix}-{e.Actor}{i:D3}";
            e.At = e.At == default ? start.AddMinutes(i) : e.At;
            db.AuditEvents.Add(e);
        }

        await db.SaveChangesAsync();
        return prefix;
    }

    [Fact]
    public async Task Query_ManyEvents_PagesInTheDatabaseNewestFirst()
    {
        var prefix = await SeedAsync(120);
        var viewer = (await app.CreateAccountAsync(ConsoleRoles.Viewer)).Actor;

        var first = await Trail.QueryAsync(viewer, new AuditFilter(User: prefix), 0, 50, CancellationToken.None);
        var last = await Trail.QueryAsync(viewer, new AuditFilter(User: prefix), 2, 50, CancellationToken.None);

        Assert.Equal(120, first.TotalCount);
        Assert.Equal(50, first.Items.Count);
        Assert.Equal($"{prefix}-119", first.Items[0].Actor);
        Assert.Equal(20, last.Items.Count);
        Assert.Equal($"{prefix}-000", last.Items[^1].Actor);
        Assert.True(first.Items.Zip(first.Items.Skip(1)).All(p => p.First.At >= p.Second.At));
    }

    [Fact]
    public async Task Query_Filters_CombineUserActionOutcomeAndTimeRange()
    {
        var prefix = await SeedAsync(40, i => new AuditEvent
        {
            Actor = i % 2 == 0 ? "even-" : "odd-",
            Action = i % 4 < 2 ? AuditActions.SignInFailed : AuditActions.UserCreated,
            Outcome = i % 3 == 0 ? AuditOutcome.Denied : AuditOutcome.Failed,
        });
        var viewer = (await app.CreateAccountAsync(ConsoleRoles.Viewer)).Actor;
        var from = new DateTimeOffset(2026, 1, 1, 0, 10, 0, TimeSpan.Zero);
        var filter = new AuditFilter(User: prefix.ToUpperInvariant() + "-EVEN", Action: AuditActions.SignInFailed, Outcome: AuditOutcome.Denied, From: from, To: from.AddMinutes(20));

        var page = await Trail.QueryAsync(viewer, filter, 0, 100, CancellationToken.None);

        var expected = Enumerable.Range(10, 20).Where(i => i % 2 == 0 && i % 4 < 2 && i % 3 == 0).Select(i => $"{prefix}-even-{i:D3}").Reverse();
        Assert.Equal(expected, page.Items.Select(e => e.Actor));
        Assert.Equal(page.Items.Count, page.TotalCount);
    }

    [Fact]
    public async Task Query_UserFilterWithLikeWildcards_MatchesThemLiterally()
    {
        var prefix = await SeedAsync(2, i => new AuditEvent { Actor = i == 0 ? "a_b%c" : "axbyc", Action = AuditActions.SignInFailed });
        var viewer = (await app.CreateAccountAsync(ConsoleRoles.Viewer)).Actor;

        var page = await Trail.QueryAsync(viewer, new AuditFilter(User: prefix + "-a_b%"), 0, 10, CancellationToken.None);

        Assert.Equal([$"{prefix}-a_b%c000"], page.Items.Select(e => e.Actor));
    }

    [Theory]
    [InlineData(-1, 10)]
    [InlineData(0, 0)]
    [InlineData(0, 501)]
    public async Task Query_BadPage_IsRefused(int page, int size)
    {
        var viewer = (await app.CreateAccountAsync(ConsoleRoles.Viewer)).Actor;

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Trail.QueryAsync(viewer, AuditFilter.None, page, size, CancellationToken.None));
    }

    [Fact]
    public async Task Query_TimeRangeEndingBeforeItStarts_IsRefusedWithAReason()
    {
        var viewer = (await app.CreateAccountAsync(ConsoleRoles.Viewer)).Actor;
        var at = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => Trail.QueryAsync(viewer, new AuditFilter(From: at, To: at), 0, 10, CancellationToken.None));

        Assert.Contains("ends", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportCsv_QuotesFieldsDefusesFormulasAndKeepsOrder()
    {
        var prefix = await SeedAsync(3, i => new AuditEvent
        {
            Actor = "",
            Action = AuditActions.SignInFailed,
            Target = i == 0 ? "=HYPERLINK(\"http://evil\")" : null,
            Detail = i == 1 ? "line one\nline \"two\", with comma" : i == 2 ? "-1+1" : null,
            Outcome = AuditOutcome.Failed,
        });
        var viewer = (await app.CreateAccountAsync(ConsoleRoles.Viewer)).Actor;
        using var csv = new MemoryStream();

        var rows = await Trail.ExportCsvAsync(viewer, new AuditFilter(User: prefix), csv, CancellationToken.None);

        Assert.Equal(3, rows);
        var text = Encoding.UTF8.GetString(csv.ToArray());
        var lines = text.Split("\r\n");
        Assert.Equal("id,at_utc,actor,user_id,action,target,outcome,detail", lines[0]);
        Assert.EndsWith($",{prefix}-000,,signin.failed,\"'=HYPERLINK(\"\"http://evil\"\")\",Failed,", lines[1]);
        Assert.Contains("2026-01-01T00:00:00.000Z", lines[1]);
        Assert.EndsWith(",Failed,\"line one\nline \"\"two\"\", with comma\"", lines[2]);
        Assert.EndsWith(",Failed,'-1+1", lines[3]);
        Assert.Equal("", lines[4]);
    }

    [Fact]
    public async Task ExportEndpoint_AsViewer_DownloadsCsvAndIsAudited()
    {
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        var prefix = await SeedAsync(5);
        using var client = await app.SignedInClientAsync(viewer);
        var since = await app.LastAuditIdAsync();

        using var response = await client.GetAsync($"/audit/export.csv?user={prefix}&action={AuditActions.BackupRequested}&from=2026-01-01T00:01:00Z&to=2026-01-01T00:04:00Z");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("attachment;", response.Content.Headers.ContentDisposition!.ToString(), StringComparison.Ordinal);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([$"{prefix}-001", $"{prefix}-002", $"{prefix}-003"], lines.Skip(1).Select(l => l.Split(',')[2]));
        var e = Assert.Single(await app.AuditSinceAsync(since));
        Assert.Equal((AuditActions.AuditExported, viewer.Email, AuditOutcome.Succeeded), (e.Action, e.Actor, e.Outcome));
        Assert.Contains("3 rows", e.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("outcome=Maybe", "outcome must be one of Succeeded, Failed, Denied")]
    [InlineData("from=yesterday", "from is not a time")]
    [InlineData("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to must be after from")]
    public async Task ExportEndpoint_BadQuery_Answers400WithTheReasonAndNoFile(string query, string because)
    {
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = await app.SignedInClientAsync(viewer);

        using var response = await client.GetAsync("/audit/export.csv?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(because, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditEvent_ChangedOrDeletedThroughTheDbContext_IsRefusedAndStaysAsWritten()
    {
        var prefix = await SeedAsync(1, _ => new AuditEvent { Actor = "", Action = AuditActions.UserCreated, Detail = "original" });
        await using (var db = await app.DbAsync())
        {
            var e = await db.AuditEvents.SingleAsync(x => x.Actor.StartsWith(prefix));
            e.Detail = "rewritten";
            var changed = await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
            Assert.Contains("append-only", changed.Message, StringComparison.Ordinal);
        }

        await using (var db = await app.DbAsync())
        {
            db.AuditEvents.Remove(await db.AuditEvents.SingleAsync(x => x.Actor.StartsWith(prefix)));
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        }

        await using var check = await app.DbAsync();
        Assert.Equal("original", (await check.AuditEvents.SingleAsync(x => x.Actor.StartsWith(prefix))).Detail);
    }
}
