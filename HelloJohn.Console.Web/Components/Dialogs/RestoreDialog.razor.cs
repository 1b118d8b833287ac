using HelloJohn.Console.Core.Restores;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Dialogs;

/// <summary>Asks what to restore and where. It returns a <see cref="RestoreRequest"/> only when the confirmation rules
/// hold; the service checks the same rules again.</summary>
public partial class RestoreDialog
{
    private Guid _backupId;
    private RestoreMode _mode = RestoreMode.NewDatabase;
    private string _databaseName = "hellojohn_restore";
    private bool _replace;
    private string? _confirmation;
    private DatabaseNameCheck? _nameCheck;
    private CancellationTokenSource? _checkCts;

    [CascadingParameter]
    private IMudDialogInstance MudDialog { get; set; } = default!;

    /// <summary>The finished backups to choose from, newest first.</summary>
    [Parameter, EditorRequired]
    public IReadOnlyList<RestorableBackup> Backups { get; set; } = [];

    /// <summary>The backup selected when the dialog opens; the newest when null.</summary>
    [Parameter]
    public Guid? InitialBackupId { get; set; }

    /// <summary>Whether the in-place mode is offered (Admins only).</summary>
    [Parameter]
    public bool CanRestoreInPlace { get; set; }

    /// <summary>Asks the server whether a name is allowed and whether it exists.</summary>
    [Parameter, EditorRequired]
    public Func<Guid, string, CancellationToken, Task<DatabaseNameCheck>> CheckName { get; set; } = default!;

    private RestorableBackup? Selected => Backups.FirstOrDefault(b => b.Id == _backupId);

    private string LiveDatabase => Selected?.LiveDatabase ?? "";

    private string? NameProblem => DatabaseNames.Problem(_databaseName) ?? _nameCheck?.Problem;

    internal bool CanSubmit => Selected is not null && (_mode switch
    {
        RestoreMode.NewDatabase => NameProblem is null && _nameCheck is not null && (!_nameCheck.Exists || _replace),
        RestoreMode.InPlace => CanRestoreInPlace && LiveDatabase.Length > 0 && string.Equals(_confirmation, LiveDatabase, StringComparison.Ordinal),
        _ => false,
    });

    protected override async Task OnInitializedAsync()
    {
        _backupId = InitialBackupId ?? Backups.FirstOrDefault()?.Id ?? Guid.Empty;
        await CheckNameAsync();
    }

    private async Task BackupChangedAsync(Guid id)
    {
        _backupId = id;
        _confirmation = null;
        await CheckNameAsync();
    }

    private Task ModeChangedAsync(RestoreMode mode)
    {
        // The in-place mode is never selectable by someone who may not use it, whatever the browser sends.
        _mode = mode == RestoreMode.InPlace && !CanRestoreInPlace ? RestoreMode.NewDatabase : mode;
        _confirmation = null;
        return Task.CompletedTask;
    }

    private async Task NameChangedAsync(string? name)
    {
        _databaseName = name?.Trim() ?? "";
        _replace = false;
        await CheckNameAsync();
    }

    private async Task CheckNameAsync()
    {
        _nameCheck = null;
        if (Selected is null || DatabaseNames.Problem(_databaseName) is not null)
        {
            return;
        }

        if (_checkCts is not null)
        {
            await _checkCts.CancelAsync();
        }

        _checkCts = new CancellationTokenSource();
        var name = _databaseName;
        try
        {
            var check = await CheckName(_backupId, name, _checkCts.Token);
            if (name == _databaseName)
            {
                _nameCheck = check;
            }
        }
        catch (OperationCanceledException)
        {
            // A newer name replaced this one while it was checked.
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or KeyNotFoundException)
        {
            _nameCheck = new DatabaseNameCheck($"Could not check the name on the server: {e.Message}", false);
        }
    }

    private void Submit()
    {
        if (!CanSubmit)
        {
            return;
        }

        var request = _mode == RestoreMode.InPlace
            ? new RestoreRequest(_backupId, RestoreMode.InPlace, LiveDatabase, Confirmation: _confirmation)
            : new RestoreRequest(_backupId, RestoreMode.NewDatabase, _databaseName, ReplaceExisting: _nameCheck?.Exists == true && _replace);
        MudDialog.Close(DialogResult.Ok(request));
    }

    private void Cancel() => MudDialog.Cancel();
}
