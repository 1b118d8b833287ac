using System.Globalization;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

public partial class Recovery
{
    private IReadOnlyList<TargetSummary> _targets = [];
    private IReadOnlyList<RecoveryRunSummary> _history = [];
    private List<RecoveryRunSummary> _active = [];
    private Guid? _targetId;
    private string? _incidentText;
    private bool _canRun;
    private bool _starting;
    private string? _error;
    private Guid? _existingRunId;
    private Actor _actor = Actor.System;

    [Inject] private RecoveryService RecoveryService { get; set; } = default!;
    [Inject] private TargetService Targets { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    /// <summary>An example in the format asked for: an hour ago, today.</summary>
    private string IncidentExample => Time.GetUtcNow().AddHours(-1).UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canRun = _actor.Has(ConsolePermission.RunRecoveryWizard);
        _targets = await Targets.ListAsync(CancellationToken.None);
        _targetId = (await Targets.GetDefaultAsync(CancellationToken.None))?.Id;
        await LoadHistoryAsync();
    }

    private async Task LoadHistoryAsync()
    {
        _history = (await RecoveryService.ListAsync(new RecoveryRunQuery(PageSize: 50), CancellationToken.None)).Items;
        _active = [.. _history.Where(r => r.Status == RecoveryRunStatus.Active)];
    }

    private async Task StartAsync(RecoveryScenario scenario)
    {
        _error = null;
        _existingRunId = null;
        if (_targetId is not { } targetId)
        {
            _error = "No target is configured. Set HELLOJOHN_DATABASE_URL.";
            return;
        }

        DateTimeOffset? incident = null;
        if (!string.IsNullOrWhiteSpace(_incidentText))
        {
            if (!DateTime.TryParseExact(_incidentText.Trim(), ["yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm"], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                _error = $"'{_incidentText}' is not a time like {IncidentExample} (UTC). Nothing was started.";
                return;
            }

            incident = new DateTimeOffset(at, TimeSpan.Zero);
        }

        _starting = true;
        try
        {
            var runId = await RecoveryService.StartAsync(_actor, new RecoveryStartRequest(scenario, targetId, incident), CancellationToken.None);
            Navigation.NavigateTo($"/recovery/{runId}");
        }
        catch (RecoveryRefusedException e)
        {
            _error = e.Message;
            _existingRunId = e.ExistingRunId;
        }
        catch (Exception e) when (e is RecoveryInputException or PermissionDeniedException)
        {
            _error = e.Message;
        }
        finally
        {
            _starting = false;
        }
    }

    internal static Color StatusColor(RecoveryRunStatus status) => status switch
    {
        RecoveryRunStatus.Completed => Color.Success,
        RecoveryRunStatus.Failed => Color.Error,
        RecoveryRunStatus.Active => Color.Info,
        _ => Color.Default,
    };
}
