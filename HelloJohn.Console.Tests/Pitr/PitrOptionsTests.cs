using HelloJohn.Console.Core.Pitr;

namespace HelloJohn.Console.Tests.Pitr;

[Trait("Capability", "Pitr")]
public sealed class PitrOptionsTests
{
    [Fact]
    public void Validate_BadValues_NameTheVariableToFix()
    {
        var result = new PitrOptionsValidator().Validate(null, new PitrOptions
        {
            ArchiveInterval = TimeSpan.Zero,
            RestartDelay = TimeSpan.FromMinutes(2),
            MaxRestartDelay = TimeSpan.FromMinutes(1),
            BaseBackupCron = "every day",
            BaseBackupMaxAge = TimeSpan.FromMinutes(5),
            ReplicationUrl = "not a url",
        });

        Assert.True(result.Failed);
        foreach (var key in new[] { "Pitr__ArchiveInterval", "Pitr__MaxRestartDelay", "Pitr__BaseBackupCron", "Pitr__BaseBackupMaxAge", "Pitr__ReplicationUrl" })
        {
            Assert.Contains(result.Failures!, f => f.StartsWith(key, StringComparison.Ordinal));
        }

        Assert.True(new PitrOptionsValidator().Validate(null, new PitrOptions()).Succeeded);
    }
}
