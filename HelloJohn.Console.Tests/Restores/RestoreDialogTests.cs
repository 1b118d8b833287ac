using Bunit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Web.Components.Dialogs;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace HelloJohn.Console.Tests.Restores;

/// <summary>The restore dialog's confirmation rules, rendered with MudBlazor's real dialog provider.</summary>
[Trait("Capability", "Restore")]
public sealed class RestoreDialogTests : IAsyncLifetime
{
    // Composed, not inherited: MudBlazor's services dispose only asynchronously, which xunit's Dispose() cannot do.
    private readonly BunitContext _ctx = new();
    private static readonly RestorableBackup Backup = new(Guid.NewGuid(), "hellojohn_20240120_103000.dump", DateTimeOffset.UtcNow, 1234, BackupTrigger.Manual, "production", "hellojohn");
    private readonly List<string> _checkedNames = [];
    private readonly List<string?> _checkedServers = [];

    public Task InitializeAsync()
    {
        _ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        _ctx.Services.AddMudServices(o =>
        {
            o.SnackbarConfiguration.ShowTransitionDuration = 0;
            o.SnackbarConfiguration.HideTransitionDuration = 0;
            o.PopoverOptions.CheckForPopoverProvider = false;
        });
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _ctx.DisposeAsync().AsTask();

    /// <summary>Stands in for the server: "taken" exists, everything else is free.</summary>
    private Task<DatabaseNameCheck> CheckNameAsync(Guid backupId, string name, string? server, CancellationToken ct)
    {
        _checkedNames.Add(name);
        _checkedServers.Add(server);
        return Task.FromResult(new DatabaseNameCheck(null, name == "taken"));
    }

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenAsync(bool canRestoreInPlace, RestorableBackup? backup = null)
    {
        var provider = _ctx.Render<MudDialogProvider>();
        var dialogs = _ctx.Services.GetRequiredService<IDialogService>();
        IDialogReference? reference = null;
        await provider.InvokeAsync(async () => reference = await dialogs.ShowAsync<RestoreDialog>("Restore a backup", new DialogParameters<RestoreDialog>
        {
            { d => d.Backups, new[] { backup ?? Backup } },
            { d => d.CanRestoreInPlace, canRestoreInPlace },
            { d => d.CheckName, CheckNameAsync },
        }));
        return (provider, reference!);
    }

    private static AngleSharp.Dom.IElement Submit(IRenderedComponent<MudDialogProvider> p) => p.Find("[data-testid=restore-submit]");

    private static bool IsDisabled(AngleSharp.Dom.IElement button) => button.HasAttribute("disabled");

    private static AngleSharp.Dom.IElement InputOf(IRenderedComponent<MudDialogProvider> p, string testId)
    {
        var element = p.Find($"[data-testid={testId}]");
        return element.TagName == "INPUT" ? element : element.QuerySelector("input")!;
    }

    private static void SelectInPlace(IRenderedComponent<MudDialogProvider> p) =>
        InputOf(p, "mode-in-place").Click();

    [Fact]
    public async Task Open_AsOperator_OffersNoInPlaceMode()
    {
        var (p, _) = await OpenAsync(canRestoreInPlace: false);

        Assert.Empty(p.FindAll("[data-testid=mode-in-place]"));
        Assert.Empty(p.FindAll("[data-testid=in-place-confirmation]"));
        Assert.Single(p.FindAll("[data-testid=restore-database-name]"));
    }

    [Fact]
    public async Task Open_DefaultFreeName_CanBeSubmittedAsNewDatabase()
    {
        var (p, dialog) = await OpenAsync(canRestoreInPlace: false);

        p.WaitForAssertion(() => Assert.False(IsDisabled(Submit(p))));
        Assert.Contains("hellojohn_restore", _checkedNames);
        Submit(p).Click();

        var result = await dialog.Result;
        var request = Assert.IsType<RestoreRequest>(result!.Data);
        Assert.Equal(new RestoreRequest(Backup.Id, RestoreMode.NewDatabase, "hellojohn_restore"), request);
    }

    [Theory]
    [InlineData("Bad-Name", "not a usable database name")]
    [InlineData("postgres", "system database")]
    [InlineData("hellojohn_verify_1", "reserved for verification")]
    public async Task NewDatabase_InvalidName_ShowsWhyAndCannotBeSubmitted(string name, string reason)
    {
        var (p, _) = await OpenAsync(canRestoreInPlace: true);

        InputOf(p, "restore-database-name").Input(name);

        p.WaitForAssertion(() => Assert.Contains(reason, p.Markup));
        Assert.True(IsDisabled(Submit(p)));
        Assert.DoesNotContain(name, _checkedNames);
    }

    [Fact]
    public async Task NewDatabase_ExistingName_NeedsReplaceTickedAndSaysSo()
    {
        var (p, dialog) = await OpenAsync(canRestoreInPlace: false);

        InputOf(p, "restore-database-name").Input("taken");

        p.WaitForAssertion(() => Assert.Single(p.FindAll("[data-testid=database-exists]")));
        Assert.True(IsDisabled(Submit(p)));
        InputOf(p, "replace-existing").Change(true);
        p.WaitForAssertion(() => Assert.False(IsDisabled(Submit(p))));
        Submit(p).Click();

        var request = Assert.IsType<RestoreRequest>((await dialog.Result)!.Data);
        Assert.Equal(RestoreMode.NewDatabase, request.Mode);
        Assert.Equal("taken", request.DatabaseName);
        Assert.True(request.ReplaceExisting);
    }

    [Fact]
    public async Task TargetWithoutConnection_SaysSoOffersNoInPlaceAndSubmitsTheServerTypedWithoutShowingItsPassword()
    {
        var unconnected = Backup with { Id = Guid.NewGuid(), TargetName = "demo", LiveDatabase = "" };
        unconnected = unconnected with { TargetHasConnection = false };
        var (p, dialog) = await OpenAsync(canRestoreInPlace: true, unconnected);

        var alert = p.Find("[data-testid=target-needs-connection]").TextContent;
        Assert.Contains("demo", alert);
        Assert.Contains("has no connection", alert);
        Assert.Contains("Settings → Targets", alert);
        Assert.Empty(p.FindAll("[data-testid=mode-in-place]"));
        Assert.True(IsDisabled(Submit(p)));
        Assert.Empty(_checkedNames);

        const string typed = "postgres://restorer:S3cret-Pw-4@db.example.test:5433/postgres";
        var server = InputOf(p, "restore-server");
        Assert.Equal("password", server.GetAttribute("type"));
        server.Input(typed);

        p.WaitForAssertion(() => Assert.False(IsDisabled(Submit(p))));
        Assert.Equal(typed, _checkedServers[^1]);
        // Masked in its field, and nowhere in the dialog's text.
        var text = p.Find(".mud-dialog").TextContent;
        Assert.Contains("Restores onto restorer@db.example.test:5433/postgres", text);
        Assert.DoesNotContain("S3cret-Pw-4", text);
        Assert.Equal("password", InputOf(p, "restore-server").GetAttribute("type"));
        Submit(p).Click();
        var request = Assert.IsType<RestoreRequest>((await dialog.Result)!.Data);
        Assert.Equal((RestoreMode.NewDatabase, "hellojohn_restore", typed), (request.Mode, request.DatabaseName, request.ServerConnectionString));
    }

    [Fact]
    public async Task TargetWithoutConnection_MalformedServer_SaysWhyAndCannotBeSubmitted()
    {
        var unconnected = Backup with { Id = Guid.NewGuid() };
        unconnected = unconnected with { TargetHasConnection = false };
        var (p, _) = await OpenAsync(canRestoreInPlace: false, unconnected);

        InputOf(p, "restore-server").Input("this is not a connection string");

        p.WaitForAssertion(() => Assert.Contains("neither a postgres:// URL", p.Markup));
        Assert.True(IsDisabled(Submit(p)));
        Assert.Empty(_checkedNames);
    }

    [Fact]
    public async Task NewDatabase_ReplaceTickedThenNameChanged_NeedsReplaceAgain()
    {
        var (p, _) = await OpenAsync(canRestoreInPlace: false);
        InputOf(p, "restore-database-name").Input("taken");
        p.WaitForAssertion(() => Assert.Single(p.FindAll("[data-testid=replace-existing]")));
        InputOf(p, "replace-existing").Change(true);

        InputOf(p, "restore-database-name").Input("other");
        p.WaitForAssertion(() => Assert.Empty(p.FindAll("[data-testid=database-exists]")));
        InputOf(p, "restore-database-name").Input("taken");

        p.WaitForAssertion(() => Assert.Single(p.FindAll("[data-testid=database-exists]")));
        Assert.True(IsDisabled(Submit(p)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hellojoh")]
    [InlineData("HELLOJOHN")]
    [InlineData("hellojohn ")]
    public async Task InPlace_ConfirmationNotExactlyTheLiveName_CannotBeSubmitted(string typed)
    {
        var (p, _) = await OpenAsync(canRestoreInPlace: true);
        SelectInPlace(p);
        p.WaitForAssertion(() => Assert.Single(p.FindAll("[data-testid=in-place-warning]")));

        InputOf(p, "in-place-confirmation").Input(typed);

        p.WaitForAssertion(() => Assert.True(IsDisabled(Submit(p))));
    }

    [Fact]
    public async Task InPlace_ExactLiveName_SubmitsAnInPlaceRequestWithTheConfirmation()
    {
        var (p, dialog) = await OpenAsync(canRestoreInPlace: true);
        SelectInPlace(p);
        p.WaitForAssertion(() => Assert.Contains("hellojohn", p.Find("[data-testid=in-place-warning]").TextContent));
        Assert.True(IsDisabled(Submit(p)));

        InputOf(p, "in-place-confirmation").Input("hellojohn");
        p.WaitForAssertion(() => Assert.False(IsDisabled(Submit(p))));
        Submit(p).Click();

        var request = Assert.IsType<RestoreRequest>((await dialog.Result)!.Data);
        Assert.Equal(new RestoreRequest(Backup.Id, RestoreMode.InPlace, "hellojohn", Confirmation: "hellojohn"), request);
    }
}
