using System.Globalization;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Security.ApiTokens;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Account;

/// <summary>Each person's own API tokens: create (shown once), list, revoke.</summary>
public partial class ApiTokens
{
    private static readonly int[] ExpiryChoices = [7, 30, 90, 365];
    private Actor _actor = new(null, "anonymous", []);
    private string _role = "";
    private IReadOnlyList<ApiTokenSummary>? _tokens;
    private CreatedApiToken? _created;
    private string? _name;
    private int _days = 90;
    private bool _busy;
    private string? _error;
    private string _origin = "";
    private DateTimeOffset _now;

    [Inject] private ApiTokenService Tokens { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _role = string.Join(", ", _actor.Roles);
        _origin = Navigation.BaseUri.TrimEnd('/');
        await ReloadAsync();
    }

    private async Task ReloadAsync()
    {
        _now = Time.GetUtcNow();
        try
        {
            _tokens = await Tokens.ListMineAsync(_actor, CancellationToken.None);
        }
        catch (PermissionDeniedException e)
        {
            _tokens = [];
            _error = e.Message;
        }
    }

    private async Task CreateAsync()
    {
        _busy = true;
        _error = null;
        _created = null;
        try
        {
            _created = await Tokens.CreateAsync(_actor, _name ?? "", Time.GetUtcNow().AddDays(_days), CancellationToken.None);
            _name = null;
            await ReloadAsync();
        }
        catch (Exception e) when (e is ArgumentException or PermissionDeniedException)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task RevokeAsync(ApiTokenSummary token)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Revoke '{token.Name}'?",
            $"Scripts using {token.Prefix}… stop working at their next request. This cannot be undone.", yesText: "Revoke", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        _busy = true;
        try
        {
            await Tokens.RevokeAsync(_actor, token.Id, CancellationToken.None);
            if (_created?.Summary.Id == token.Id)
            {
                _created = null;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or PermissionDeniedException)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
            await ReloadAsync();
        }
    }

    private void Forget() => _created = null;

    private string StatusOf(ApiTokenSummary t) => t.RevokedAt is not null ? "revoked" : t.ExpiresAt <= _now ? "expired" : "active";

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
