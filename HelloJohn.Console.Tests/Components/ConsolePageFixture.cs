using Bunit;
using Bunit.TestDoubles;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The real console (Core services on PostgreSQL, Hangfire, the local secret store) for page tests: bUnit
/// renders the pages and resolves every service the page injects from this host.</summary>
public sealed class ConsolePageFixture(PostgresClusterFixture postgres) : ConsoleAppFactory(postgres)
{
    public Guid TargetId { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // Starts the host: migrations, the first administrator, the target from HELLOJOHN_DATABASE_URL, its schedules.
        TargetId = (await Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
    }
}

/// <summary>A page rendered as the console renders it: inside MudBlazor's popover and dialog providers, signed in with
/// one role, with the host's services behind it.</summary>
public abstract class ConsolePageTest : ConsoleComponentTest, IAsyncLifetime
{
    private readonly AsyncServiceScope _scope;

    protected ConsolePageTest(ConsolePageFixture app)
    {
        App = app;
        // The pages read a real database on a shared two-core machine: give renders time rather than fail early.
        BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(30);
        _scope = app.Services.CreateAsyncScope();
        Services.AddScoped<CurrentActor>();
        // The host's own run events, so pages follow runs as they do in the console.
        Services.AddSingleton(app.Services.GetRequiredService<RunProgressNotifier>());
        Services.AddSingleton(app.Services.GetRequiredService<TimeProvider>());
        Context.Services.AddFallbackServiceProvider(_scope.ServiceProvider);
    }

    protected ConsolePageFixture App { get; }

    protected T Service<T>() where T : notnull => _scope.ServiceProvider.GetRequiredService<T>();

    /// <summary>Renders <typeparamref name="TPage"/> for a signed-in <paramref name="role"/>; <paramref name="interactive"/>
    /// renders it as the live circuit does (pages that wait for interactivity before enabling their controls);
    /// <paramref name="userId"/> makes the person an existing account (pages about one's own things).</summary>
    protected IRenderedComponent<IComponent> RenderPage<TPage>(string role, string name = "person@example.test", bool interactive = false, string? userId = null) where TPage : IComponent
    {
        var auth = Context.AddAuthorization();
        auth.SetAuthorized(name);
        auth.SetRoles(role);
        if (userId is not null)
        {
            auth.SetClaims(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, userId));
        }

        if (interactive)
        {
            Context.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        }

        return Context.Render(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<MudSnackbarProvider>(2);
            b.CloseComponent();
            b.OpenComponent<TPage>(3);
            b.CloseComponent();
        });
    }

    /// <summary>Presses the button of an open MudBlazor message box.</summary>
    protected static void Confirm(IRenderedComponent<IComponent> page, string buttonText)
    {
        page.WaitForAssertion(() => Assert.Single(page.FindAll(".mud-dialog button"), b => b.TextContent.Trim() == buttonText));
        page.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == buttonText).Click();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _scope.DisposeAsync();
    }
}
