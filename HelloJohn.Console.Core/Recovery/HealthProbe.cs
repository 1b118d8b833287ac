using System.Text.Json;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>"Wait until HelloJohn is healthy": keeps the health URL given, then polls HelloJohn's <c>/health</c> until it
/// answers healthy or the wait runs out, logging what it sees.</summary>
public sealed class HealthProbe(IHttpClientFactory httpClients, IOptionsMonitor<RecoveryOptions> options, TimeProvider time) : IRecoveryStep
{
    public const string HttpClientName = "HelloJohn.Console.Recovery";

    public static string? UrlOf(RecoveryRun run, TargetSummary target) =>
        run.HealthUrl ?? (string.IsNullOrWhiteSpace(target.BaseUrl) ? null : target.BaseUrl.TrimEnd('/') + "/health");

    public Task ApplyInputAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        var text = inputs.GetValueOrDefault("healthUrl");
        if (!string.IsNullOrWhiteSpace(text))
        {
            if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo))
            {
                throw new RecoveryInputException($"'{text}' is not an http:// or https:// URL (without credentials), such as https://auth.example.com/health. Nothing was checked.");
            }

            ctx.Run.HealthUrl = uri.ToString();
        }

        return Task.CompletedTask;
    }

    public Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct) => WaitHealthyAsync(ctx, ct);

    public async Task<CheckOutcome> WaitHealthyAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var url = UrlOf(ctx.Run, ctx.Target);
        if (url is null)
        {
            return CheckOutcome.Fail($"Target '{ctx.Target.Name}' has no HelloJohn base URL, so its /health cannot be polled. Enter the health URL above (or set HELLOJOHN_BASE_URL) and run the check again.");
        }

        var o = options.CurrentValue;
        var http = httpClients.CreateClient(HttpClientName);
        http.Timeout = o.HttpTimeout;
        var started = time.GetUtcNow();
        var deadline = started + o.WaitTimeout;
        string? lastSeen = null;
        await ctx.LogAsync($"Polling {url} every {RecoveryDurations.Describe(o.PollInterval)} for up to {RecoveryDurations.Describe(o.WaitTimeout)}.");
        for (var attempt = 1; ; attempt++)
        {
            var (healthy, seen) = await AskAsync(http, url, ct);
            if (healthy)
            {
                await ctx.LogAsync($"Attempt {attempt}: {seen}.");
                return CheckOutcome.Pass($"HelloJohn answered healthy at {url} ({seen}) after {attempt} attempt(s), {RecoveryDurations.Describe(time.GetUtcNow() - started)} of waiting.");
            }

            // One line per change of answer, and a reminder every tenth attempt, so the log stays readable.
            if (seen != lastSeen || attempt % 10 == 0)
            {
                await ctx.LogAsync($"Attempt {attempt}: {seen}; waiting.", RecoveryLogLevel.Warning);
                lastSeen = seen;
            }

            if (time.GetUtcNow() + o.PollInterval > deadline)
            {
                return CheckOutcome.Fail($"HelloJohn did not answer healthy at {url} within {RecoveryDurations.Describe(o.WaitTimeout)} (last answer: {seen}). " +
                    "Check that the instances restarted with the new HELLOJOHN_DATABASE_URL and read their logs, then run the check again.");
            }

            await Task.Delay(o.PollInterval, time, ct);
        }
    }

    private static async Task<(bool Healthy, string Seen)> AskAsync(HttpClient http, string url, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync(url, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                return (false, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            var status = StatusOf(body);
            return status is null || status is "healthy" or "ok" or "pass" or "up"
                ? (true, $"HTTP {(int)response.StatusCode}{(status is null ? "" : $", status {status}")}")
                : (false, $"HTTP {(int)response.StatusCode} but status {status}");
        }
        catch (HttpRequestException e)
        {
            return (false, $"no answer ({e.Message})");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, "no answer in time");
        }
    }

    /// <summary>The "status" member of a JSON health answer, lower-cased; null when the body is not such JSON.</summary>
    internal static string? StatusOf(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString()?.ToLowerInvariant()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
