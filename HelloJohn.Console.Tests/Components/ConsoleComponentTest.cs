using Bunit;
using HelloJohn.Console.Core.Runs;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace HelloJohn.Console.Tests.Components;

/// <summary>bUnit base: MudBlazor services with transitions off and loose JS interop, as MudBlazor's own tests do.
/// The context is disposed asynchronously because some MudBlazor services are only IAsyncDisposable.</summary>
public abstract class ConsoleComponentTest : IAsyncLifetime
{
    static ConsoleComponentTest()
    {
        // Pages here call real services (PostgreSQL, the key store): on a busy two-core machine one call can take longer
        // than bUnit's one-second default, and a wait that gives up early fails a test that is right.
        BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(20);
    }

    protected ConsoleComponentTest()
    {
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
        Context.Services.AddMudServices(o =>
        {
            o.SnackbarConfiguration.ShowTransitionDuration = 0;
            o.SnackbarConfiguration.HideTransitionDuration = 0;
            o.PopoverOptions.CheckForPopoverProvider = false;
        });
        // What every live run view needs (tests of pages on a real console replace them with its own).
        Context.Services.AddLogging();
        Context.Services.AddSingleton(TimeProvider.System);
        Context.Services.AddSingleton<RunProgressNotifier>();
    }

    protected BunitContext Context { get; } = new();

    protected IServiceCollection Services => Context.Services;

    protected IRenderedComponent<T> Render<T>(Action<ComponentParameterCollectionBuilder<T>>? parameters = null) where T : IComponent =>
        Context.Render(parameters);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Context.DisposeAsync();
}
