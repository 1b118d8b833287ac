using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Notifications.Senders;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>Administers notification channels: add, change, enable or disable, remove, send a test, read the delivery
/// log. Every call needs <see cref="ConsolePermission.ManageSettings"/> (Admin); every change is audited without its
/// secrets, which are stored encrypted and never returned.</summary>
public sealed class NotificationChannelService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IDataProtectionProvider protection,
    NotificationDispatcher dispatcher,
    IAuditLog audit,
    TimeProvider time)
{
    private readonly IDataProtector _protector = protection.CreateProtector(NotificationDispatcher.ProtectorPurpose);

    public async Task<IReadOnlyList<ChannelSummary>> ListAsync(Actor actor, CancellationToken ct)
    {
        await DemandAsync(actor, null, null, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var channels = await db.Set<NotificationChannel>().AsNoTracking().OrderBy(c => c.Name).ToListAsync(ct);
        var last = await db.Set<NotificationDelivery>().AsNoTracking()
            .GroupBy(d => d.ChannelId)
            .Select(g => g.OrderByDescending(d => d.CreatedAt).Select(d => new { d.ChannelId, d.Status, At = d.FinishedAt ?? d.CreatedAt }).First())
            .ToListAsync(ct);
        return [.. channels.Select(c =>
        {
            var l = last.FirstOrDefault(x => x.ChannelId == c.Id);
            return Summary(c, l?.Status, l?.At);
        })];
    }

    /// <summary>Adds a channel. A webhook gets a signing secret, returned this once.</summary>
    public async Task<ChannelCreated> CreateAsync(Actor actor, ChannelDraft draft, CancellationToken ct)
    {
        await DemandAsync(actor, AuditActions.NotificationChannelCreated, draft.Name, ct);
        var name = draft.Name?.Trim() ?? "";
        try
        {
            ChannelDraftValidation.Check(draft, creating: true, stored: null);
            var signing = draft.Kind == NotificationChannelKind.Webhook ? SignedWebhookSender.NewSecret() : null;
            var now = time.GetUtcNow();
            var channel = new NotificationChannel { Id = Guid.NewGuid(), Name = name, CreatedAt = now, CreatedBy = actor.Name };
            Apply(channel, draft, new ChannelSecrets { SigningSecret = signing }, actor, now);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            db.Add(channel);
            await SaveUniqueAsync(db, name, ct);
            await audit.RecordAsync(actor, AuditActions.NotificationChannelCreated, name, AuditOutcome.Succeeded, Describe(channel), CancellationToken.None);
            return new ChannelCreated(Summary(channel, null, null), signing);
        }
        catch (ChannelRefusedException e)
        {
            await audit.RecordAsync(actor, AuditActions.NotificationChannelCreated, name, AuditOutcome.Failed, e.Message, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Changes a channel. Secrets left null in <paramref name="draft"/> keep their stored values.</summary>
    public Task<ChannelSummary> UpdateAsync(Actor actor, Guid channelId, ChannelDraft draft, CancellationToken ct) =>
        ChangeAsync(actor, AuditActions.NotificationChannelChanged, channelId, ct, (channel, secrets) =>
        {
            if (draft.Kind != channel.Kind)
            {
                throw new ChannelRefusedException($"A channel keeps its kind ({channel.Kind}); add a new {ChannelDraftValidation.Describe(draft.Kind)} channel instead. Nothing was changed.");
            }

            ChannelDraftValidation.Check(draft, creating: false, secrets);
            channel.Name = draft.Name.Trim();
            Apply(channel, draft, secrets, actor, time.GetUtcNow());
            return Describe(channel);
        });

    public Task<ChannelSummary> SetEnabledAsync(Actor actor, Guid channelId, bool enabled, CancellationToken ct) =>
        ChangeAsync(actor, AuditActions.NotificationChannelChanged, channelId, ct, (channel, _) =>
        {
            channel.Enabled = enabled;
            channel.UpdatedAt = time.GetUtcNow();
            channel.UpdatedBy = actor.Name;
            return enabled ? "enabled" : "disabled: nothing is sent to it until it is enabled again";
        });

    /// <summary>Replaces a webhook's signing secret; the new one is returned this once and the old one stops working.</summary>
    public async Task<string> RotateSigningSecretAsync(Actor actor, Guid channelId, CancellationToken ct)
    {
        var secret = SignedWebhookSender.NewSecret();
        await ChangeAsync(actor, AuditActions.NotificationSecretRotated, channelId, ct, (channel, secrets) =>
        {
            if (channel.Kind != NotificationChannelKind.Webhook)
            {
                throw new ChannelRefusedException("Only a generic webhook has a signing secret. Nothing was changed.");
            }

            channel.ProtectedSecrets = _protector.Protect((secrets with { SigningSecret = secret }).ToJson());
            channel.UpdatedAt = time.GetUtcNow();
            channel.UpdatedBy = actor.Name;
            return "new signing secret issued; the previous one no longer verifies";
        });
        return secret;
    }

    public async Task DeleteAsync(Actor actor, Guid channelId, CancellationToken ct)
    {
        await DemandAsync(actor, AuditActions.NotificationChannelDeleted, channelId.ToString(), ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var channel = await db.Set<NotificationChannel>().FirstOrDefaultAsync(c => c.Id == channelId, ct)
            ?? throw new KeyNotFoundException("That channel no longer exists. Reload the list. Nothing was changed.");
        db.Remove(channel);
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(actor, AuditActions.NotificationChannelDeleted, channel.Name, AuditOutcome.Succeeded,
            $"{channel.Kind} channel removed with its delivery log", CancellationToken.None);
    }

    /// <summary>Sends a test message now (one attempt within the timeout) and says what the receiver answered. The
    /// attempt is in the delivery log like any other.</summary>
    public async Task<TestResult> SendTestAsync(Actor actor, Guid channelId, CancellationToken ct)
    {
        await DemandAsync(actor, AuditActions.NotificationChannelTested, channelId.ToString(), ct);
        Guid deliveryId;
        string name;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var channel = await db.Set<NotificationChannel>().AsNoTracking().FirstOrDefaultAsync(c => c.Id == channelId, ct)
                ?? throw new KeyNotFoundException("That channel no longer exists. Reload the list. Nothing was sent.");
            name = channel.Name;
            var now = time.GetUtcNow();
            var e = new NotificationEventRecord
            {
                Id = Guid.NewGuid(),
                Kind = NotificationEvents.Code(NotificationEventKind.Test),
                Severity = NotificationSeverity.Info,
                Title = $"Test message for '{channel.Name}'",
                Text = $"{actor.Name} pressed Send test under Settings → Notifications. This channel receives the HelloJohn Console's messages.",
                NotTouched = "Nothing was run or changed.",
                LinkPath = "/settings",
                OccurredAt = now,
            };
            deliveryId = Guid.NewGuid();
            db.Add(e);
            db.Add(new NotificationDelivery { Id = deliveryId, EventId = e.Id, ChannelId = channelId, Status = DeliveryStatus.Pending, CreatedAt = now });
            await db.SaveChangesAsync(ct);
        }

        var result = await dispatcher.DeliverOnceAsync(deliveryId, ct);
        await audit.RecordAsync(actor, AuditActions.NotificationChannelTested, name, result.Succeeded ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            result.Detail, CancellationToken.None);
        return result;
    }

    /// <summary>The newest deliveries (of one channel, or of all), each with its attempts.</summary>
    public async Task<IReadOnlyList<DeliveryLogEntry>> DeliveriesAsync(Actor actor, Guid? channelId, int take, CancellationToken ct)
    {
        await DemandAsync(actor, null, null, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<NotificationDelivery>().AsNoTracking();
        if (channelId is { } id)
        {
            query = query.Where(d => d.ChannelId == id);
        }

        var rows = await query.OrderByDescending(d => d.CreatedAt).Take(Math.Clamp(take, 1, 500))
            .Include(d => d.Event).Include(d => d.AttemptLog).AsSplitQuery().ToListAsync(ct);
        var names = await db.Set<NotificationChannel>().AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, ct);
        return [.. rows.Select(d => new DeliveryLogEntry(d.Id, d.ChannelId, names.GetValueOrDefault(d.ChannelId, "(removed)"), d.Event!.Kind, d.Event.Title,
            d.Status, d.Attempts, d.CreatedAt, d.NextAttemptAt, d.FinishedAt, d.LastError,
            [.. d.AttemptLog.OrderBy(a => a.Number).Select(a => new AttemptLogEntry(a.Number, a.StartedAt, a.Duration, a.Succeeded, a.Detail))]))];
    }

    private async Task<ChannelSummary> ChangeAsync(Actor actor, string action, Guid channelId, CancellationToken ct, Func<NotificationChannel, ChannelSecrets, string> change)
    {
        await DemandAsync(actor, action, channelId.ToString(), ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var channel = await db.Set<NotificationChannel>().FirstOrDefaultAsync(c => c.Id == channelId, ct)
            ?? throw new KeyNotFoundException("That channel no longer exists. Reload the list. Nothing was changed.");
        var before = channel.Name;
        try
        {
            var secrets = channel.ProtectedSecrets is null ? new ChannelSecrets() : ChannelSecrets.FromJson(_protector.Unprotect(channel.ProtectedSecrets));
            var detail = change(channel, secrets);
            await SaveUniqueAsync(db, channel.Name, ct);
            await audit.RecordAsync(actor, action, before == channel.Name ? channel.Name : $"{before} → {channel.Name}", AuditOutcome.Succeeded, detail, CancellationToken.None);
            return Summary(channel, null, null);
        }
        catch (ChannelRefusedException e)
        {
            await audit.RecordAsync(actor, action, before, AuditOutcome.Failed, e.Message, CancellationToken.None);
            throw;
        }
    }

    private void Apply(NotificationChannel channel, ChannelDraft draft, ChannelSecrets secrets, Actor actor, DateTimeOffset now)
    {
        channel.Kind = draft.Kind;
        channel.Enabled = draft.Enabled;
        channel.Events = [.. draft.Events.Distinct().Select(NotificationEvents.Code).Order(StringComparer.Ordinal)];
        channel.UpdatedAt = now;
        channel.UpdatedBy = actor.Name;
        if (draft.Kind == NotificationChannelKind.Email)
        {
            secrets = secrets with { Password = draft.SmtpPassword ?? secrets.Password };
            channel.Settings = new ChannelSettings
            {
                SmtpHost = draft.SmtpHost!.Trim(),
                SmtpPort = draft.SmtpPort,
                SmtpSecurity = draft.SmtpSecurity,
                SmtpUserName = string.IsNullOrWhiteSpace(draft.SmtpUserName) ? null : draft.SmtpUserName.Trim(),
                From = draft.From!.Trim(),
                To = ChannelDraftValidation.Recipients(draft.To),
                TrustedCertificateSha256 = ChannelDraftValidation.NormalizeFingerprint(draft.TrustedCertificateSha256),
            }.ToJson();
            channel.SecretHint = string.IsNullOrEmpty(secrets.Password) ? null : "password stored";
        }
        else
        {
            secrets = secrets with { Url = draft.Url?.Trim() ?? secrets.Url, Headers = draft.Headers ?? secrets.Headers };
            channel.Settings = new ChannelSettings { HeaderNames = [.. secrets.Headers.Keys.Order(StringComparer.OrdinalIgnoreCase)] }.ToJson();
            channel.SecretHint = ChannelDraftValidation.UrlHint(secrets.Url!);
        }

        channel.ProtectedSecrets = _protector.Protect(secrets.ToJson());
    }

    private static async Task SaveUniqueAsync(ConsoleDbContext db, string name, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new ChannelRefusedException($"A channel named '{name}' exists already. Pick another name. Nothing was changed.");
        }
    }

    private static string Describe(NotificationChannel c)
    {
        var s = ChannelSettings.FromJson(c.Settings);
        var where = c.Kind == NotificationChannelKind.Email
            ? $"{s.SmtpHost}:{s.SmtpPort} ({s.SmtpSecurity}) to {s.To.Count} recipient(s)"
            : c.SecretHint + (s.HeaderNames.Count > 0 ? $" with headers {string.Join(", ", s.HeaderNames)}" : "");
        return $"{c.Kind} → {where}; {(c.Enabled ? "enabled" : "disabled")}; events: {(c.Events.Count == 0 ? "none" : string.Join(", ", c.Events))}";
    }

    private static ChannelSummary Summary(NotificationChannel c, DeliveryStatus? last, DateTimeOffset? lastAt) =>
        new(c.Id, c.Name, c.Kind, c.Enabled, [.. c.Events.Select(NotificationEvents.Parse).OfType<NotificationEventKind>()],
            c.SecretHint, ChannelSettings.FromJson(c.Settings), c.UpdatedAt, c.UpdatedBy, last, lastAt);

    private async Task DemandAsync(Actor actor, string? action, string? target, CancellationToken ct)
    {
        if (!actor.Has(ConsolePermission.ManageSettings))
        {
            if (action is not null)
            {
                await audit.RecordAsync(actor, action, target, AuditOutcome.Denied, "needs the Admin role; nothing was changed", ct);
            }

            actor.Demand(ConsolePermission.ManageSettings);
        }
    }
}
