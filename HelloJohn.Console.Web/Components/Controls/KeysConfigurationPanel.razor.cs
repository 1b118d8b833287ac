using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Core.Secrets.Configuration;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>The escrowed environment configuration of one target: names with masked values, Admin-only reveal, and
/// changes by single variable or pasted .env text. Every refusal shows the service's message; nothing is stored then.</summary>
public partial class KeysConfigurationPanel
{
    private ConfigurationEscrowView? _view;
    private readonly Dictionary<string, string> _revealed = new(StringComparer.Ordinal);
    private string _name = "";
    private string _value = "";
    /// <summary>A .env pasted at once; longer files are pasted in parts (the page's connection carries at most so much).</summary>
    internal const int MaxDotEnvChars = 64 * 1024;

    private string _dotEnv = "";
    private bool _replaceAll;
    private bool _working;
    private bool _canManage;
    private bool _canReveal;
    private string? _error;
    private Guid _loadedFor;

    [Inject] private ConfigurationEscrowService Escrow { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>The target whose configuration is shown.</summary>
    [Parameter, EditorRequired]
    public Guid TargetId { get; set; }

    /// <summary>The signed-in person; decides which buttons appear (the service checks again).</summary>
    [Parameter, EditorRequired]
    public Actor Actor { get; set; } = default!;

    protected override async Task OnParametersSetAsync()
    {
        _canManage = Actor.Has(ConsolePermission.ManageSecrets);
        _canReveal = Actor.Has(ConsolePermission.RevealSecret);
        if (_loadedFor != TargetId)
        {
            _loadedFor = TargetId;
            _revealed.Clear();
            await RunAsync(async () => _view = await Escrow.GetAsync(TargetId));
        }
    }

    private Task RevealAsync(string name) => RunAsync(async () =>
    {
        var revealed = await Escrow.RevealAsync(Actor, TargetId, name);
        _revealed[name] = revealed.Value;
    });

    private void Hide(string name) => _revealed.Remove(name);

    private Task AddAsync() => RunAsync(async () =>
    {
        var name = _name.Trim();
        _view = await Escrow.MergeAsync(Actor, TargetId, new Dictionary<string, string?> { [name] = _value });
        _revealed.Remove(name);
        _name = "";
        _value = "";
        Snackbar.Add($"{name} stored as version {_view.VersionId}.", Severity.Success);
    });

    private Task RemoveAsync(string name) => RunAsync(async () =>
    {
        _view = await Escrow.MergeAsync(Actor, TargetId, new Dictionary<string, string?> { [name] = null });
        _revealed.Remove(name);
        Snackbar.Add($"{name} removed; the escrow's version {_view.VersionId} no longer holds it.", Severity.Info);
    });

    private Task StoreDotEnvAsync() => RunAsync(async () =>
    {
        if (_dotEnv.Length >= MaxDotEnvChars)
        {
            throw new InvalidConfigurationEscrowException(
                $"The pasted text is {_dotEnv.Length:N0} characters, the most this box takes (a longer paste is cut there), so its last lines may be missing. Nothing was stored. Paste the file in parts, or add the long variables one by one.");
        }

        var variables = ConfigurationEscrowService.ParseDotEnv(_dotEnv);
        _view = _replaceAll
            ? await Escrow.ReplaceAsync(Actor, TargetId, variables)
            : await Escrow.MergeAsync(Actor, TargetId, variables.ToDictionary(v => v.Key, v => (string?)v.Value, StringComparer.Ordinal));
        _revealed.Clear();
        _dotEnv = "";
        Snackbar.Add($"{variables.Count} variable(s) stored as version {_view.VersionId}.", Severity.Success);
    });

    private async Task RunAsync(Func<Task> action)
    {
        _working = true;
        _error = null;
        try
        {
            await action();
        }
        catch (Exception e) when (e is InvalidConfigurationEscrowException or SecretStoreException or PermissionDeniedException or KeyNotFoundException)
        {
            _error = e.Message;
        }
        finally
        {
            _working = false;
        }
    }
}
