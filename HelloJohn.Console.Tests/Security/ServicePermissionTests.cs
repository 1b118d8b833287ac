using System.Reflection;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Secrets.Configuration;
using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Security.ApiTokens;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Security;

/// <summary>The service layer refuses a caller without the permission, whatever the UI shows: a crafted request reaches
/// these methods directly. Every public Core method that takes an <see cref="Actor"/> must have a row here.</summary>
[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed class ServicePermissionTests(ServicePermissionTests.App app) : IClassFixture<ServicePermissionTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : SecurityAppFactory(postgres);

    /// <summary>What a call needs besides its caller: an existing account and a target.</summary>
    private sealed record Subjects(App App, string UserId, Guid TargetId)
    {
        public T Service<T>() where T : notnull => App.Service<T>();
    }

    private sealed record Row(string Method, ConsolePermission Needs, Func<Subjects, Actor, Task> Call);

    private static readonly Row[] Table =
    [
        new("BackupService.RequestAsync", ConsolePermission.RunBackup, (x, actor) => x.Service<BackupService>().RequestAsync(actor, null, BackupTrigger.Manual, CancellationToken.None)),
        new("BackupService.RunNowAsync", ConsolePermission.RunBackup, (x, actor) => x.Service<BackupService>().RunNowAsync(actor, Guid.NewGuid(), BackupTrigger.Manual, CancellationToken.None)),
        new("BackupService.RetryUploadAsync", ConsolePermission.RunBackup, (x, actor) => x.Service<BackupService>().RetryUploadAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("BackupService.CancelAsync", ConsolePermission.CancelBackup, (x, actor) => x.Service<BackupService>().CancelAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("UserAdministrationService.ListAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<UserAdministrationService>().ListAsync(actor, CancellationToken.None)),
        new("UserAdministrationService.CreateAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<UserAdministrationService>().CreateAsync(actor, new NewConsoleUser("crafted@example.test", null, ConsoleRoles.Admin, "Crafted-Pa55word!"), CancellationToken.None)),
        new("UserAdministrationService.ChangeRoleAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<UserAdministrationService>().ChangeRoleAsync(actor, x.UserId, ConsoleRoles.Admin, CancellationToken.None)),
        new("UserAdministrationService.DisableAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<UserAdministrationService>().DisableAsync(actor, x.UserId, CancellationToken.None)),
        new("UserAdministrationService.EnableAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<UserAdministrationService>().EnableAsync(actor, x.UserId, CancellationToken.None)),
        new("UserAdministrationService.ResetPasswordAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<UserAdministrationService>().ResetPasswordAsync(actor, x.UserId, "Crafted-Pa55word!", CancellationToken.None)),
        new("UserAdministrationService.UnlockAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<UserAdministrationService>().UnlockAsync(actor, x.UserId, CancellationToken.None)),
        new("AccountInviteService.InviteAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<AccountInviteService>().InviteAsync(actor, new NewConsoleInvitee("crafted@example.test", null, ConsoleRoles.Admin), CancellationToken.None)),
        new("AccountInviteService.IssueAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<AccountInviteService>().IssueAsync(actor, x.UserId, CancellationToken.None)),
        new("TwoFactorAdministration.SetRequiredForAdminsAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<TwoFactorAdministration>().SetRequiredForAdminsAsync(actor, true, CancellationToken.None)),
        new("TwoFactorAdministration.ResetAsync", ConsolePermission.ManageUsers, (x, actor) => x.Service<TwoFactorAdministration>().ResetAsync(actor, x.UserId, CancellationToken.None)),
        new("AuditQueryService.QueryAsync", ConsolePermission.ViewAuditTrail, (x, actor) => x.Service<AuditQueryService>().QueryAsync(actor, AuditFilter.None, 0, 10, CancellationToken.None)),
        new("AuditQueryService.ExportCsvAsync", ConsolePermission.ViewAuditTrail, (x, actor) => x.Service<AuditQueryService>().ExportCsvAsync(actor, AuditFilter.None, Stream.Null, CancellationToken.None)),
        new("SigningKeyService.ImportAsync", ConsolePermission.ManageSecrets, (x, actor) => x.Service<SigningKeyService>().ImportAsync(actor, x.TargetId, "-----BEGIN PRIVATE KEY-----", CancellationToken.None)),
        new("SigningKeyService.ImportFileAsync", ConsolePermission.ManageSecrets, (x, actor) => x.Service<SigningKeyService>().ImportFileAsync(actor, x.TargetId, Stream.Null, CancellationToken.None)),
        new("SigningKeyService.GenerateAsync", ConsolePermission.ManageSecrets, (x, actor) => x.Service<SigningKeyService>().GenerateAsync(actor, x.TargetId, CancellationToken.None)),
        new("SigningKeyService.RevealAsync", ConsolePermission.RevealSecret, (x, actor) => x.Service<SigningKeyService>().RevealAsync(actor, x.TargetId, null, CancellationToken.None)),
        new("SigningKeyService.RecordDownloadAsync", ConsolePermission.ManageSecrets, (x, actor) => x.Service<SigningKeyService>().RecordDownloadAsync(actor, x.TargetId, "v1", CancellationToken.None)),
        new("JwksCheckService.CheckAsync", ConsolePermission.VerifyBackup, (x, actor) => x.Service<JwksCheckService>().CheckAsync(actor, x.TargetId, CancellationToken.None)),
        new("ConfigurationEscrowService.ReplaceAsync", ConsolePermission.ManageSecrets, (x, actor) => x.Service<ConfigurationEscrowService>().ReplaceAsync(actor, x.TargetId, new Dictionary<string, string> { ["JWT_ISSUER"] = "crafted" }, CancellationToken.None)),
        new("ConfigurationEscrowService.MergeAsync", ConsolePermission.ManageSecrets, (x, actor) => x.Service<ConfigurationEscrowService>().MergeAsync(actor, x.TargetId, new Dictionary<string, string?> { ["JWT_ISSUER"] = null }, CancellationToken.None)),
        new("ConfigurationEscrowService.RevealAsync", ConsolePermission.RevealSecret, (x, actor) => x.Service<ConfigurationEscrowService>().RevealAsync(actor, x.TargetId, "JWT_ISSUER", CancellationToken.None)),
        new("ScheduleService.EnsureDefaultsAsync", ConsolePermission.ManageSchedules, (x, actor) => x.Service<ScheduleService>().EnsureDefaultsAsync(actor, x.TargetId, CancellationToken.None)),
        new("ScheduleService.UpdateAsync", ConsolePermission.ManageSchedules, (x, actor) => x.Service<ScheduleService>().UpdateAsync(actor, "backup", "* * * * *", "UTC", CancellationToken.None)),
        new("ScheduleService.PauseAsync", ConsolePermission.ManageSchedules, (x, actor) => x.Service<ScheduleService>().PauseAsync(actor, "backup", CancellationToken.None)),
        new("ScheduleService.ResumeAsync", ConsolePermission.ManageSchedules, (x, actor) => x.Service<ScheduleService>().ResumeAsync(actor, "backup", CancellationToken.None)),
        new("ScheduleService.RunNowAsync", ConsolePermission.ManageSchedules, (x, actor) => x.Service<ScheduleService>().RunNowAsync(actor, "backup", CancellationToken.None)),
        new("RetentionService.ApplyAsync", ConsolePermission.ManageRetention, (x, actor) => x.Service<RetentionService>().ApplyAsync(x.TargetId, actor, CancellationToken.None)),
        new("BackupService.PinAsync", ConsolePermission.PinBackup, (x, actor) => x.Service<BackupService>().PinAsync(actor, Guid.NewGuid(), true, CancellationToken.None)),
        new("VerificationService.RequestAsync", ConsolePermission.VerifyBackup, (x, actor) => x.Service<VerificationService>().RequestAsync(actor, Guid.NewGuid(), VerificationTrigger.Manual, CancellationToken.None)),
        new("VerificationService.VerifyAsync", ConsolePermission.VerifyBackup, (x, actor) => x.Service<VerificationService>().VerifyAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("RestoreService.RequestAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<RestoreService>().RequestAsync(actor, new RestoreRequest(Guid.NewGuid(), RestoreMode.NewDatabase, "crafted_restore"), CancellationToken.None)),
        new("RestoreService.RequestAsync", ConsolePermission.RestoreInPlace, (x, actor) => x.Service<RestoreService>().RequestAsync(actor, new RestoreRequest(Guid.NewGuid(), RestoreMode.InPlace, "hellojohn", Confirmation: "hellojohn"), CancellationToken.None)),
        new("RestoreService.RestoreAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<RestoreService>().RestoreAsync(actor, new RestoreRequest(Guid.NewGuid(), RestoreMode.NewDatabase, "crafted_restore"), CancellationToken.None)),
        new("RestoreService.RestoreAsync", ConsolePermission.RestoreInPlace, (x, actor) => x.Service<RestoreService>().RestoreAsync(actor, new RestoreRequest(Guid.NewGuid(), RestoreMode.InPlace, "hellojohn", Confirmation: "hellojohn"), CancellationToken.None)),
        new("VerificationService.CancelAsync", ConsolePermission.VerifyBackup, (x, actor) => x.Service<VerificationService>().CancelAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("RestoreService.CancelAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<RestoreService>().CancelAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("DeploymentService.PreviewAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<DeploymentService>().PreviewAsync(actor, null, new DeploymentDraft("crafted", "postgres://crafted:crafted@127.0.0.1:1/crafted", "crafted", null, null, TargetProvider.SelfManaged), CancellationToken.None)),
        new("DeploymentService.AddAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<DeploymentService>().AddAsync(actor, new DeploymentDraft("crafted", "postgres://crafted:crafted@127.0.0.1:1/crafted", "crafted", null, null, TargetProvider.SelfManaged), CancellationToken.None)),
        new("DeploymentService.UpdateAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<DeploymentService>().UpdateAsync(actor, x.TargetId, new DeploymentDraft("crafted", null, "crafted", null, null, TargetProvider.SelfManaged), CancellationToken.None)),
        new("DeploymentService.RemoveAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<DeploymentService>().RemoveAsync(actor, x.TargetId, "test", CancellationToken.None)),
        new("DeploymentService.AcknowledgeGoneAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<DeploymentService>().AcknowledgeGoneAsync(actor, x.TargetId, "crafted", CancellationToken.None)),
        new("SetService.RequestAsync", ConsolePermission.RunBackup, (x, actor) => x.Service<SetService>().RequestAsync(actor, x.TargetId, BackupTrigger.Manual, CancellationToken.None)),
        new("SetService.RetryFailedAsync", ConsolePermission.RunBackup, (x, actor) => x.Service<SetService>().RetryFailedAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("SetService.CancelAsync", ConsolePermission.CancelBackup, (x, actor) => x.Service<SetService>().CancelAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("SetService.PinAsync", ConsolePermission.PinBackup, (x, actor) => x.Service<SetService>().PinAsync(actor, Guid.NewGuid(), true, CancellationToken.None)),
        new("SetVerificationService.RequestAsync", ConsolePermission.VerifyBackup, (x, actor) => x.Service<SetVerificationService>().RequestAsync(actor, Guid.NewGuid(), VerificationTrigger.Manual, CancellationToken.None)),
        new("SetRestoreService.RestoreAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<SetRestoreService>().RestoreAsync(actor, Guid.NewGuid(), "crafted_", null, CancellationToken.None)),
        new("SetRolesService.DownloadAsync", ConsolePermission.DownloadBackup, (x, actor) => x.Service<SetRolesService>().DownloadAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("SetRolesService.PlanAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<SetRolesService>().PlanAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("SetRolesService.ApplyAsync", ConsolePermission.RestoreInPlace, (x, actor) => x.Service<SetRolesService>().ApplyAsync(actor, Guid.NewGuid(), ["crafted"], "test", CancellationToken.None)),
        new("SetDeletionService.DeleteAsync", ConsolePermission.DeleteBackup, (x, actor) => x.Service<SetDeletionService>().DeleteAsync(actor, Guid.NewGuid(), "hellojohn_set_crafted", CancellationToken.None)),
        new("ScheduleService.RemoveAllAsync", ConsolePermission.ManageSchedules, (x, actor) => x.Service<ScheduleService>().RemoveAllAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("TargetService.SetConnectionAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<TargetService>().SetConnectionAsync(actor, x.TargetId, "postgres://crafted:crafted@127.0.0.1:1/crafted", CancellationToken.None)),
        new("CatalogRebuildService.RebuildAsync", ConsolePermission.ManageStorage, (x, actor) => x.Service<CatalogRebuildService>().RebuildAsync(actor, CancellationToken.None)),
        new("RecoveryService.StartAsync", ConsolePermission.RunRecoveryWizard, (x, actor) => x.Service<RecoveryService>().StartAsync(actor, new RecoveryStartRequest(RecoveryScenario.DatabaseHostFailure, x.TargetId), CancellationToken.None)),
        new("RecoveryService.AdvanceAsync", ConsolePermission.RunRecoveryWizard, (x, actor) => x.Service<RecoveryService>().AdvanceAsync(actor, Guid.NewGuid(), "new-server", null, CancellationToken.None)),
        new("RecoveryService.MarkDoneAsync", ConsolePermission.RunRecoveryWizard, (x, actor) => x.Service<RecoveryService>().MarkDoneAsync(actor, Guid.NewGuid(), "deploy-url", CancellationToken.None)),
        new("RecoveryService.AbandonAsync", ConsolePermission.RunRecoveryWizard, (x, actor) => x.Service<RecoveryService>().AbandonAsync(actor, Guid.NewGuid(), "crafted", CancellationToken.None)),
        new("NotificationChannelService.ListAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<NotificationChannelService>().ListAsync(actor, CancellationToken.None)),
        new("NotificationChannelService.CreateAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<NotificationChannelService>().CreateAsync(actor, new ChannelDraft("crafted", NotificationChannelKind.Slack, true, [NotificationEventKind.BackupFailed]) { Url = "https://hooks.example.test/crafted" }, CancellationToken.None)),
        new("NotificationChannelService.UpdateAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<NotificationChannelService>().UpdateAsync(actor, Guid.NewGuid(), new ChannelDraft("crafted", NotificationChannelKind.Slack, true, []), CancellationToken.None)),
        new("NotificationChannelService.SetEnabledAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<NotificationChannelService>().SetEnabledAsync(actor, Guid.NewGuid(), false, CancellationToken.None)),
        new("NotificationChannelService.RotateSigningSecretAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<NotificationChannelService>().RotateSigningSecretAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("NotificationChannelService.DeleteAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<NotificationChannelService>().DeleteAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("NotificationChannelService.SendTestAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<NotificationChannelService>().SendTestAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("NotificationChannelService.DeliveriesAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<NotificationChannelService>().DeliveriesAsync(actor, null, 10, CancellationToken.None)),
        new("ApiTokenService.CreateAsync", ConsolePermission.ManageOwnApiTokens, (x, actor) => x.Service<ApiTokenService>().CreateAsync(actor, "crafted", DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None)),
        new("ApiTokenService.ListMineAsync", ConsolePermission.ManageOwnApiTokens, (x, actor) => x.Service<ApiTokenService>().ListMineAsync(actor, CancellationToken.None)),
        new("ApiTokenService.RevokeAsync", ConsolePermission.ManageOwnApiTokens, (x, actor) => x.Service<ApiTokenService>().RevokeAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("BackupDeletionService.DeleteAsync", ConsolePermission.DeleteBackup, (x, actor) => x.Service<BackupDeletionService>().DeleteAsync(actor, Guid.NewGuid(), "crafted.dump", CancellationToken.None)),
        new("ConsoleSettingsService.SaveAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<HelloJohn.Console.Core.Settings.ConsoleSettingsService>().SaveAsync(actor,
            new Dictionary<string, string?> { [HelloJohn.Console.Core.Settings.EditableSetting.RetentionDaily] = "1" }, CancellationToken.None)),
        new("BackupDownloadService.OpenAsync", ConsolePermission.DownloadBackup, (x, actor) => x.Service<BackupDownloadService>().OpenAsync(actor, Guid.NewGuid(), "crafted", CancellationToken.None)),
        new("RecoveryService.RevealNewDatabaseUrlAsync", ConsolePermission.RunRecoveryWizard, (x, actor) => x.Service<RecoveryService>().RevealNewDatabaseUrlAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("PitrService.TakeBaseBackupAsync", ConsolePermission.RunBackup, (x, actor) => x.Service<HelloJohn.Console.Core.Pitr.PitrService>().TakeBaseBackupAsync(actor, x.TargetId, CancellationToken.None)),
        new("PitrService.SetPausedAsync", ConsolePermission.ManageSettings, (x, actor) => x.Service<HelloJohn.Console.Core.Pitr.PitrService>().SetPausedAsync(actor, x.TargetId, true, CancellationToken.None)),
        new("PitrService.CancelBaseBackupAsync", ConsolePermission.CancelBackup, (x, actor) => x.Service<HelloJohn.Console.Core.Pitr.PitrService>().CancelBaseBackupAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("PitrService.CancelRestoreAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<HelloJohn.Console.Core.Pitr.PitrService>().CancelRestoreAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("PitrService.RequestRestoreAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<HelloJohn.Console.Core.Pitr.PitrService>().RequestRestoreAsync(actor,
            new HelloJohn.Console.Core.Pitr.PitrRestoreRequest(x.TargetId, "2024-01-20 10:30:00", "UTC", HelloJohn.Console.Core.Pitr.PitrRestoreMode.Disaster, "/var/tmp/hjc-never", null), CancellationToken.None)),
        new("RestoredServers.StopAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<HelloJohn.Console.Core.Pitr.RestoredServers>().StopAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("RestoredServers.StartAsync", ConsolePermission.RestoreToNewDatabase, (x, actor) => x.Service<HelloJohn.Console.Core.Pitr.RestoredServers>().StartAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("RestoredServers.RemoveAsync", ConsolePermission.RemoveRestoredServer, (x, actor) => x.Service<HelloJohn.Console.Core.Pitr.RestoredServers>().RemoveAsync(actor, Guid.NewGuid(), "hjc-never", CancellationToken.None)),
    ];

    /// <summary>Methods that take an actor as the subject of what they do, not as the caller to check.</summary>
    private static readonly Dictionary<string, string> NotGuarded = new()
    {
        ["IAuditLog.RecordAsync"] = "writes down who did something; the caller has already been checked",
        ["ApiTokenCheck.set_Actor"] = "the outcome of checking a presented token: whose account it acts for, not a call",
        ["FirstAdminSetup.CreateFirstAdminAsync"] = "runs before anyone can sign in; guarded by 'no administrator exists' under a lock (SetupTests)",
        ["CallerGate.DemandAsync"] = "is the check every row goes through",
        ["CallerGate.CheckAsync"] = "is the check every row goes through, without its audit record",
        ["CallerCheck.Allowed"] = "the check's result",
        ["CallerCheck.set_Current"] = "the check's result",
    };

    [Fact]
    public void EveryPublicCoreMethodTakingAnActor_HasARowInThePermissionTable()
    {
        var methods = typeof(Actor).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => m.GetParameters().Any(p => p.ParameterType == typeof(Actor)))
                .Select(m => $"{t.Name}.{m.Name}"))
            .Where(m => !m.StartsWith("Actor.", StringComparison.Ordinal) && !m.StartsWith("PermissionDeniedException.", StringComparison.Ordinal))
            .Distinct()
            .ToList();

        Assert.Contains("BackupService.RequestAsync", methods);
        var missing = methods.Where(m => Table.All(r => r.Method != m) && !NotGuarded.ContainsKey(m)).ToList();
        Assert.True(missing.Count == 0, "Core methods taking an Actor without a row in the permission table (demand a permission first, then add a row): " + string.Join(", ", missing));
        var stale = Table.Select(r => r.Method).Where(m => !methods.Contains(m)).ToList();
        Assert.True(stale.Count == 0, "Rows for methods that no longer exist: " + string.Join(", ", stale));
    }

    [Fact]
    public async Task EveryRow_CalledByARoleWithoutThePermission_ThrowsPermissionDeniedAndChangesNothing()
    {
        var admin = await app.AdminAsync();
        var account = await app.CreateAccountAsync(ConsoleRoles.Viewer, "target");
        var subjects = new Subjects(app, account.Id, (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id);
        var callers = new List<Actor> { new("no-such-account", "no-role@example.test", []) };
        foreach (var role in ConsoleRoles.All)
        {
            callers.Add((await app.CreateAccountAsync(role)).Actor);
        }

        var users = await app.Service<UserAdministrationService>().ListAsync(admin.Actor, CancellationToken.None);
        var runsBefore = await RunCountsAsync();
        var checkedCalls = 0;

        // The same refusal for a target that does not exist: a caller without the permission learns nothing, not even
        // which targets there are.
        var unknownTarget = subjects with { TargetId = Guid.NewGuid() };
        foreach (var row in Table)
        {
            foreach (var caller in callers.Where(c => !c.Has(row.Needs)))
            {
                foreach (var about in new[] { subjects, unknownTarget })
                {
                    var e = await Assert.ThrowsAsync<PermissionDeniedException>(() => row.Call(about, caller));
                    Assert.Equal(row.Needs, e.Permission);
                    checkedCalls++;
                }
            }
        }

        // Viewers and callers without a role were refused every change; Operators every Admin-only one.
        Assert.True(checkedCalls >= 150, $"Only {checkedCalls} refusals were checked.");
        Assert.Equal(users, await app.Service<UserAdministrationService>().ListAsync(admin.Actor, CancellationToken.None));
        Assert.Equal(runsBefore, await RunCountsAsync());
    }

    /// <summary>How an account loses its power after the page acting for it was opened.</summary>
    public enum Revocation { Disabled, DemotedToViewer, PasswordReset }

    [Theory]
    [InlineData(Revocation.Disabled, "was disabled by an administrator")]
    [InlineData(Revocation.DemotedToViewer, "now has Viewer")]
    [InlineData(Revocation.PasswordReset, "is no longer valid")]
    public async Task EveryRow_CallerRevokedAfterTheirPageOpened_IsRefusedAuditedAndNothingRuns(Revocation revocation, string said)
    {
        var admin = await app.AdminAsync();
        var accounts = app.Service<UserAdministrationService>();
        var subject = await app.CreateAccountAsync(ConsoleRoles.Viewer, "target");
        var subjects = new Subjects(app, subject.Id, (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id);
        // The page opened while each account still had its role: its actor carries that role and the stamp of then.
        var callers = new Dictionary<string, Actor>();
        foreach (var role in new[] { ConsoleRoles.Admin, ConsoleRoles.Operator })
        {
            var account = await app.CreateAccountAsync(role, "revoked");
            callers[role] = account.Actor with { SecurityStamp = await StampOfAsync(account.Id) };
            switch (revocation)
            {
                case Revocation.Disabled:
                    await accounts.DisableAsync(admin.Actor, account.Id, CancellationToken.None);
                    break;
                case Revocation.DemotedToViewer:
                    await accounts.ChangeRoleAsync(admin.Actor, account.Id, ConsoleRoles.Viewer, CancellationToken.None);
                    break;
                case Revocation.PasswordReset:
                    await accounts.ResetPasswordAsync(admin.Actor, account.Id, $"Pw-{Guid.NewGuid():N}"[..20] + "aA1!", CancellationToken.None);
                    break;
            }
        }

        var users = await accounts.ListAsync(admin.Actor, CancellationToken.None);
        var runsBefore = await RunCountsAsync();
        var lastAudit = await app.LastAuditIdAsync();
        var refused = 0;
        foreach (var row in Table)
        {
            // The least role that held the permission when the page opened.
            var caller = callers[ConsolePermissions.RoleHas(ConsoleRoles.Operator, row.Needs) ? ConsoleRoles.Operator : ConsoleRoles.Admin];
            var e = await Record.ExceptionAsync(() => row.Call(subjects, caller)) as PermissionDeniedException
                ?? throw new Xunit.Sdk.XunitException($"{row.Method} was not refused to a {revocation} caller.");
            Assert.Equal(row.Needs, e.Permission);
            // The audit rows stay open to a Viewer: a demoted account is refused there because its sign-in is stale.
            var expected = revocation == Revocation.DemotedToViewer && ConsolePermissions.RoleHas(ConsoleRoles.Viewer, row.Needs) ? "is no longer valid" : said;
            Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"{row.Method}: {e.Message}");
            Assert.Contains("Nothing was done", e.Message, StringComparison.Ordinal);
            refused++;
        }

        var denied = (await app.AuditSinceAsync(lastAudit)).Where(a => callers.Values.Any(c => c.UserId == a.UserId)).ToList();
        Assert.Equal(refused, denied.Count);
        Assert.All(denied, a => Assert.Equal(AuditOutcome.Denied, a.Outcome));
        Assert.Equal(users, await accounts.ListAsync(admin.Actor, CancellationToken.None));
        Assert.Equal(runsBefore, await RunCountsAsync());
    }

    [Fact]
    public async Task Gate_PromotedCaller_ActsWithTheRoleTheAccountHasNow()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        await app.Service<UserAdministrationService>().ChangeRoleAsync(admin.Actor, viewer.Id, ConsoleRoles.Admin, CancellationToken.None);

        // A job acting for the account (no sign-in stamp) sees the new role; so does the next sign-in.
        var current = await app.Service<CallerGate>().DemandAsync(viewer.Actor, ConsolePermission.ManageUsers, AuditActions.UsersRead, "users", CancellationToken.None);

        Assert.Equal([ConsoleRoles.Admin], current.Roles);
    }

    private async Task<string> StampOfAsync(string userId)
    {
        await using var db = await app.DbAsync();
        return (await db.Users.SingleAsync(u => u.Id == userId)).SecurityStamp!;
    }

    /// <summary>Backups, verifications, restores and recovery runs in the catalog: a refused call starts none.</summary>
    private async Task<(int, int, int, int)> RunCountsAsync()
    {
        await using var db = await app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return (await db.Backups.CountAsync(), await db.Set<VerificationRun>().CountAsync(), await db.Set<RestoreRun>().CountAsync(), await db.Set<RecoveryRun>().CountAsync());
    }

    [Theory]
    [InlineData(ConsoleRoles.Viewer, ConsolePermission.ViewAuditTrail, true)]
    [InlineData(ConsoleRoles.Viewer, ConsolePermission.RunBackup, false)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RunBackup, true)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RestoreToNewDatabase, true)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RestoreInPlace, false)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.ManageUsers, false)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.ViewJobsDashboard, false)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RevealSecret, false)]
    [InlineData(ConsoleRoles.Admin, ConsolePermission.RevealSecret, true)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RemoveRestoredServer, false)]
    [InlineData(ConsoleRoles.Admin, ConsolePermission.RemoveRestoredServer, true)]
    [InlineData(ConsoleRoles.Viewer, ConsolePermission.RemoveRestoredServer, false)]
    [InlineData("Nobody", ConsolePermission.ViewHistory, false)]
    public void RoleHas_AsTheIssueSpecifies(string role, ConsolePermission permission, bool expected) =>
        Assert.Equal(expected, ConsolePermissions.RoleHas(role, permission));
}
