using HelloJohn.Console.Core.Schedules;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Edits a schedule's cron expression and zone, previewing the next five runs as the person types. An
/// expression the service refuses shows its message and cannot be saved.</summary>
public partial class ScheduleEditor
{
    private string _cron = "";
    private string _zone = "";
    private string? _editing;
    private CronPreview _preview = new("", "", null, []);
    private string? _saveError;
    private string? _warning;
    private bool _saving;

    /// <summary>The schedule being edited.</summary>
    [Parameter, EditorRequired]
    public ScheduleView Schedule { get; set; } = default!;

    /// <summary>Checks an expression in a zone and lists its next runs (the schedule service's preview).</summary>
    [Parameter, EditorRequired]
    public Func<string, string, CronPreview> Preview { get; set; } = default!;

    /// <summary>Saves the expression and zone; returns the service's message when refused, null when saved.</summary>
    [Parameter, EditorRequired]
    public Func<string, string, Task<string?>> Save { get; set; } = default!;

    /// <summary>A warning about a valid expression (a backup schedule more frequent than a backup takes), or null.
    /// Saving stays possible: the person may know better.</summary>
    [Parameter]
    public Func<string, string, string?>? Warn { get; set; }

    /// <summary>The reader's time zone for the preview; UTC when unknown.</summary>
    [Parameter]
    public TimeZoneInfo? UserZone { get; set; }

    [Parameter]
    public EventCallback OnClose { get; set; }

    protected override void OnParametersSet()
    {
        if (_editing != Schedule.Id)
        {
            _editing = Schedule.Id;
            _cron = Schedule.Cron;
            _zone = Schedule.TimeZone;
            _saveError = null;
            Refresh();
        }
    }

    private void OnCronChanged(string? value)
    {
        _cron = value ?? "";
        Refresh();
    }

    private void OnZoneChanged(string? value)
    {
        _zone = value ?? "";
        Refresh();
    }

    private void Refresh()
    {
        _preview = Preview(_cron, _zone);
        _warning = _preview.IsValid ? Warn?.Invoke(_cron, _zone) : null;
        _saveError = null;
    }

    private async Task SaveAsync()
    {
        if (!_preview.IsValid)
        {
            return;
        }

        _saving = true;
        try
        {
            _saveError = await Save(_cron, _zone);
        }
        finally
        {
            _saving = false;
        }
    }
}

/// <summary>Names of schedules as people say them.</summary>
internal static class ScheduleText
{
    public static string KindName(ScheduleKind kind) => kind switch
    {
        ScheduleKind.Backup => "Backup",
        ScheduleKind.Verification => "Verification",
        ScheduleKind.Retention => "Retention",
        ScheduleKind.Drill => "Recovery drill",
        _ => "JWKS check",
    };

    public static string KindPurpose(ScheduleKind kind) => kind switch
    {
        ScheduleKind.Backup => "pg_dump of the target into the daily stores",
        ScheduleKind.Verification => "restore of the newest backup into a scratch database, row counts compared",
        ScheduleKind.Retention => "tier copies and expiry by the retention policy (also runs after every backup)",
        ScheduleKind.Drill => "the database-host-failure recovery against a scratch database the console creates and drops; measures the real RTO",
        _ => "comparison of the escrowed signing key with HelloJohn's live JWKS",
    };
}
