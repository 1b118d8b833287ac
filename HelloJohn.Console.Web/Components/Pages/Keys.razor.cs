using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.JSInterop;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

/// <summary>The escrowed signing key (by fingerprint only), its check against HelloJohn's live JWKS, a new pair for the
/// "signing key lost" scenario and the escrowed environment configuration. The private key is never rendered: after an
/// import the page holds its fingerprint, and a generated or escrowed PEM goes straight to a browser download.</summary>
public partial class Keys
{
    private const string DownloadModule = "./Components/Pages/Keys.razor.js";

    private Actor _actor = Actor.System;
    private IReadOnlyList<TargetSummary> _targets = [];
    private Guid _targetId;
    // Until the targets are read the page must not say there are none.
    private bool _loaded;
    private SigningKeyStatus? _status;
    private IReadOnlyList<SigningKeyStatus> _versions = [];
    private JwksCheckResult? _check;
    private KeysGeneratedKey? _generated;
    private bool _canManage;
    private bool _canCheck;
    private bool _canReveal;
    private bool _busy;
    private bool _interactive;
    private string? _keyError;
    private string? _loadError;

    [Inject] private TargetService Targets { get; set; } = default!;
    [Inject] private SigningKeyService SigningKeys { get; set; } = default!;
    [Inject] private JwksCheckService Jwks { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canManage = _actor.Has(ConsolePermission.ManageSecrets);
        _canCheck = _actor.Has(ConsolePermission.VerifyBackup);
        _canReveal = _actor.Has(ConsolePermission.RevealSecret);
        _targets = await Targets.ListAsync(CancellationToken.None);
        var preferred = await Targets.GetDefaultAsync(CancellationToken.None);
        _targetId = preferred?.Id ?? Guid.Empty;
        _loaded = true;
        await LoadKeyAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        // The prerendered page shows the import form before it answers; this tells people (and tests) it is live.
        if (firstRender)
        {
            _interactive = true;
            StateHasChanged();
        }
    }

    private async Task SelectTargetAsync(Guid targetId)
    {
        _targetId = targetId;
        _generated = null;
        _keyError = null;
        await LoadKeyAsync();
    }

    private async Task LoadKeyAsync()
    {
        if (_targetId == Guid.Empty)
        {
            return;
        }

        try
        {
            _status = await SigningKeys.GetStatusAsync(_targetId);
            _versions = await SigningKeys.ListVersionsAsync(_targetId);
            _check = _status?.LastCheck;
            _loadError = null;
        }
        catch (Exception e) when (e is SecretStoreException or KeyNotFoundException)
        {
            _loadError = e.Message;
        }
    }

    /// <summary>Returns the service's message when the key was refused; null when it was stored.</summary>
    private Task<string?> ImportTextAsync(string pem) =>
        RunKeyActionAsync(async () =>
        {
            var status = await SigningKeys.ImportAsync(_actor, _targetId, pem);
            Snackbar.Add($"Signing key {status.Fingerprint} escrowed as version {status.VersionId}.", Severity.Success);
        });

    private Task<string?> ImportFileAsync(IBrowserFile file) =>
        RunKeyActionAsync(async () =>
        {
            // The service reads at most its cap (a few KiB) and refuses anything larger, so a huge file is not transferred.
            await using var stream = file.OpenReadStream(maxAllowedSize: Math.Max(file.Size, 1));
            var status = await SigningKeys.ImportFileAsync(_actor, _targetId, stream);
            Snackbar.Add($"Signing key {status.Fingerprint} from {file.Name} escrowed as version {status.VersionId}.", Severity.Success);
        });

    private async Task<string?> RunKeyActionAsync(Func<Task> action)
    {
        _busy = true;
        _generated = null;
        try
        {
            await action();
            await LoadKeyAsync();
            return null;
        }
        catch (Exception e) when (e is InvalidSigningKeyException or SecretStoreException or PermissionDeniedException or KeyNotFoundException or IOException)
        {
            return e.Message;
        }
        finally
        {
            _busy = false;
            // Called back from the import panel: this page's own state changed too.
            StateHasChanged();
        }
    }

    private async Task CheckAgainstLiveAsync()
    {
        _busy = true;
        _keyError = null;
        try
        {
            var check = await Jwks.CheckAsync(_actor, _targetId);
            await LoadKeyAsync();
            _check = check;
        }
        catch (Exception e) when (e is PermissionDeniedException or KeyNotFoundException)
        {
            _keyError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task GenerateAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync(
            "Generate a new signing key?",
            "A new Ed25519 pair becomes the escrowed key of this target. HelloJohn keeps signing with its current key until you deploy the new one; once you do, every user must sign in again. The private key is offered for download once.",
            yesText: "Generate and download", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        _busy = true;
        _keyError = null;
        try
        {
            var generated = await SigningKeys.GenerateAsync(_actor, _targetId);
            // Only the public facts stay in the page; the PEM leaves through the download and is not kept.
            _generated = new KeysGeneratedKey(generated.Status.Fingerprint, generated.Status.VersionId, generated.DeploySteps, Downloaded: false);
            await LoadKeyAsync();
            if (await DownloadAsync(FileNameFor(generated.Status.VersionId), generated.PrivateKeyPem))
            {
                await SigningKeys.RecordDownloadAsync(_actor, _targetId, generated.Status.VersionId);
                _generated = _generated with { Downloaded = true };
            }
        }
        catch (Exception e) when (e is SecretStoreException or PermissionDeniedException or KeyNotFoundException)
        {
            _keyError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task DownloadEscrowedAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync(
            "Download the escrowed private key?",
            "The download is recorded in the audit trail. Keep the file only as long as you need it to deploy the key.",
            yesText: "Download", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        _busy = true;
        _keyError = null;
        try
        {
            var revealed = await SigningKeys.RevealAsync(_actor, _targetId);
            await DownloadAsync(FileNameFor(revealed.VersionId), revealed.PrivateKeyPem);
        }
        catch (Exception e) when (e is SecretStoreException or InvalidSigningKeyException or PermissionDeniedException or KeyNotFoundException)
        {
            _keyError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task<bool> DownloadAsync(string fileName, string pem)
    {
        try
        {
            await using var module = await JS.InvokeAsync<IJSObjectReference>("import", DownloadModule);
            await module.InvokeVoidAsync("downloadText", fileName, pem, "application/x-pem-file");
            return true;
        }
        catch (Exception e) when (e is JSException or JSDisconnectedException or TaskCanceledException)
        {
            _keyError = "The browser did not take the download. The key is escrowed all the same: an administrator can download it with \"Download escrowed key\".";
            return false;
        }
    }

    private string FileNameFor(string versionId)
    {
        var name = _targets.FirstOrDefault(t => t.Id == _targetId)?.Name ?? "hellojohn";
        var target = new string(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        var safeVersion = new string(versionId.Where(char.IsLetterOrDigit).Take(12).ToArray());
        return $"{target}-jwt-signing-key-{safeVersion}.pem";
    }
}
