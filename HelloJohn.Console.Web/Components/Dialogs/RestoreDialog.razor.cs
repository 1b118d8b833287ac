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
    private bool _otherServer;
    private string _server = "";
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

    /// <summary>Asks the server whether a name is allowed and whether it exists: the backup's target server, or the one
    /// the connection string (third argument, null for the target's) names.</summary>
    [Parameter, EditorRequired]
    public Func<Guid, string, string?, CancellationToken, Task<DatabaseNameCheck>> CheckName { get; set; } = default!;

    private RestorableBackup? Selected => Backups.FirstOrDefault(b => b.Id == _backupId);

    private string LiveDatabase => Selected?.LiveDatabase ?? "";

    private string? NameProblem => DatabaseNames.Problem(_databaseName) ?? _nameCheck?.Problem;

    /// <summary>The restore goes to a server typed here: the target has none, or the person chose another.</summary>
    private bool NamesServer => _mode == RestoreMode.NewDatabase && (_otherServer || Selected?.TargetHasConnection == false);

    /// <summary>The typed server as the console reads it, without its password; null until it reads.</summary>
    private Npgsql.NpgsqlConnectionStringBuilder? TypedServer
    {
        get
        {
            try
            {
                return _server.Length == 0 ? null : Core.Postgres.PgConnection.Parse(_server);
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }

    private string? ServerProblem
    {
        get
        {
            if (_server.Length == 0)
            {
                return null;
            }

            try
            {
                Core.Postgres.PgConnection.Parse(_server);
                return null;
            }
            catch (FormatException e)
            {
                return e.Message;
            }
        }
    }

    private string ServerHelp => TypedServer is { } typed
        ? $"Restores onto {Core.Postgres.PgConnection.Describe(typed)}; the role needs CREATEDB. The password is never shown, logged or kept after the restore."
        : "postgres://user:password@host:5432/postgres, or Host=…;Username=…;Password=…; the role needs CREATEDB.";

    internal bool CanSubmit => Selected is not null && (_mode switch
    {
        RestoreMode.NewDatabase => NameProblem is null && _nameCheck is not null && (!_nameCheck.Exists || _replace) && (!NamesServer || TypedServer is not null),
        RestoreMode.InPlace => CanRestoreInPlace && Selected.TargetHasConnection && LiveDatabase.Length > 0 && string.Equals(_confirmation, LiveDatabase, StringComparison.Ordinal),
        _ => false,
    });

    protected override async Task OnInitializedAsync()
    {
        _backupId = InitialBackupId ?? Backups.FirstOrDefault()?.Id ?? Guid.Empty;
        KeepModePossible();
        await CheckNameAsync();
    }

    private async Task BackupChangedAsync(Guid id)
    {
        _backupId = id;
        _confirmation = null;
        KeepModePossible();
        await CheckNameAsync();
    }

    private async Task OtherServerChangedAsync(bool other)
    {
        _otherServer = other;
        _replace = false;
        await CheckNameAsync();
    }

    private async Task ServerChangedAsync(string? server)
    {
        _server = server?.Trim() ?? "";
        _replace = false;
        await CheckNameAsync();
    }

    private Task ModeChangedAsync(RestoreMode mode)
    {
        // The in-place mode is never selectable by someone who may not use it (nor for a target without a connection),
        // whatever the browser sends.
        _mode = mode == RestoreMode.InPlace && (!CanRestoreInPlace || Selected?.TargetHasConnection == false) ? RestoreMode.NewDatabase : mode;
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
        var server = NamesServer ? TypedServer is null ? null : _server : null;
        if (Selected is null || DatabaseNames.Problem(_databaseName) is not null || (NamesServer && server is null))
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
            var check = await CheckName(_backupId, name, server, _checkCts.Token);
            if (name == _databaseName && server == (NamesServer ? _server : null))
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

    /// <summary>A backup whose target has no connection restores only into a new database.</summary>
    private void KeepModePossible()
    {
        if (Selected?.TargetHasConnection == false)
        {
            _mode = RestoreMode.NewDatabase;
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
            : new RestoreRequest(_backupId, RestoreMode.NewDatabase, _databaseName, ReplaceExisting: _nameCheck?.Exists == true && _replace)
            {
                ServerConnectionString = NamesServer ? _server : null,
            };
        MudDialog.Close(DialogResult.Ok(request));
    }

    private void Cancel() => MudDialog.Cancel();
}
