using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Sets;
using Humanizer;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Backup sets, a page at a time from the database, each expandable to its members (one row per database,
/// with why a failed one failed), with live progress, cancel, retry of the failed members and pinning.</summary>
public partial class SetsGrid
{
    private MudDataGrid<BackupSetListItem>? _grid;

    /// <summary>Loads one page of sets (paging happens in the database).</summary>
    [Parameter, EditorRequired]
    public Func<BackupSetQuery, CancellationToken, Task<BackupSetPage>> Load { get; set; } = default!;

    /// <summary>Loads a set's members when its row is expanded.</summary>
    [Parameter, EditorRequired]
    public Func<Guid, Task<BackupSetDetails?>> LoadDetails { get; set; } = default!;

    /// <summary>Only the sets of this deployment; all when null.</summary>
    [Parameter]
    public Guid? TargetId { get; set; }

    /// <summary>Only this set (the Backups page opened from a link to it); all when null.</summary>
    [Parameter]
    public Guid? SetId { get; set; }

    /// <summary>Whether the signed-in user may take, cancel and retry sets.</summary>
    [Parameter]
    public bool CanRun { get; set; }

    [Parameter]
    public bool CanPin { get; set; }

    [Parameter]
    public EventCallback<BackupSetListItem> OnCancel { get; set; }

    [Parameter]
    public EventCallback<BackupSetListItem> OnRetry { get; set; }

    [Parameter]
    public EventCallback<BackupSetListItem> OnPin { get; set; }

    /// <summary>Whether the signed-in user may delete sets (administrators).</summary>
    [Parameter]
    public bool CanDelete { get; set; }

    /// <summary>Asks to delete a set; the page shows the typed confirmation.</summary>
    [Parameter]
    public EventCallback<BackupSetListItem> OnDelete { get; set; }

    /// <summary>More buttons for a set's row (verify, restore), from the page.</summary>
    [Parameter]
    public RenderFragment<BackupSetListItem>? Actions { get; set; }

    public Task ReloadAsync() => _grid?.ReloadServerData() ?? Task.CompletedTask;

    private async Task<GridData<BackupSetListItem>> LoadAsync(GridState<BackupSetListItem> state, CancellationToken ct)
    {
        var page = await Load(new BackupSetQuery(state.Page, state.PageSize, TargetId, SetId: SetId), ct);
        return new GridData<BackupSetListItem> { Items = page.Items, TotalItems = page.TotalCount };
    }

    private static string? MembersDone(long done, long? total) => total is > 0 ? $"{done} of {total} databases done" : null;

    internal static Color StatusColor(BackupSetStatus status) => status switch
    {
        BackupSetStatus.Succeeded => Color.Success,
        BackupSetStatus.Failed => Color.Error,
        BackupSetStatus.Partial => Color.Warning,
        BackupSetStatus.Cancelled or BackupSetStatus.Expired => Color.Default,
        _ => Color.Info,
    };

    internal static string StatusText(BackupSetListItem set) => set.Status switch
    {
        BackupSetStatus.Partial => $"partial: {set.MembersFailed} failed",
        _ => set.Status.ToString().ToLowerInvariant(),
    };

    private static string TriggerText(BackupSetListItem s) => s.Trigger switch
    {
        BackupTrigger.Manual => $"manual ({s.RequestedBy})",
        BackupTrigger.Scheduled => "scheduled",
        _ => s.Trigger.ToString().Humanize(LetterCasing.LowerCase),
    };
}
