using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Verification;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>The backups catalog, a page at a time from the database, with live progress and per-table counts on expand.</summary>
public partial class BackupsGrid
{
    private MudDataGrid<BackupListItem>? _grid;
    private IReadOnlyDictionary<Guid, VerificationBadge> _badges = new Dictionary<Guid, VerificationBadge>();
    // Until the first page arrives the grid is empty: it must not say "no backups" then.
    private bool _loaded;

    /// <summary>Loads one page of backups (paging happens in the database).</summary>
    [Parameter, EditorRequired]
    public Func<BackupQuery, CancellationToken, Task<BackupPage>> Load { get; set; } = default!;

    /// <summary>Loads a backup's details (row counts, locations) when its row is expanded.</summary>
    [Parameter, EditorRequired]
    public Func<Guid, Task<BackupDetails?>> LoadDetails { get; set; } = default!;

    /// <summary>Only this backup (the Backups page opened from a link to it); all when null.</summary>
    [Parameter]
    public Guid? BackupId { get; set; }

    /// <summary>Whether the signed-in user may cancel a running backup.</summary>
    [Parameter]
    public bool CanCancel { get; set; }

    /// <summary>Raised when the user asks to cancel a queued or running backup.</summary>
    [Parameter]
    public EventCallback<BackupListItem> OnCancel { get; set; }

    /// <summary>Raised when the user asks to copy a partially stored backup into the stores it is missing from.</summary>
    [Parameter]
    public EventCallback<BackupListItem> OnRetryUpload { get; set; }

    /// <summary>Whether the signed-in user may download backup files (Admin).</summary>
    [Parameter]
    public bool CanDownload { get; set; }

    /// <summary>Whether the signed-in user may pin and unpin backups.</summary>
    [Parameter]
    public bool CanPin { get; set; }

    /// <summary>Raised when the user pins or unpins a backup (it toggles).</summary>
    [Parameter]
    public EventCallback<BackupListItem> OnPin { get; set; }

    /// <summary>Whether the signed-in user may delete backups (Admin).</summary>
    [Parameter]
    public bool CanDelete { get; set; }

    /// <summary>Raised when the user asks to delete a backup; the page asks for the typed confirmation.</summary>
    [Parameter]
    public EventCallback<BackupListItem> OnDelete { get; set; }

    /// <summary>Loads the latest verification outcome of the backups on the page; no Verified column when null.</summary>
    [Parameter]
    public Func<IReadOnlyCollection<Guid>, CancellationToken, Task<IReadOnlyDictionary<Guid, VerificationBadge>>>? LoadVerifications { get; set; }

    /// <summary>Whether any row on the current page is queued or running, after the last load.</summary>
    public bool HasActive { get; private set; }

    public Task ReloadAsync() => _grid?.ReloadServerData() ?? Task.CompletedTask;

    private async Task<GridData<BackupListItem>> LoadAsync(GridState<BackupListItem> state, CancellationToken ct)
    {
        var page = await Load(new BackupQuery(state.Page, state.PageSize, BackupId: BackupId), ct);
        HasActive = page.Items.Any(i => i.IsActive);
        if (LoadVerifications is not null)
        {
            _badges = await LoadVerifications([.. page.Items.Select(i => i.Id)], ct);
        }

        _loaded = true;
        return new GridData<BackupListItem> { Items = page.Items, TotalItems = page.TotalCount };
    }

    private VerificationBadge BadgeOf(Guid backupId) => _badges.GetValueOrDefault(backupId) ?? VerificationBadge.Never;

    /// <summary>Whether the backup has a file in a store (to download, pin or delete).</summary>
    internal static bool HasFile(BackupListItem b) => b.Status is BackupStatus.Succeeded or BackupStatus.PartiallyStored or BackupStatus.Unverifiable;

    private static string BackupFileUrl(Guid id) => HelloJohn.Console.Web.Security.BackupFileEndpoints.DownloadUrl(id);

    internal static Color StatusColor(BackupStatus status) => status switch
    {
        BackupStatus.Succeeded => Color.Success,
        BackupStatus.Failed or BackupStatus.Unverifiable => Color.Error,
        BackupStatus.PartiallyStored => Color.Warning,
        BackupStatus.Cancelled => Color.Default,
        _ => Color.Info,
    };

    internal static string StatusText(BackupStatus status) => status switch
    {
        BackupStatus.PartiallyStored => "partially stored",
        _ => status.ToString().ToLowerInvariant(),
    };

    internal static string TriggerText(BackupListItem b) => b.Trigger switch
    {
        BackupTrigger.Manual => $"manual ({b.RequestedBy})",
        BackupTrigger.Scheduled => "scheduled",
        BackupTrigger.SafetyBeforeRestore => "safety (before restore)",
        _ => b.Trigger.ToString().ToLowerInvariant(),
    };

    internal static string FormatDuration(TimeSpan d) => Readable.Duration(d);
}
