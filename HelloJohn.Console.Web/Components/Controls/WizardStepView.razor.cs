using HelloJohn.Console.Core.Recovery;
using Humanizer;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>One wizard step: its instructions with copyable commands, its inputs, and the button that runs its action
/// and check (or marks it done where nothing can be checked), with the check's result.</summary>
public partial class WizardStepView
{
    private readonly Dictionary<string, string?> _values = [];
    private string? _valuesFor;
    private bool _busy;

    /// <summary>The step to show.</summary>
    /// <summary>The run the step belongs to, whose live progress shows while the step runs.</summary>
    [Parameter]
    public Guid RunId { get; set; }

    [Parameter, EditorRequired]
    public RecoveryStepView Step { get; set; } = default!;

    /// <summary>Backups offered by a backup input, the default first chosen.</summary>
    [Parameter]
    public IReadOnlyList<BackupCandidate> Candidates { get; set; } = [];

    /// <summary>Whether the signed-in person may run wizard steps.</summary>
    [Parameter]
    public bool CanAct { get; set; }

    /// <summary>Runs the step with the typed inputs.</summary>
    [Parameter]
    public EventCallback<IReadOnlyDictionary<string, string?>> OnAdvance { get; set; }

    [Parameter]
    public EventCallback OnMarkDone { get; set; }

    /// <summary>Fetches the real value behind a masked command (the new database URL).</summary>
    [Parameter]
    public Func<Task<string>>? RevealSecret { get; set; }

    /// <summary>Extra content under the instructions (the signing key's download).</summary>
    [Parameter]
    public RenderFragment? ChildContent { get; set; }

    private string ButtonText => Step.ActionLabel ?? (Step.Inputs.Any(i => i.Required) ? "Check" : "Run check");

    protected override void OnParametersSet()
    {
        if (_valuesFor == Step.Key)
        {
            return;
        }

        // A new step: start its form from its defaults, never from another step's values.
        _valuesFor = Step.Key;
        _values.Clear();
        foreach (var field in Step.Inputs)
        {
            _values[field.Name] = field.Kind switch
            {
                InputKind.Backup => Candidates.FirstOrDefault(c => c.IsDefault)?.Id.ToString(),
                InputKind.TimeZone => "UTC",
                InputKind.Boolean => "false",
                _ => null,
            };
        }
    }

    private string? Get(string name) => _values.GetValueOrDefault(name);

    private bool IsChecked(string name) => _values.GetValueOrDefault(name) == "true";

    internal static string CandidateText(BackupCandidate c) =>
        $"{c.FileName} · snapshot {c.SnapshotAt.ToLocalTime():yyyy-MM-dd HH:mm} · {(c.VerifiedAt is { } v ? $"verified {v.ToLocalTime():yyyy-MM-dd}" : "not verified")} · " +
        $"loses {RecoveryDurations.Describe(c.AgeAtIncident)}{(c.SizeBytes is { } s ? $" · {s.Bytes().Humanize("0.#")}" : "")}";

    private async Task AdvanceAsync()
    {
        _busy = true;
        try
        {
            await OnAdvance.InvokeAsync(new Dictionary<string, string?>(_values));
        }
        finally
        {
            _busy = false;
        }

        // A typed password does not stay in the page once sent.
        foreach (var field in Step.Inputs.Where(f => f.Kind == InputKind.Secret))
        {
            _values[field.Name] = null;
        }
    }

    private async Task MarkDoneAsync()
    {
        _busy = true;
        try
        {
            await OnMarkDone.InvokeAsync();
        }
        finally
        {
            _busy = false;
        }
    }
}
