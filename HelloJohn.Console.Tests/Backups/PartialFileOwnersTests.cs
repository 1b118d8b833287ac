using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Tests.Backups;

/// <summary>Which unfinished files the periodic tidy-up leaves alone: everything a queued or running backup or set is
/// writing, and point-in-time recovery's folders; nothing else.</summary>
[Trait("Capability", "Backups")]
public class PartialFileOwnersTests
{
    private static readonly PartialFileOwners Owners = new(
        ["hellojohn_20261129_213204.dump.zst", "tenant_a_20261129_213204.dump"],
        ["hellojohn_set_20261129_213204"]);

    [Theory]
    [InlineData("hellojohn_20261129_213204.dump.zst")]
    [InlineData("hellojohn_20261129_213204.dump.zst.manifest.json")]
    [InlineData("tenant_a_20261129_213204.dump")]
    [InlineData("tenant_a_20261129_213204.dump.manifest.json")]
    [InlineData("hellojohn_set_20261129_213204.set.json")]
    [InlineData("hellojohn_set_20261129_213204.roles.sql")]
    [InlineData("wal/0f1e2d3c4b5a69788796a5b4c3d2e1f0/00000001/000000010000000000000003.zst")]
    [InlineData("base/0f1e2d3c4b5a69788796a5b4c3d2e1f0/20261129T213204-0f1e2d3c/base.tar.zst")]
    public void Owns_TheFilesOfQueuedOrRunningBackupsAndSets(string key) => Assert.True(Owners.Owns(key));

    [Theory]
    [InlineData("hellojohn_20261128_020000.dump.zst")]
    [InlineData("hellojohn_20261128_020000.dump.zst.manifest.json")]
    [InlineData("hellojohn_set_20261128_020000.set.json")]
    [InlineData("hellojohn_set_20261128_020000.roles.sql")]
    // A name that only begins like a running backup's is another file.
    [InlineData("hellojohn_20261129_21320.dump.zst")]
    [InlineData("hellojohn_20261129_213204.dump.zst2")]
    [InlineData("hellojohn_set_20261129_2132040.set.json")]
    public void DoesNotOwn_WhatFinishedOrCrashedRunsLeft(string key) => Assert.False(Owners.Owns(key));
}
