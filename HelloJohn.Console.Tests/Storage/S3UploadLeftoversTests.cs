using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Tests.Storage;

/// <summary>Which unfinished uploads a sweep aborts: never one that running work may still complete.</summary>
[Trait("Capability", "Storage")]
public class S3UploadLeftoversTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Finished = Now.AddMinutes(-30);

    [Theory]
    [InlineData(BackupStatus.Queued)]
    [InlineData(BackupStatus.Running)]
    public void ReasonToAbort_BackupStillQueuedOrRunning_LeavesItEvenWhenOld(BackupStatus status) =>
        Assert.Null(S3UploadLeftovers.ReasonToAbort(status, null, Now.AddDays(-3), Now));

    [Theory]
    [InlineData(BackupStatus.Failed, "its backup is failed")]
    [InlineData(BackupStatus.Cancelled, "its backup is cancelled")]
    [InlineData(BackupStatus.Expired, "its backup is expired")]
    public void ReasonToAbort_BackupEnded_AbortsAtOnce(BackupStatus status, string reason) =>
        Assert.Equal(reason, S3UploadLeftovers.ReasonToAbort(status, Finished, Now.AddSeconds(-5), Now));

    [Fact]
    public void ReasonToAbort_FinishedBackupsOwnUploadStartedBeforeItFinished_IsAborted() =>
        Assert.StartsWith("started by its backup's own run", S3UploadLeftovers.ReasonToAbort(BackupStatus.PartiallyStored, Finished, Finished.AddMinutes(-2), Now));

    [Fact]
    public void ReasonToAbort_UploadStartedAfterItsBackupFinished_MayBeARetryAndIsLeftUntilStale()
    {
        Assert.Null(S3UploadLeftovers.ReasonToAbort(BackupStatus.PartiallyStored, Finished, Finished.AddMinutes(5), Now));
        Assert.Null(S3UploadLeftovers.ReasonToAbort(null, null, Now.AddHours(-23), Now));
        Assert.StartsWith("unfinished since", S3UploadLeftovers.ReasonToAbort(null, null, Now.AddHours(-25), Now));
    }
}
