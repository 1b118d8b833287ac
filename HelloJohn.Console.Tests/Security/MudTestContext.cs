using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace HelloJohn.Console.Tests.Security;

/// <summary>A bUnit context with MudBlazor's services, its JavaScript calls answered loosely and no transitions, so a
/// component renders its final state at once.</summary>
public abstract class MudTestContext : BunitContext, IAsyncLifetime
{
    protected MudTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o =>
        {
            o.PopoverOptions.CheckForPopoverProvider = false;
            o.SnackbarConfiguration.ShowTransitionDuration = 0;
            o.SnackbarConfiguration.HideTransitionDuration = 0;
        });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services only dispose asynchronously; xunit 2 would otherwise dispose the context synchronously.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
