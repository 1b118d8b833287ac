using HelloJohn.Console.Core.History;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

public partial class History
{
    private BackupHistory? _history;
    private int _days = 30;
    private string[] _labels = [];
    private List<ChartSeries<double>> _sizeSeries = [];
    private List<ChartSeries<double>> _durationSeries = [];

    [Inject] private HistoryService HistoryService { get; set; } = default!;

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task ChangeWindowAsync(int days)
    {
        _days = days;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _history = await HistoryService.BackupsAsync(null, TimeSpan.FromDays(_days), CancellationToken.None);
        var succeeded = _history.Points.Where(p => p.SizeBytes is not null).ToList();
        // Label every point but keep the axis readable: a date only where it changes.
        _labels = [.. succeeded.Select((p, i) => i == 0 || p.StartedAt.LocalDateTime.Date != succeeded[i - 1].StartedAt.LocalDateTime.Date ? p.StartedAt.ToLocalTime().ToString("MM-dd") : "")];
        _sizeSeries = [new ChartSeries<double> { Name = "Size (MB)", Data = new ChartData<double>([.. succeeded.Select(p => Math.Round(p.SizeBytes!.Value / 1_048_576d, 2))]) }];
        _durationSeries = [new ChartSeries<double> { Name = "Duration (s)", Data = new ChartData<double>([.. succeeded.Select(p => Math.Round(p.DurationSeconds ?? 0, 1))]) }];
    }
}
