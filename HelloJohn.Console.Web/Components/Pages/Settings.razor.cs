using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Web.Components.Pages;

/// <summary>What the console runs with: deployments (added, changed and removed here by administrators), the settings kept
/// in the console database (deployment name, URL, provider, retention numbers), read-only stores and tiers, secret store
/// and compression; the catalog rebuild.</summary>
public partial class Settings
{
    private Actor _actor = Actor.System;
    private IReadOnlyList<TargetSummary> _targets = [];
    private IReadOnlyList<StorageStoreRow> _stores = [];
    private string _compression = "";
    private string _retentionPolicy = "";
    private string _timeZone = "";
    private string _secretStoreKind = "";
    private string _secretStoreLocation = "";
    private bool _canRebuild;
    private bool _rebuilding;
    private string? _rebuildError;
    private CatalogRebuildReport? _report;
    private bool _canSetConnection;
    private Guid? _editing;
    private string? _newConnection;
    private bool _saving;
    private string? _connectionError;
    private string? _connectionSaved;
    private DeploymentEditing? _editingDeployment;
    private Guid? _removing;
    private string? _removeConfirmation;

    /// <summary>The editor is open: for a new deployment (null) or for this one.</summary>
    private sealed record DeploymentEditing(TargetSummary? Existing);

    [Inject] private TargetService Targets { get; set; } = default!;
    [Inject] private DeploymentService Deployments { get; set; } = default!;
    [Inject] private IBackupStoreRegistry Stores { get; set; } = default!;
    [Inject] private ISecretStore SecretStore { get; set; } = default!;
    [Inject] private CatalogRebuildService Catalog { get; set; } = default!;
    [Inject] private IOptions<BackupOptions> BackupOptions { get; set; } = default!;
    [Inject] private Core.Settings.ConsoleSettingsService ConsoleSettings { get; set; } = default!;
    [Inject] private IOptions<ScheduleOptions> ScheduleOptions { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canRebuild = _actor.Has(ConsolePermission.ManageStorage);
        _canSetConnection = _actor.Has(ConsolePermission.ManageSettings);
        _targets = await Targets.ListAsync(CancellationToken.None);
        _stores = StorageStoreRow.From(Stores);
        _compression = BackupOptions.Value.Compression;
        _retentionPolicy = (await ConsoleSettings.RetentionAsync(CancellationToken.None)).ToPolicy(Stores.Layout).Describe();
        _timeZone = ScheduleOptions.Value.Zone().Id;
        _secretStoreKind = SecretStore.Kind == SecretStoreKind.AwsSecretsManager ? "AWS Secrets Manager" : "Local encrypted store";
        _secretStoreLocation = SecretStore.Location;
    }

    private async Task SettingsSavedAsync()
    {
        _retentionPolicy = (await ConsoleSettings.RetentionAsync(CancellationToken.None)).ToPolicy(Stores.Layout).Describe();
        _targets = await Targets.ListAsync(CancellationToken.None);
    }

    private void EditDeployment(TargetSummary? existing)
    {
        _editingDeployment = new DeploymentEditing(existing);
        _connectionError = null;
        _connectionSaved = null;
    }

    private async Task DeploymentSavedAsync(string message)
    {
        _editingDeployment = null;
        _connectionSaved = message;
        _targets = await Targets.ListAsync(CancellationToken.None);
    }

    private void StartRemoving(Guid targetId)
    {
        _removing = targetId;
        _removeConfirmation = null;
        _connectionError = null;
        _connectionSaved = null;
    }

    private async Task RemoveAsync(TargetSummary target)
    {
        _saving = true;
        try
        {
            _connectionSaved = await Deployments.RemoveAsync(_actor, target.Id, _removeConfirmation, CancellationToken.None);
            _removing = null;
            _targets = await Targets.ListAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is DeploymentRejectedException or PermissionDeniedException or KeyNotFoundException)
        {
            _connectionError = e.Message;
        }
        finally
        {
            _saving = false;
        }
    }

    private void StartEditing(Guid targetId)
    {
        _editing = targetId;
        _newConnection = null;
        _connectionError = null;
        _connectionSaved = null;
    }

    private void StopEditing()
    {
        _editing = null;
        _newConnection = null;
    }

    private async Task SaveConnectionAsync(TargetSummary target)
    {
        _saving = true;
        _connectionError = null;
        try
        {
            var saved = await Targets.SetConnectionAsync(_actor, target.Id, _newConnection ?? "", CancellationToken.None);
            _connectionSaved = target.Source == TargetConnectionSource.Unset
                ? $"{saved.Name} now connects to {saved.DisplayAddress}. Its schedules stay paused until you resume them on Schedules & retention."
                : $"{saved.Name} now connects to {saved.DisplayAddress}.";
            StopEditing();
            _targets = await Targets.ListAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is InvalidOperationException or PermissionDeniedException or KeyNotFoundException)
        {
            // The messages name the address at most, never the connection string.
            _connectionError = e.Message;
        }
        finally
        {
            _saving = false;
        }
    }

    private async Task RebuildAsync()
    {
        _rebuilding = true;
        _rebuildError = null;
        try
        {
            _report = await Catalog.RebuildAsync(_actor, CancellationToken.None);
            _targets = await Targets.ListAsync(CancellationToken.None);
        }
        catch (PermissionDeniedException e)
        {
            _rebuildError = e.Message;
        }
        finally
        {
            _rebuilding = false;
        }
    }
}
