using HelloJohn.Console.Core.Security;

namespace HelloJohn.Console.Core.Secrets.Jwks;

/// <summary>The daily comparison of the escrowed signing key with HelloJohn's live JWKS. The result is stored by the
/// service; an unreachable HelloJohn is a result, so Hangfire retries only on real failures.</summary>
public sealed class JwksCheckJob(JwksCheckService checks) : HelloJohn.Console.Core.Schedules.IScheduledJwksCheckJob
{
    /// <summary>Every day at 06:30 UTC, after the nightly backup.</summary>
    public const string DefaultCron = "30 6 * * *";

    public static string RecurringJobId(Guid targetId) => $"jwks-check:{targetId:N}";

    public Task RunAsync(Guid targetId, CancellationToken ct) => checks.CheckAsync(Actor.System, targetId, ct);

    public Task RunScheduledAsync(Guid targetId, CancellationToken ct) => RunAsync(targetId, ct);
}
