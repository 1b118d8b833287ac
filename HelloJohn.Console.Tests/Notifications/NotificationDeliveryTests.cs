using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Restores;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Notifications;

/// <summary>Notifications on the real console: a real SMTP server, chat and webhook receivers on loopback, real backups.
/// One attempt times out after two seconds and a message gets two attempts, so a dead channel is given up quickly.</summary>
[Trait("Capability", "Notifications")]
[Collection(PostgresCollection.Name)]
public sealed partial class NotificationDeliveryTests(NotificationDeliveryTests.App app, SmtpServerFixture smtp)
    : IClassFixture<NotificationDeliveryTests.App>, IClassFixture<SmtpServerFixture>
{
    public const string ScrapeToken = "scrape-token-for-the-notification-tests";
    public const string ConsoleUrl = "https://console.example.test";

    public sealed class App : ConsoleAppFactory
    {
        public App(PostgresClusterFixture postgres) : base(postgres)
        {
            Settings["Notifications:Timeout"] = "00:00:02";
            Settings["Notifications:MaxAttempts"] = "2";
            Settings["Notifications:RetryDelay"] = "00:00:00";
            Settings["HELLOJOHN_CONSOLE_URL"] = ConsoleUrl;
            Settings["Metrics:ScrapeToken"] = ScrapeToken;
        }
    }

    private static readonly Actor Admin = new(TestAccounts.AdminId, "admin@example.test", [ConsoleRoles.Admin]);

    private NotificationChannelService Channels => app.Service<NotificationChannelService>();

    private Task<ChannelCreated> AddAsync(string name, NotificationChannelKind kind, string? url, params NotificationEventKind[] events) =>
        Channels.CreateAsync(Admin, new ChannelDraft($"{name}-{Guid.NewGuid():N}"[..20], kind, true, events) { Url = url }, CancellationToken.None);

    [Fact]
    public async Task FailedBackup_TellsEverySubscribedChannelExactlyOnce_AndNoOtherChannel()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var slack = await AddAsync("slack", NotificationChannelKind.Slack, receiver.Url($"/slack/T0/{tag}-slack-secret"), NotificationEventKind.BackupFailed);
        var teams = await AddAsync("teams", NotificationChannelKind.Teams, receiver.Url($"/teams/{tag}-teams-secret"), NotificationEventKind.BackupFailed);
        var discord = await AddAsync("discord", NotificationChannelKind.Discord, receiver.Url($"/discord/{tag}-discord-secret"), NotificationEventKind.BackupFailed);
        var hook = await Channels.CreateAsync(Admin, new ChannelDraft($"hook-{tag}", NotificationChannelKind.Webhook, true, [NotificationEventKind.BackupFailed])
        {
            Url = receiver.Url($"/hook/{tag}"),
            Headers = new Dictionary<string, string> { ["Authorization"] = $"Bearer {tag}-receiver-token" },
        }, CancellationToken.None);
        var mail = await Channels.CreateAsync(Admin, new ChannelDraft($"mail-{tag}", NotificationChannelKind.Email, true, [NotificationEventKind.BackupFailed])
        {
            SmtpHost = "127.0.0.1",
            SmtpPort = smtp.Port,
            SmtpSecurity = SmtpSecurity.StartTls,
            SmtpUserName = SmtpServerFixture.User,
            SmtpPassword = SmtpServerFixture.Password,
            From = "console@example.test",
            To = "oncall@example.test, backup-owner@example.test",
            TrustedCertificateSha256 = smtp.CertificateSha256,
        }, CancellationToken.None);
        var other = await AddAsync("successes", NotificationChannelKind.Slack, receiver.Url($"/other/{tag}"), NotificationEventKind.BackupSucceeded);
        var off = await AddAsync("off", NotificationChannelKind.Slack, receiver.Url($"/off/{tag}"), NotificationEventKind.BackupFailed);
        await Channels.SetEnabledAsync(Admin, off.Channel.Id, false, CancellationToken.None);
        Assert.NotNull(hook.SigningSecret);
        Assert.Null(slack.SigningSecret);

        var unreachable = await app.Service<TargetService>().AddStoredAsync($"unreachable-{tag}", "postgres://hj:pw@127.0.0.1:1/hellojohn", null, TargetProvider.SelfManaged, CancellationToken.None);
        await Assert.ThrowsAsync<BackupFailedException>(() => app.Service<BackupService>().RunNowAsync(Actor.System, unreachable, BackupTrigger.Scheduled, CancellationToken.None));

        Guid failedId;
        await using (var backups = await app.DbAsync())
        {
            failedId = await backups.Backups.Where(b => b.TargetId == unreachable).Select(b => b.Id).SingleAsync();
        }

        // Each message links to the failed backup itself: the Backups page showing that one backup.
        var link = $"{ConsoleUrl}/backups?backup={failedId}";
        var subscribed = new[] { slack.Channel.Id, teams.Channel.Id, discord.Channel.Id, hook.Channel.Id, mail.Channel.Id };
        var log = await WaitForDeliveriesAsync(d => subscribed.Contains(d.ChannelId) && d.Title.Contains(tag, StringComparison.Ordinal), subscribed.Length);
        Assert.All(log, d => Assert.Equal(DeliveryStatus.Delivered, d.Status));
        Assert.All(log, d => Assert.Equal("backup.failed", d.EventCode));
        Assert.Equal(subscribed.Order(), log.Select(d => d.ChannelId).Order());

        using (var slackBody = JsonDocument.Parse(Assert.Single(receiver.At($"/slack/T0/{tag}-slack-secret")).Body))
        {
            var text = slackBody.RootElement.GetProperty("text").GetString();
            Assert.Contains($"*Backup of unreachable-{tag} failed*", text);
            Assert.Contains($"<{link}|Open in the console>", text);
        }

        Assert.Contains("AdaptiveCard", Assert.Single(receiver.At($"/teams/{tag}-teams-secret")).Text);
        using (var discordBody = JsonDocument.Parse(Assert.Single(receiver.At($"/discord/{tag}-discord-secret")).Body))
        {
            Assert.Contains("failed", discordBody.RootElement.GetProperty("embeds")[0].GetProperty("title").GetString());
            Assert.Empty(discordBody.RootElement.GetProperty("allowed_mentions").GetProperty("parse").EnumerateArray());
        }

        var posted = Assert.Single(receiver.At($"/hook/{tag}"));
        Assert.True(posted.SignatureValid(hook.SigningSecret!), "The webhook's signature does not verify with the secret shown at creation.");
        Assert.False(posted.SignatureValid("whsec_wrong"));
        Assert.Equal($"Bearer {tag}-receiver-token", posted.Headers["Authorization"]);
        Assert.Equal("backup.failed", posted.Headers["X-HelloJohn-Event"]);
        using (var body = JsonDocument.Parse(posted.Body))
        {
            Assert.Equal("backup.failed", body.RootElement.GetProperty("event").GetString());
            Assert.Equal(link, body.RootElement.GetProperty("url").GetString());
            Assert.Contains("Could not reach", body.RootElement.GetProperty("text").GetString());
            Assert.Contains("untouched", body.RootElement.GetProperty("notTouched").GetString());
        }

        var messages = (await smtp.MessagesAsync()).Where(m => (m.Subject ?? "").Contains(tag, StringComparison.Ordinal)).ToList();
        var message = Assert.Single(messages);
        Assert.Equal($"[HelloJohn Console] Backup of unreachable-{tag} failed", message.Subject);
        Assert.Equal(["oncall@example.test", "backup-owner@example.test"], message.To.Mailboxes.Select(m => m.Address));
        Assert.Contains($"Open in the console: {link}", message.TextBody);

        Assert.Empty(receiver.At($"/other/{tag}"));
        Assert.Empty(receiver.At($"/off/{tag}"));

        // What was stored and said never holds a secret: not the chat URLs' paths, the SMTP password or the signing secret.
        var listed = JsonSerializer.Serialize(await Channels.ListAsync(Admin, CancellationToken.None));
        await using var db = await app.DbAsync();
        var audit = string.Join("\n", await db.AuditEvents.AsNoTracking().Select(e => e.Target + " " + e.Detail).ToListAsync());
        var stored = string.Join("\n", await db.Set<NotificationChannel>().AsNoTracking().Select(c => c.Settings + c.SecretHint + c.ProtectedSecrets).ToListAsync());
        foreach (var secret in new[] { $"{tag}-slack-secret", $"{tag}-teams-secret", $"{tag}-receiver-token", SmtpServerFixture.Password, hook.SigningSecret! })
        {
            Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, app.Logs.AllText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RunLeftByADeadConsoleInstance_IsSweptAsFailed_AndTheFailureIsDeliveredOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var hook = await AddAsync("swept", NotificationChannelKind.Webhook, receiver.Url($"/swept/{tag}"), NotificationEventKind.BackupFailed);
        var target = await app.Service<TargetService>().AddStoredAsync($"swept-{tag}", "postgres://hj:pw@127.0.0.1:1/hellojohn", null, TargetProvider.SelfManaged, CancellationToken.None);
        var dead = await app.AddDeadInstanceAsync();
        var run = RunFixtures.Run(RunKind.Backup, target, owner: dead, phase: BackupPhase.Dumping.ToString());
        await using (var db = await app.DbAsync())
        {
            db.Add(run);
            db.Backups.Add(new BackupRecord
            {
                Id = run.Id,
                TargetId = target,
                FileName = $"hellojohn_swept_{tag}.dump.zst",
                Status = BackupStatus.Running,
                CreatedAt = DateTimeOffset.UtcNow,
                StartedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        Assert.True(await app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None) >= 1);

        var delivered = Assert.Single(await WaitForDeliveriesAsync(d => d.ChannelId == hook.Channel.Id, 1));
        Assert.Equal(DeliveryStatus.Delivered, delivered.Status);
        var body = Assert.Single(receiver.Bodies($"/swept/{tag}"));
        Assert.Equal("backup.failed", body.GetProperty("event").GetString());
        Assert.Equal($"Backup of swept-{tag} failed", body.GetProperty("title").GetString());
        Assert.Contains("gone-host", body.GetProperty("text").GetString());
        Assert.Contains("stopped before it finished", body.GetProperty("text").GetString());
        Assert.Equal($"{ConsoleUrl}/backups?backup={run.Id}", body.GetProperty("url").GetString());
    }

    [Fact]
    public async Task DeadChannel_IsRetriedAndLogged_WhileTheBackupFinishesWithoutIt_AndMetricsShowTheBackup()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var dead = await AddAsync("dead", NotificationChannelKind.Webhook, receiver.Url("/hang/dead"), NotificationEventKind.BackupSucceeded);
        var target = (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!;

        var backupId = await app.Service<BackupService>().RunNowAsync(Actor.System, target.Id, BackupTrigger.Manual, CancellationToken.None);
        var backup = (await app.Service<BackupService>().GetAsync(backupId, CancellationToken.None))!.Backup;
        Assert.Equal(BackupStatus.Succeeded, backup.Status);

        // The backup has returned; only now does the receiver hold the console's request, unanswered.
        await WaitUntilAsync(() => receiver.Hanging > 0, "the dead receiver never got the message");
        var log = (await WaitForDeliveriesAsync(d => d.ChannelId == dead.Channel.Id && d.Status == DeliveryStatus.Failed, 1)).Single();
        Assert.Equal(2, log.Attempts);
        Assert.Equal([1, 2], log.AttemptLog.Select(a => a.Number));
        Assert.All(log.AttemptLog, a => Assert.False(a.Succeeded));
        Assert.All(log.AttemptLog, a => Assert.Contains("No answer within 2 s", a.Detail));
        Assert.All(log.AttemptLog, a => Assert.True(a.StartedAt >= backup.FinishedAt, "An attempt started before the backup had finished."));
        Assert.Equal(2, receiver.At("/hang/dead").Count);

        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/metrics")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ScrapeToken);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal((double)backup.SizeBytes!.Value, Sample(text, "hellojohn_console_backup_last_success_size_bytes", "test"));
        Assert.Equal(backup.FinishedAt!.Value.ToUnixTimeMilliseconds() / 1000.0, Sample(text, "hellojohn_console_backup_last_success_timestamp_seconds", "test"), 3);
        Assert.Equal(backup.Duration!.Value.TotalSeconds, Sample(text, "hellojohn_console_backup_last_success_duration_seconds", "test"), 3);
        Assert.InRange(Sample(text, "hellojohn_console_rpo_seconds", "test"), 0, 600);
        Assert.Contains("# TYPE hellojohn_console_failures_total counter", text);
        Assert.True(Sample(text, "hellojohn_console_notification_failures_total", dead.Channel.Name, "channel") >= 1);
        Assert.Matches(@"hellojohn_console_runs_active\{[^}]*kind=""backup""[^}]*\} ", text);
    }

    [Fact]
    public async Task MetricsSnapshot_CountsFailedBaseBackupsAndPointInTimeRestores_AndListsTheirActiveStates()
    {
        var target = (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!;
        var factory = app.Service<IDbContextFactory<HelloJohn.Console.Core.Data.ConsoleDbContext>>();
        int Failed(HelloJohn.Console.Core.Metrics.MetricsSnapshot s, string kind) => (int)s.Failures[(target.Name, kind)];

        HelloJohn.Console.Core.Metrics.MetricsSnapshot before;
        await using (var db = await factory.CreateDbContextAsync())
        {
            before = HelloJohn.Console.Core.Metrics.MetricsSnapshot.Load(db, DateTimeOffset.UtcNow);
            var at = DateTimeOffset.UtcNow.AddMinutes(-5);
            db.Add(RunFixtures.Ended(RunKind.BaseBackup, target.Id, Guid.NewGuid(), RunStatus.Failed, at, at, at.AddMinutes(1), error: "pg_basebackup failed"));
            db.Add(RunFixtures.Ended(RunKind.PitrRestore, target.Id, Guid.NewGuid(), RunStatus.Failed, at, at, at.AddMinutes(1), error: "no base backup before the target time"));
            db.Add(RunFixtures.Ended(RunKind.PitrRestore, target.Id, Guid.NewGuid(), RunStatus.Failed, at, at, at.AddMinutes(1), error: "the directory is not empty"));
            await db.SaveChangesAsync();
        }

        await using (var db = await factory.CreateDbContextAsync())
        {
            var after = HelloJohn.Console.Core.Metrics.MetricsSnapshot.Load(db, DateTimeOffset.UtcNow);
            Assert.Equal(Failed(before, "base_backup") + 1, Failed(after, "base_backup"));
            Assert.Equal(Failed(before, "pitr_restore") + 2, Failed(after, "pitr_restore"));
            Assert.Equal(Failed(before, "restore"), Failed(after, "restore"));
            foreach (var kind in new[] { "base_backup", "pitr_restore" })
            {
                Assert.Contains((kind, "queued"), after.ActiveRuns.Keys);
                Assert.Contains((kind, "running"), after.ActiveRuns.Keys);
            }
        }
    }

    [Fact]
    public async Task StandingConditions_RpoKeyMismatchAndLastVerifiedBackup_AreSentOnceWithinTheirWindow()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var watcher = await AddAsync("watch", NotificationChannelKind.Slack, receiver.Url($"/watch/{tag}"),
            NotificationEventKind.RpoAboveThreshold, NotificationEventKind.SigningKeyMismatch, NotificationEventKind.RetentionLastVerifiedAtRisk);
        var stale = Guid.NewGuid();
        await using (var db = await app.DbAsync())
        {
            db.Targets.Add(new BackupTarget { Id = stale, Name = $"stale-{tag}", ConnectionSource = TargetConnectionSource.Unset, CreatedAt = DateTimeOffset.UtcNow.AddHours(-30) });
            await db.SaveChangesAsync();
        }

        var conditions = app.Service<ConditionNotices>();
        await conditions.CheckRpoAsync(CancellationToken.None);
        await conditions.CheckRpoAsync(CancellationToken.None);
        await conditions.JwksCheckedAsync(new Core.Secrets.Jwks.JwksCheck { Id = Guid.NewGuid(), TargetId = stale, Outcome = Core.Secrets.Jwks.JwksCheckOutcome.Mismatch, Detail = "HelloJohn publishes another key.", RequestedBy = "system" });
        await conditions.JwksCheckedAsync(new Core.Secrets.Jwks.JwksCheck { Id = Guid.NewGuid(), TargetId = stale, Outcome = Core.Secrets.Jwks.JwksCheckOutcome.Match, Detail = "It matches.", RequestedBy = "system" });
        var held = new Core.Retention.RetentionDecision(Guid.NewGuid(), DateTimeOffset.UtcNow.AddDays(-40), DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-40)),
            Core.Retention.RetentionVerdict.Keep, Core.Retention.RetentionReasons.NewestVerified, "Kept: newest verified") { FileName = $"hellojohn_{tag}.dump.zst" };
        var kept = held with { BackupId = Guid.NewGuid(), Reasons = Core.Retention.RetentionReasons.NewestVerified | Core.Retention.RetentionReasons.Daily };
        var plan = new Core.Retention.RetentionPlan(DateTimeOffset.UtcNow, "Etc/UTC", new Core.Retention.RetentionPolicy(), false, [held], [], []);
        await conditions.RetentionAppliedAsync(new Core.Retention.RetentionRunResult(stale, true, plan, 0, 0, 0, []), $"stale-{tag}");
        await conditions.RetentionAppliedAsync(new Core.Retention.RetentionRunResult(stale, true, plan, 0, 0, 0, []), $"stale-{tag}");
        await conditions.RetentionAppliedAsync(new Core.Retention.RetentionRunResult(stale, true, plan with { Decisions = [kept] }, 0, 0, 0, []), $"stale-{tag}");

        var log = await WaitForDeliveriesAsync(d => d.ChannelId == watcher.Channel.Id, 3);
        Assert.Equal(["retention.last_verified_at_risk", "rpo.above_threshold", "signingkey.jwks_mismatch"], log.Select(d => d.EventCode).Order());
        Assert.Contains(log, d => d.Title.StartsWith($"RPO of stale-{tag} is 1 d 6 h", StringComparison.Ordinal));
        // Raised twice each, recorded once each: the repeats fell inside Notifications__RepeatAfter.
        await using var events = await app.DbAsync();
        Assert.Equal(3, await events.Set<NotificationEventRecord>().CountAsync(e => e.TargetId == stale));
        Assert.Equal(3, receiver.At($"/watch/{tag}").Count);
    }

    private static double Sample(string exposition, string metric, string labelValue, string label = "target")
    {
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains($"{label}=\"{labelValue}\"", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"{metric}{{{label}=\"{labelValue}\"}} is not in /metrics:\n{exposition}");
        return double.Parse(SampleValue().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\}\s+(\S+)")]
    private static partial Regex SampleValue();

    private Task<IReadOnlyList<DeliveryLogEntry>> WaitForDeliveriesAsync(Func<DeliveryLogEntry, bool> which, int count) => DeliveryWait.ForAsync(Channels, which, count);

    private static Task WaitUntilAsync(Func<bool> done, string what) => DeliveryWait.UntilAsync(done, what);
}
