using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Settings → Notifications: the channels (add, change, enable, test, remove) and the delivery log. Admins
/// only; the Core service checks it again at every call.</summary>
public partial class NotificationChannelsPanel
{
    private const int LogSize = 20;
    private Actor _actor = new(null, "anonymous", []);
    private IReadOnlyList<ChannelSummary>? _channels;
    private IReadOnlyList<DeliveryLogEntry>? _log;
    private (ChannelSummary? Channel, bool New)? _editing;
    private (string Channel, string Secret)? _secret;
    private string? _error;
    private string? _message;
    private bool _messageOk;
    private bool _busy;
    private string? _baseUrl;
    private string _rpoThreshold = "";

    [Inject] private NotificationChannelService Channels { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private IOptions<NotificationOptions> Options { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _baseUrl = string.IsNullOrWhiteSpace(Options.Value.ConsoleBaseUrl) ? null : Options.Value.ConsoleBaseUrl;
        _rpoThreshold = RecoveryDurations.Describe(Options.Value.RpoThreshold);
        await ReloadAsync();
    }

    private async Task ReloadAsync()
    {
        try
        {
            _channels = await Channels.ListAsync(_actor, CancellationToken.None);
            _log = await Channels.DeliveriesAsync(_actor, null, LogSize, CancellationToken.None);
        }
        catch (PermissionDeniedException e)
        {
            _channels = [];
            _error = e.Message;
        }
    }

    private void StartAdding() => Begin((null, true));

    private void StartEditing(ChannelSummary channel) => Begin((channel, false));

    private void Begin((ChannelSummary?, bool) editing)
    {
        _editing = editing;
        _error = null;
        _message = null;
    }

    private void StopEditing() => _editing = null;

    private Task SaveAsync(ChannelDraft draft) => RunAsync(async () =>
    {
        if (_editing?.Channel is { } existing)
        {
            await Channels.UpdateAsync(_actor, existing.Id, draft, CancellationToken.None);
            Say($"Saved '{draft.Name.Trim()}'.", true);
        }
        else
        {
            var created = await Channels.CreateAsync(_actor, draft, CancellationToken.None);
            _secret = created.SigningSecret is { } s ? (created.Channel.Name, s) : null;
            Say($"Added '{created.Channel.Name}'. Press Send test to check it.", true);
        }

        _editing = null;
    });

    private Task SetEnabledAsync(ChannelSummary channel, bool enabled) => RunAsync(() => Channels.SetEnabledAsync(_actor, channel.Id, enabled, CancellationToken.None));

    private Task TestAsync(ChannelSummary channel) => RunAsync(async () =>
    {
        var result = await Channels.SendTestAsync(_actor, channel.Id, CancellationToken.None);
        Say(result.Succeeded ? $"Test sent to '{channel.Name}': {result.Detail}" : $"The test to '{channel.Name}' failed: {result.Detail}", result.Succeeded);
    });

    private Task RotateAsync(ChannelSummary channel) => ConfirmThenAsync($"Issue a new signing secret for '{channel.Name}'?",
        "The current secret stops verifying at once: update the receiver with the new one.", "Issue new secret", async () =>
        {
            _secret = (channel.Name, await Channels.RotateSigningSecretAsync(_actor, channel.Id, CancellationToken.None));
        });

    private Task DeleteAsync(ChannelSummary channel) => ConfirmThenAsync($"Remove '{channel.Name}'?",
        "It is told nothing more, and its delivery log goes with it. The audit trail keeps the record.", "Remove", async () =>
        {
            await Channels.DeleteAsync(_actor, channel.Id, CancellationToken.None);
            Say($"Removed '{channel.Name}'.", true);
        });

    private async Task ConfirmThenAsync(string title, string text, string yes, Func<Task> action)
    {
        if (await Dialogs.ShowMessageBoxAsync(title, text, yesText: yes, cancelText: "Cancel") == true)
        {
            await RunAsync(action);
        }
    }

    private async Task RunAsync(Func<Task> action)
    {
        _busy = true;
        _error = null;
        try
        {
            await action();
        }
        catch (Exception e) when (e is ChannelRefusedException or KeyNotFoundException or PermissionDeniedException)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
            await ReloadAsync();
        }
    }

    private void Say(string message, bool ok)
    {
        _message = message;
        _messageOk = ok;
    }

    private static string Where(ChannelSummary c) => c.Kind == NotificationChannelKind.Email
        ? $"{c.Settings.SmtpHost}:{c.Settings.SmtpPort} → {string.Join(", ", c.Settings.To)}"
        : c.SecretHint ?? "";
}
