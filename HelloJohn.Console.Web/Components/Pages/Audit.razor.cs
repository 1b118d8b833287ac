using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

public partial class Audit
{
    private MudTable<AuditEntry>? _table;
    private Actor _actor = new(null, "anonymous", []);
    private AuditFilter _applied = AuditFilter.None;
    private string? _user;
    private string? _action;
    private AuditOutcome? _outcome;
    private DateTime? _fromDate;
    private DateTime? _toDate;
    private string? _error;

    [Inject] private AuditQueryService AuditTrail { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;

    private string ExportUrl => AuditEndpoints.ExportUrl(_applied);

    protected override async Task OnInitializedAsync() => _actor = await CurrentActor.GetAsync();

    private async Task<TableData<AuditEntry>> LoadAsync(TableState state, CancellationToken ct)
    {
        try
        {
            var page = await AuditTrail.QueryAsync(_actor, _applied, state.Page, state.PageSize, ct);
            return new TableData<AuditEntry> { Items = page.Items, TotalItems = page.TotalCount };
        }
        catch (PermissionDeniedException e)
        {
            _error = e.Message;
            return new TableData<AuditEntry> { Items = [], TotalItems = 0 };
        }
    }

    private async Task ApplyAsync()
    {
        var filter = BuildFilter(_user, _action, _outcome, _fromDate, _toDate, out var problem);
        _error = problem;
        if (filter is null)
        {
            return;
        }

        _applied = filter;
        if (_table is not null)
        {
            await _table.ReloadServerData();
        }
    }

    private Task ClearAsync()
    {
        (_user, _action, _outcome, _fromDate, _toDate) = (null, null, null, null, null);
        return ApplyAsync();
    }

    /// <summary>The filter for the form's values: dates are whole UTC days, the end day included. Null (with the
    /// reason) when the range is backwards.</summary>
    internal static AuditFilter? BuildFilter(string? user, string? action, AuditOutcome? outcome, DateTime? fromDate, DateTime? toDate, out string? problem)
    {
        DateTimeOffset? from = fromDate is { } f ? new DateTimeOffset(f.Date, TimeSpan.Zero) : null;
        DateTimeOffset? to = toDate is { } t ? new DateTimeOffset(t.Date, TimeSpan.Zero).AddDays(1) : null;
        if (from is not null && to is not null && to <= from)
        {
            problem = "The end date is before the start date. Pick an end on or after the start; the list was not changed.";
            return null;
        }

        problem = null;
        return new AuditFilter(string.IsNullOrWhiteSpace(user) ? null : user.Trim(), action, outcome, from, to);
    }

    internal static Color OutcomeColor(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Succeeded => Color.Success,
        AuditOutcome.Denied => Color.Warning,
        _ => Color.Error,
    };
}
