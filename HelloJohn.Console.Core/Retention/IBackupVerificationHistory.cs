namespace HelloJohn.Console.Core.Retention;

/// <summary>Which backups passed a restore verification, and when last. Provided by the verification feature;
/// without it no backup counts as verified, so the newest-verified rule protects nothing extra.</summary>
public interface IBackupVerificationHistory
{
    Task<IReadOnlyDictionary<Guid, DateTimeOffset>> LastPassesAsync(Guid targetId, CancellationToken ct);
}
