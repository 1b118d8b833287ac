using HelloJohn.Console.Core.Dashboard;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Pages;

/// <summary>The state of protection at a glance: RPO now, the newest backup and whether it was proven to restore, what
/// runs next; an empty console says what to do first.</summary>
public partial class Dashboard
{
    private DashboardSummary? _summary;
    private VerificationBadge? _newestBadge;
    private IReadOnlyList<ScheduleView> _schedules = [];
    private JwksCheckResult? _jwks;
    private Guid? _targetId;
    private bool _canBackUp;
    private bool _canVerify;
    private bool _isAdmin;
    private IReadOnlyList<LocalStoreSpace> _space = [];

    [Inject] private DashboardService DashboardService { get; set; } = default!;
    [Inject] private VerificationService VerificationService { get; set; } = default!;
    [Inject] private ScheduleService ScheduleService { get; set; } = default!;
    [Inject] private JwksCheckService JwksCheckService { get; set; } = default!;
    [Inject] private TargetService TargetService { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private StorageSpaceService StorageSpace { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        var actor = await CurrentActor.GetAsync();
        _canBackUp = actor.Has(ConsolePermission.RunBackup);
        _canVerify = actor.Has(ConsolePermission.VerifyBackup);
        _isAdmin = actor.Has(ConsolePermission.ManageSecrets);
        _space = await StorageSpace.GetAsync(CancellationToken.None);
        _targetId = (await TargetService.GetDefaultAsync(CancellationToken.None))?.Id;
        _summary = await DashboardService.GetAsync(_targetId, CancellationToken.None);
        if (_summary.LastSuccessId is { } newest)
        {
            _newestBadge = (await VerificationService.LatestForBackupsAsync([newest], CancellationToken.None)).GetValueOrDefault(newest) ?? VerificationBadge.Never;
        }

        if (_targetId is { } t)
        {
            _schedules = await ScheduleService.ListAsync(t, CancellationToken.None);
            _jwks = await JwksCheckService.GetLastAsync(t, CancellationToken.None);
        }
    }
}
