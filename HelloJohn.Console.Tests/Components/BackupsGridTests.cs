using Bunit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Web.Components.Controls;

namespace HelloJohn.Console.Tests.Components;

[Trait("Capability", "Backups")]
public sealed class BackupsGridTests : ConsoleComponentTest
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 2, 0, 0, TimeSpan.Zero);

    private static BackupListItem Item(string file, BackupStatus status, long? size = null, long written = 0, string? error = null, string? sha = null) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "production", file, status, BackupTrigger.Manual, "ops@example.test", T0,
            status == BackupStatus.Queued ? null : T0, status is BackupStatus.Succeeded or BackupStatus.Failed ? T0.AddSeconds(12.5) : null,
            written, size, sha, error, false, "daily");

    private IRenderedComponent<BackupsGrid> RenderGrid(IReadOnlyList<BackupListItem> items, BackupDetails? details = null, bool canCancel = false, Action<BackupListItem>? onCancel = null)
    {
        var queries = new List<BackupQuery>();
        var cut = Render<BackupsGrid>(ps => ps
            .Add(p => p.Load, (q, _) => { queries.Add(q); return Task.FromResult(new BackupPage(items, items.Count + 40)); })
            .Add(p => p.LoadDetails, _ => Task.FromResult(details))
            .Add(p => p.CanCancel, canCancel)
            .Add(p => p.OnCancel, (BackupListItem i) => onCancel?.Invoke(i)));
        Assert.Contains(queries, q => q is { Page: 0, PageSize: 25 });
        return cut;
    }

    [Fact]
    public void Render_SucceededBackup_ShowsFileSizeDurationStatusAndShortSha()
    {
        var sha = new string('a', 52) + "0123456789ab";
        var cut = RenderGrid([Item("hellojohn_20261125_020000.dump", BackupStatus.Succeeded, size: 2_200_000, sha: sha)]);

        var row = cut.Find("tbody tr");
        Assert.Contains("hellojohn_20261125_020000.dump", row.TextContent);
        Assert.Contains("2.1 MB", row.TextContent);
        Assert.Contains("12.5 s", row.TextContent);
        Assert.Equal("succeeded", cut.Find("[data-testid=status]").TextContent.Trim());
        Assert.Contains(sha[..12], row.TextContent);
        Assert.DoesNotContain(sha, row.TextContent);
        Assert.Contains("manual (ops@example.test)", row.TextContent);
    }

    [Fact]
    public void Render_RunningBackup_ShowsBytesWrittenAndProgressBar()
    {
        var cut = RenderGrid([Item("hellojohn_20261125_020000.dump", BackupStatus.Running, written: 3 * 1024 * 1024)]);

        Assert.Equal("3 MB written", cut.Find("[data-testid=progress]").TextContent.Trim());
        Assert.Equal("running", cut.Find("[data-testid=status]").TextContent.Trim());
        Assert.NotEmpty(cut.FindAll(".mud-progress-linear"));
    }

    [Fact]
    public void Expand_FailedBackup_ShowsItsError()
    {
        var error = "Could not sign in to hellojohn@db:5432/hellojohn: password authentication failed. Nothing was backed up.";
        var cut = RenderGrid([Item("hellojohn_20261125_020000.dump", BackupStatus.Failed, error: error)]);
        Assert.Equal("failed", cut.Find("[data-testid=status]").TextContent.Trim());

        cut.Find("tbody tr button").Click();

        cut.WaitForAssertion(() => Assert.Equal(error, cut.Find("[data-testid=backup-error]").TextContent.Trim()));
    }

    [Fact]
    public void Expand_SucceededBackup_ShowsRowCountsPerTable()
    {
        var item = Item("hellojohn_20261125_020000.dump", BackupStatus.Succeeded, size: 1000, sha: new string('b', 64));
        var details = new BackupDetails(item, [new("public", "hj_user", 5000), new("public", "hj_session", 15000), new("audit", "hj_event", 7)],
            [new BackupLocationInfo("local", item.FileName, null, T0)], "custom", "gzip:9", "15.18", "pg_dump (PostgreSQL) 15.18", null);
        var cut = RenderGrid([item], details);

        cut.Find("tbody tr button").Click();

        cut.WaitForAssertion(() =>
        {
            var table = cut.Find("[data-testid=row-counts]").TextContent;
            Assert.Contains("hj_user", table);
            Assert.Contains("5,000", table);
            Assert.Contains("15,000", table);
            Assert.Contains("audit.hj_event", table);
        });
    }

    [Fact]
    public void Render_ActiveBackup_CancelOnlyWhenAllowed()
    {
        var running = Item("hellojohn_20261125_020000.dump", BackupStatus.Running);
        Assert.DoesNotContain(RenderGrid([running]).FindAll("button"), b => b.TextContent.Contains("Cancel"));

        BackupListItem? cancelled = null;
        var cut = RenderGrid([running], canCancel: true, onCancel: i => cancelled = i);
        cut.FindAll("button").Single(b => b.TextContent.Contains("Cancel")).Click();
        Assert.Equal(running.Id, cancelled?.Id);
    }

    [Fact]
    public void Render_NoBackups_InvitesTheFirstOneOnlyOnceTheCatalogAnswered()
    {
        var answer = new TaskCompletionSource<BackupPage>();
        var cut = Render<BackupsGrid>(ps => ps
            .Add(p => p.Load, (_, _) => answer.Task)
            .Add(p => p.LoadDetails, _ => Task.FromResult<BackupDetails?>(null))
            .Add(p => p.CanCancel, true));
        Assert.DoesNotContain("No backups yet", cut.Markup);

        answer.SetResult(new BackupPage([], 0));

        cut.WaitForAssertion(() => Assert.Contains("Press Back up now to take the first one.", cut.Find("[data-testid=no-backups]").TextContent));
    }

    [Fact]
    public void Render_NoBackupsForAViewer_SaysWhoTakesThem()
    {
        var cut = Render<BackupsGrid>(ps => ps
            .Add(p => p.Load, (_, _) => Task.FromResult(new BackupPage([], 0)))
            .Add(p => p.LoadDetails, _ => Task.FromResult<BackupDetails?>(null)));

        cut.WaitForAssertion(() => Assert.Contains("An operator or administrator takes the first one", cut.Find("[data-testid=no-backups]").TextContent));
    }

    [Fact]
    public void Render_Columns_CarryTheirPriorityAndTheDetailsHoldWhatMayBeHidden()
    {
        var sha = new string('c', 64);
        var item = Item("hellojohn_20261125_020000.dump.zst", BackupStatus.Succeeded, size: 1000, sha: sha);
        var cut = RenderGrid([item], new BackupDetails(item, [], [], "custom", "zstd:1", "15.18", "pg_dump 15.18", null));

        Assert.Contains("fit-table", cut.Find("[data-testid=backups-grid]").ClassName);
        Assert.Equal(["Trigger", "Duration"], cut.FindAll("th.col-wide").Select(h => h.TextContent.Trim()));
        Assert.Equal(["SHA-256"], cut.FindAll("th.col-xwide").Select(h => h.TextContent.Trim()));

        cut.Find("tbody tr button").Click();

        cut.WaitForAssertion(() =>
        {
            var facts = cut.Find("[data-testid=backup-facts]").TextContent;
            Assert.Contains("manual (ops@example.test)", facts);
            Assert.Contains("12.5 s", facts);
            Assert.Contains(sha, facts);
        });
    }

    [Fact]
    public async Task Reload_ExpandedRunThatFinished_StaysExpanded()
    {
        var running = Item("hellojohn_20261125_020000.dump.zst", BackupStatus.Running, written: 100);
        var current = running;
        var cut = Render<BackupsGrid>(ps => ps
            .Add(p => p.Load, (_, _) => Task.FromResult(new BackupPage([current], 1)))
            .Add(p => p.LoadDetails, _ => Task.FromResult<BackupDetails?>(null)));
        cut.WaitForAssertion(() => cut.Find("tbody tr button").Click());
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=backup-details]")));

        current = running with { Status = BackupStatus.Succeeded, SizeBytes = 1000, FinishedAt = T0.AddSeconds(3) };
        await cut.InvokeAsync(cut.Instance.ReloadAsync);

        cut.WaitForAssertion(() => Assert.Equal("succeeded", cut.Find("[data-testid=status]").TextContent.Trim()));
        Assert.Single(cut.FindAll("[data-testid=backup-details]"));
    }

    private IRenderedComponent<BackupsGrid> RenderActions(BackupListItem item, bool admin, Action<BackupListItem>? onPin = null, Action<BackupListItem>? onDelete = null) =>
        Render<BackupsGrid>(ps => ps
            .Add(p => p.Load, (_, _) => Task.FromResult(new BackupPage([item], 1)))
            .Add(p => p.LoadDetails, _ => Task.FromResult<BackupDetails?>(null))
            .Add(p => p.CanDownload, admin)
            .Add(p => p.CanDelete, admin)
            .Add(p => p.CanPin, admin)
            .Add(p => p.OnPin, (BackupListItem i) => onPin?.Invoke(i))
            .Add(p => p.OnDelete, (BackupListItem i) => onDelete?.Invoke(i)));

    [Fact]
    public void Admin_SucceededBackup_OffersDownloadLinkPinAndDelete()
    {
        var item = Item("hellojohn_20261125_020000.dump.zst", BackupStatus.Succeeded, size: 1000, sha: new string('c', 64));
        BackupListItem? pinned = null, deleted = null;
        var cut = RenderActions(item, admin: true, i => pinned = i, i => deleted = i);

        var link = cut.Find("[data-testid=download-backup]");
        Assert.Equal($"/backups/{item.Id}/download", link.GetAttribute("href"));
        Assert.Equal(item.FileName, link.GetAttribute("download"));
        cut.Find("[data-testid=pin-backup]").Click();
        Assert.Equal(item.Id, pinned?.Id);
        cut.Find("[data-testid=delete-backup]").Click();
        Assert.Equal(item.Id, deleted?.Id);
    }

    [Fact]
    public void Viewer_SucceededBackup_OffersNoDownloadPinOrDelete()
    {
        var cut = RenderActions(Item("hellojohn_20261125_020000.dump", BackupStatus.Succeeded, size: 1000), admin: false);

        Assert.Empty(cut.FindAll("[data-testid=download-backup]"));
        Assert.Empty(cut.FindAll("[data-testid=pin-backup]"));
        Assert.Empty(cut.FindAll("[data-testid=delete-backup]"));
    }

    [Theory]
    [InlineData(BackupStatus.Running)]
    [InlineData(BackupStatus.Failed)]
    [InlineData(BackupStatus.Expired)]
    public void Admin_BackupWithoutAFile_OffersNoFileActions(BackupStatus status)
    {
        var cut = RenderActions(Item("hellojohn_20261125_020000.dump", status), admin: true);

        Assert.Empty(cut.FindAll("[data-testid=download-backup]"));
        Assert.Empty(cut.FindAll("[data-testid=delete-backup]"));
    }

    [Fact]
    public void Admin_MemberOfASet_IsNotOfferedForDeletingAlone()
    {
        var cut = RenderActions(Item("hellojohn_20261125_020000.dump", BackupStatus.Succeeded, size: 1000) with { SetId = Guid.NewGuid() }, admin: true);

        Assert.Single(cut.FindAll("[data-testid=download-backup]"));
        Assert.Empty(cut.FindAll("[data-testid=delete-backup]"));
    }

    [Fact]
    public void PinnedBackup_SaysSoAndItsPinUnpins()
    {
        var item = Item("hellojohn_20261125_020000.dump", BackupStatus.Succeeded, size: 1000) with { Pinned = true };
        var cut = RenderActions(item, admin: true);

        Assert.Equal("pinned", cut.Find("[data-testid=pinned]").TextContent.Trim());
        Assert.StartsWith("Unpin", cut.Find("[data-testid=pin-backup]").GetAttribute("aria-label"));
    }

    [Fact]
    public void RunningBackup_WithAPreviousSize_ShowsBytesAgainstItAndAPercentage()
    {
        var item = Item("hellojohn_20261125_020000.dump", BackupStatus.Running, written: 3 * 1024 * 1024) with { ExpectedBytes = 12 * 1024 * 1024 };
        var cut = RenderGrid([item]);

        cut.WaitForAssertion(() => Assert.Contains(cut.FindAll("[data-testid=progress]"), e => e.TextContent.Trim() == "3 MB of ~12 MB (25 %)"));
        Assert.NotEmpty(cut.FindAll(".mud-progress-linear"));
    }

    [Theory]
    [InlineData(50, 100, 20, "about 20 s left")]
    [InlineData(25, 100, 30, "about 2 min left")]
    [InlineData(50, 100, 600, "about 10 min left")]
    [InlineData(10, 100, 3600, "about 9 h left")]
    [InlineData(99, 100, 2, null)]
    [InlineData(0, 100, 60, null)]
    [InlineData(120, 100, 60, null)]
    public void TimeLeft_AtThePaceSoFar(long done, long total, int elapsedSeconds, string? expected) =>
        Assert.Equal(expected, RunTexts.TimeLeft(done, total, TimeSpan.FromSeconds(elapsedSeconds)));

    [Fact]
    public void BytesAgainstPrevious_PastThePreviousSize_SaysSo()
    {
        Assert.Equal("15 MB written, more than the previous backup's 12 MB", RunTexts.BytesAgainstPrevious(15 * 1024 * 1024, 12 * 1024 * 1024));
        Assert.Equal("3 MB written", RunTexts.BytesAgainstPrevious(3 * 1024 * 1024, null));
    }
}
