using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Settings;

/// <summary>A change to the settings was refused; nothing was changed. The message lists every problem.</summary>
public sealed class SettingsRejectedException(string message) : InvalidOperationException(message);

/// <summary>The settings an administrator changes in the console (<see cref="EditableSetting.All"/>): kept in
/// <c>console_settings</c> so every instance sharing the console database agrees. An environment variable (or the
/// configuration) still wins: such a setting is shown with its variable and refused here. Retention reads its numbers
/// through <see cref="RetentionAsync"/>; the deployment of HELLOJOHN_DATABASE_URL is changed at once and again at start.</summary>
public sealed class ConsoleSettingsService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IConfiguration configuration,
    IOptions<RetentionOptions> retention,
    IAuditLog audit,
    CallerGate gate,
    TimeProvider time)
{
    /// <summary>Whether the environment (or the configuration) sets <paramref name="setting"/>.</summary>
    public bool FromEnvironment(EditableSetting setting) => !string.IsNullOrWhiteSpace(configuration[setting.ConfigurationKey]);

    /// <summary>Every editable setting, with the value in force and where it comes from.</summary>
    public async Task<IReadOnlyList<ConsoleSettingView>> ListAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var stored = await StoredAsync(db, ct);
        var target = await db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.ConnectionSource == TargetConnectionSource.Environment && t.RetiredAt == null, ct);
        return [.. EditableSetting.All.Select(s =>
        {
            var row = stored.GetValueOrDefault(s.Key);
            var source = FromEnvironment(s) ? SettingSource.Environment : row is null ? SettingSource.Default : SettingSource.Console;
            // A deployment's name, URL and provider are what its row says: that is what is in force.
            var value = s.AppliesToTarget && target is not null ? TargetValue(target, s.Key)
                : source == SettingSource.Environment ? configuration[s.ConfigurationKey]!.Trim()
                : row?.Value ?? s.Default;
            return new ConsoleSettingView(s, value, source, source == SettingSource.Console ? row!.UpdatedBy : null, source == SettingSource.Console ? row!.UpdatedAt : null);
        })];
    }

    /// <summary>The retention numbers in force: the configuration's with the console's.</summary>
    public Task<RetentionOptions> RetentionAsync(CancellationToken ct) => RetentionAsync(retention.Value, ct);

    /// <summary>The retention numbers in force: <paramref name="configured"/> (the configuration's, defaults included)
    /// with the console's values for each number no variable sets.</summary>
    public async Task<RetentionOptions> RetentionAsync(RetentionOptions configured, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return Overlay(configured, ValuesOf(await StoredAsync(db, ct)));
    }

    /// <summary>Changes settings: each key to its new text, an empty text back to the default. All or nothing: a value
    /// that is not valid, or a setting an environment variable sets, refuses the whole change. Every change is audited
    /// with its old and new value. Returns what changed, in words.</summary>
    public async Task<IReadOnlyList<string>> SaveAsync(Actor actor, IReadOnlyDictionary<string, string?> values, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageSettings, AuditActions.SettingsChanged, string.Join(", ", values.Keys), ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var rows = await db.Set<ConsoleSetting>().Where(s => s.Key.StartsWith("target.") || s.Key.StartsWith("retention.")).ToDictionaryAsync(s => s.Key, ct);
        var target = await db.Targets.FirstOrDefaultAsync(t => t.ConnectionSource == TargetConnectionSource.Environment && t.RetiredAt == null, ct);
        var current = (await ListAsync(ct)).ToDictionary(v => v.Setting.Key);

        var problems = new List<string>();
        var changes = new List<(EditableSetting Setting, string? Old, string? New)>();
        foreach (var (key, text) in values)
        {
            var setting = EditableSetting.All.FirstOrDefault(s => s.Key == key);
            if (setting is null)
            {
                problems.Add($"There is no setting '{key}'.");
                continue;
            }

            string? value;
            try
            {
                value = string.IsNullOrWhiteSpace(text) ? null : setting.Normalize(text.Trim());
            }
            catch (ArgumentException e)
            {
                problems.Add($"{setting.Label}: {e.Message}");
                continue;
            }

            var old = current[key].Value;
            if ((value ?? setting.Default) == old)
            {
                continue;
            }

            if (FromEnvironment(setting))
            {
                problems.Add($"{setting.Label} is set by the environment variable {setting.Variable}; change it there and restart the console.");
            }
            else if (setting.AppliesToTarget && target is null)
            {
                problems.Add($"{setting.Label} belongs to the deployment of HELLOJOHN_DATABASE_URL, and this console has none; change deployments in the table above.");
            }
            else if (key == EditableSetting.TargetName && value is null)
            {
                problems.Add("The deployment name cannot be empty.");
            }
            else if (key == EditableSetting.TargetName && await db.Targets.AnyAsync(t => t.Name == value && t.Id != target!.Id, ct))
            {
                problems.Add($"Another deployment is already named '{value}'.");
            }
            else
            {
                changes.Add((setting, old, value));
            }
        }

        var now = time.GetUtcNow();
        foreach (var (setting, _, value) in changes)
        {
            if (value is null)
            {
                if (rows.Remove(setting.Key, out var row))
                {
                    db.Remove(row);
                }
            }
            else if (rows.TryGetValue(setting.Key, out var row))
            {
                (row.Value, row.UpdatedAt, row.UpdatedBy) = (value, now, actor.Name);
            }
            else
            {
                rows[setting.Key] = db.Add(new ConsoleSetting { Key = setting.Key, Value = value, UpdatedAt = now, UpdatedBy = actor.Name }).Entity;
            }
        }

        try
        {
            Overlay(retention.Value, ValuesOf(rows)).ToPolicy(new Dictionary<Storage.BackupTier, IReadOnlyList<string>>()).EnsureValid();
        }
        catch (ArgumentException e)
        {
            problems.Add(e.Message);
        }

        if (problems.Count > 0)
        {
            var message = string.Join(" ", problems) + " Nothing was changed.";
            await audit.RecordAsync(actor, AuditActions.SettingsChanged, "settings", AuditOutcome.Failed, message, ct);
            throw new SettingsRejectedException(message);
        }

        if (target is not null)
        {
            ApplyToTarget(target, ValuesOf(rows), this);
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        var said = new List<string>();
        foreach (var (setting, old, value) in changes)
        {
            var text = $"{setting.Label}: {old ?? "not set"} → {value ?? $"{setting.Default ?? "not set"} (default)"}";
            said.Add(text);
            await audit.RecordAsync(actor, AuditActions.SettingsChanged, setting.Variable, AuditOutcome.Succeeded, text, CancellationToken.None);
        }

        return said;
    }

    /// <summary>The deployment of HELLOJOHN_DATABASE_URL takes the console's name, URL and provider wherever no variable
    /// sets them (the name only when it is created by <see cref="TargetService"/>, or changed here).</summary>
    internal static void ApplyToTarget(Targets.BackupTarget target, IReadOnlyDictionary<string, string> stored, ConsoleSettingsService? settings)
    {
        bool Free(string key) => settings is null || !settings.FromEnvironment(EditableSetting.Get(key));
        if (Free(EditableSetting.TargetName) && stored.TryGetValue(EditableSetting.TargetName, out var name))
        {
            target.Name = name;
        }

        if (Free(EditableSetting.TargetBaseUrl))
        {
            target.BaseUrl = stored.GetValueOrDefault(EditableSetting.TargetBaseUrl);
        }

        if (Free(EditableSetting.TargetProvider))
        {
            target.Provider = Enum.TryParse<TargetProvider>(stored.GetValueOrDefault(EditableSetting.TargetProvider), out var p) ? p : TargetProvider.SelfManaged;
        }
    }

    private static string? TargetValue(Targets.BackupTarget target, string key) => key switch
    {
        EditableSetting.TargetName => target.Name,
        EditableSetting.TargetBaseUrl => target.BaseUrl,
        _ => target.Provider.ToString(),
    };

    private RetentionOptions Overlay(RetentionOptions configured, IReadOnlyDictionary<string, string> stored)
    {
        int Pick(string key, int configuredValue) =>
            !FromEnvironment(EditableSetting.Get(key)) && stored.TryGetValue(key, out var v) && int.TryParse(v, out var n) ? n : configuredValue;
        return new RetentionOptions
        {
            Mode = configured.Mode,
            KeepDays = configured.KeepDays,
            WeeklyOn = configured.WeeklyOn,
            Daily = Pick(EditableSetting.RetentionDaily, configured.Daily),
            Weekly = Pick(EditableSetting.RetentionWeekly, configured.Weekly),
            Monthly = Pick(EditableSetting.RetentionMonthly, configured.Monthly),
            MinimumKept = Pick(EditableSetting.RetentionMinimumKept, configured.MinimumKept),
        };
    }

    private static async Task<Dictionary<string, ConsoleSetting>> StoredAsync(ConsoleDbContext db, CancellationToken ct) =>
        await db.Set<ConsoleSetting>().AsNoTracking().Where(s => s.Key.StartsWith("target.") || s.Key.StartsWith("retention."))
            .ToDictionaryAsync(s => s.Key, ct);

    private static Dictionary<string, string> ValuesOf(Dictionary<string, ConsoleSetting> rows) => rows.ToDictionary(r => r.Key, r => r.Value.Value);
}
