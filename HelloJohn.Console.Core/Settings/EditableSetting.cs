using System.Globalization;
using HelloJohn.Console.Core.Targets;

namespace HelloJohn.Console.Core.Settings;

/// <summary>Where a setting's value comes from. The environment (or the console's configuration) always wins.</summary>
public enum SettingSource
{
    /// <summary>Nobody set it: the built-in default.</summary>
    Default,
    /// <summary>An administrator set it in the console; kept in the console database.</summary>
    Console,
    /// <summary>Set by an environment variable (or the configuration): it cannot be changed in the console.</summary>
    Environment,
}

/// <summary>One setting an administrator may change in the console, unless its variable is set.</summary>
/// <param name="Key">Its row in <c>console_settings</c>.</param>
/// <param name="ConfigurationKey">Its key in the configuration ("Retention:Daily", "HELLOJOHN_BASE_URL").</param>
/// <param name="Normalize">The value as stored, or an <see cref="ArgumentException"/> whose message says what is wrong;
/// null (the text was empty) goes back to the default.</param>
public sealed record EditableSetting(string Key, string ConfigurationKey, string Label, string Help, string? Default, Func<string, string> Normalize)
{
    /// <summary>The environment variable's name, as an operator types it.</summary>
    public string Variable => ConfigurationKey.Replace(":", "__", StringComparison.Ordinal);

    public bool AppliesToTarget => Key.StartsWith("target.", StringComparison.Ordinal);

    public const string TargetName = "target.name";
    public const string TargetBaseUrl = "target.base_url";
    public const string TargetProvider = "target.provider";
    public const string RetentionDaily = "retention.daily";
    public const string RetentionWeekly = "retention.weekly";
    public const string RetentionMonthly = "retention.monthly";
    public const string RetentionMinimumKept = "retention.minimum_kept";

    /// <summary>Every setting the Settings page offers, in its order.</summary>
    public static readonly IReadOnlyList<EditableSetting> All =
    [
        new(TargetName, "HELLOJOHN_TARGET_NAME", "Deployment name",
            "How the console names the deployment of HELLOJOHN_DATABASE_URL. Manifests written from now on carry the new name.", "production", NormalizeName),
        new(TargetBaseUrl, "HELLOJOHN_BASE_URL", "HelloJohn base URL",
            "HelloJohn's public URL, for the /health and JWKS checks and the signing-key wizard (https://auth.example.com).", null, NormalizeUrl),
        new(TargetProvider, "HELLOJOHN_PROVIDER", "Provider",
            $"Where the database runs: {string.Join(", ", Enum.GetNames<TargetProvider>())}.", nameof(Targets.TargetProvider.SelfManaged), NormalizeProvider),
        new(RetentionDaily, "Retention:Daily", "Daily backups kept", "Days with a backup kept in the daily tier (1 to 3650).", "7", v => Number(v, 1, 3650)),
        new(RetentionWeekly, "Retention:Weekly", "Weekly backups kept", "Weeks with a backup kept in the weekly tier (0 to 520).", "4", v => Number(v, 0, 520)),
        new(RetentionMonthly, "Retention:Monthly", "Monthly backups kept", "Months with a backup kept in the monthly tier (0 to 240).", "3", v => Number(v, 0, 240)),
        new(RetentionMinimumKept, "Retention:MinimumKept", "Newest backups always kept", "The newest backups kept whatever their age (1 to 10000).", "7", v => Number(v, 1, 10000)),
    ];

    public static EditableSetting Get(string key) => All.FirstOrDefault(s => s.Key == key)
        ?? throw new ArgumentException($"There is no setting '{key}'. Nothing was changed.");

    private static string NormalizeName(string value) => value.Length <= 128 && !value.Any(char.IsControl)
        ? value
        : throw new ArgumentException("The deployment name must be 1 to 128 characters, without line breaks.");

    private static string NormalizeUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"'{value}' is not an absolute http:// or https:// URL, such as https://auth.example.com.");
        }

        // The text is not repeated: what stands before the @ may be a password.
        return string.IsNullOrEmpty(uri.UserInfo)
            ? value.TrimEnd('/')
            : throw new ArgumentException("The URL must be given without a user name or password in it, such as https://auth.example.com.");
    }

    private static string NormalizeProvider(string value) =>
        Enum.TryParse<TargetProvider>(value, ignoreCase: true, out var p) && Enum.IsDefined(p) && !int.TryParse(value, out _)
            ? p.ToString()
            : throw new ArgumentException($"'{value}' is not a provider; choose one of {string.Join(", ", Enum.GetNames<TargetProvider>())}.");

    private static string Number(string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n.ToString(CultureInfo.InvariantCulture)
            : throw new ArgumentException($"'{value}' is not a whole number from {min} to {max}.");
}

/// <summary>A setting as the Settings page shows it: its value in force and where that comes from.</summary>
public sealed record ConsoleSettingView(EditableSetting Setting, string? Value, SettingSource Source, string? UpdatedBy, DateTimeOffset? UpdatedAt)
{
    public bool Editable => Source != SettingSource.Environment;
}
