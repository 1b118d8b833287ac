using System.Globalization;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Core.Verification.Scratch;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Verification;

/// <summary>The console's private scratch cluster, where verifications restore by default.</summary>
[Trait("Capability", "Verification")]
[Collection(PostgresCollection.Name)]
public sealed class ScratchClusterTests(PostgresClusterFixture postgres)
{
    private ConsoleAppFactory Console(string restoreInto = "PrivateCluster")
    {
        var app = new ConsoleAppFactory(postgres);
        app.Settings["Verification:RestoreInto"] = restoreInto;
        return app;
    }

    [Fact]
    public async Task Verify_OnPrivateCluster_StartsItOnDemandReusesItAndTheConsoleStopsIt()
    {
        var app = Console();
        int postmaster;
        await using (app)
        {
            await app.InitializeAsync();
            var (backupId, _) = await app.BackUpAsync();
            var scratch = app.Service<ScratchCluster>();
            Assert.False(Directory.Exists(scratch.OwnFolder), "Nothing runs before the first verification.");

            var first = await app.Service<VerificationService>().VerifyAsync(Operator, backupId, CancellationToken.None);

            Assert.True(first.Run.Status == VerificationStatus.Passed, first.Run.Error);
            var port = scratch.PortOf(postgres.Runner.Binaries.MajorVersion);
            Assert.NotNull(port);
            Assert.NotEqual(postgres.Demo.Port, port);
            Assert.Equal($"the console's scratch cluster (PostgreSQL {postgres.Runner.Binaries.MajorVersion}, 127.0.0.1:{port})", first.Run.Server);
            Assert.StartsWith(Path.GetFullPath(app.DataDirectory) + "/", scratch.OwnFolder, StringComparison.Ordinal);
            postmaster = PostmasterOf(scratch.OwnFolder);
            Assert.True(IsRunning(postmaster));

            var second = await app.Service<VerificationService>().VerifyAsync(Operator, backupId, CancellationToken.None);

            Assert.True(second.Run.Status == VerificationStatus.Passed, second.Run.Error);
            Assert.Equal(first.Run.Server, second.Run.Server);
            Assert.Equal(postmaster, PostmasterOf(scratch.OwnFolder));
            // The production server never saw a verification database.
            Assert.Empty(await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        }

        Assert.False(IsRunning(postmaster), "The scratch cluster must stop with the console.");
    }

    [Theory]
    [InlineData("PrivateCluster")]
    [InlineData("TargetServer")]
    public async Task Verify_OnEitherServer_GivesTheSameCountsVerdictsAndRefusals(string restoreInto)
    {
        await using var app = Console(restoreInto);
        await app.InitializeAsync();
        var verifications = app.Service<VerificationService>();
        // Each is verified while it is the newest backup: retention, which runs after every backup, never expires that one.
        var (good, _) = await app.BackUpAsync();
        var passed = await verifications.VerifyAsync(Operator, good, CancellationToken.None);
        var (miscounted, miscountedFile) = await app.BackUpAsync();
        var manifestPath = miscountedFile + BackupManifest.Suffix;
        var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(manifestPath));
        await File.WriteAllBytesAsync(manifestPath, (manifest with { Tables = [.. manifest.Tables.Select(t => t.Table == "hj_session" ? t with { Rows = t.Rows + 1 } : t)] }).ToJsonBytes());
        var failed = await verifications.VerifyAsync(Operator, miscounted, CancellationToken.None);
        var (corrupted, corruptedFile) = await app.BackUpAsync();
        await FlipMiddleByteAsync(corruptedFile);
        var refused = await verifications.VerifyAsync(Operator, corrupted, CancellationToken.None);

        Assert.True(passed.Run.Status == VerificationStatus.Passed, passed.Run.Error);
        Assert.Equal(7, passed.Tables.Count);
        foreach (var t in passed.Tables)
        {
            Assert.Equal(await postgres.CountAsync(postgres.Demo, t.Table), t.Actual);
        }

        Assert.Equal(VerificationStatus.Failed, failed.Run.Status);
        Assert.Contains("hj_session has", failed.Run.Error);
        Assert.Equal([false], failed.Tables.Where(t => t.Table == "hj_session").Select(t => t.Matches));
        Assert.True(failed.Run.DatabaseDropped);

        Assert.Equal(VerificationStatus.Failed, refused.Run.Status);
        Assert.Equal(nameof(ArchiveCheck.Checksum), refused.Run.FailedCheck);
        Assert.Contains("No database was created", refused.Run.Error);
        Assert.Null(refused.Run.DatabaseName);

        var onScratch = restoreInto == "PrivateCluster";
        Assert.All(new[] { passed, failed, refused }, r => Assert.Equal(onScratch, r.Run.Server!.StartsWith("the console's scratch cluster", StringComparison.Ordinal)));
        Assert.Empty(await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
    }

    [Fact]
    public async Task Verify_NoServerProgramsOfTheTargetsVersion_SaysWhichPackageToInstallAndRestoresNothing()
    {
        var programs = OnlyOlderServerPrograms();
        try
        {
            await using var app = Console();
            app.Settings["Verification:ServerPrograms"] = programs.FullName;
            await app.InitializeAsync();
            var (backupId, _) = await app.BackUpAsync();

            var result = await app.Service<VerificationService>().VerifyAsync(Operator, backupId, CancellationToken.None);

            var major = postgres.Runner.Binaries.MajorVersion;
            Assert.Equal(VerificationStatus.Failed, result.Run.Status);
            Assert.Contains($"needs PostgreSQL {major}'s server programs", result.Run.Error);
            Assert.Contains($"{programs.FullName} holds only 9", result.Run.Error);
            Assert.Contains($"apt-get install postgresql-{major}", result.Run.Error);
            Assert.Contains("Nothing was restored", result.Run.Error);
            Assert.Null(result.Run.DatabaseName);
            Assert.False(Directory.Exists(app.Service<ScratchCluster>().OwnFolder));
            Assert.Empty(await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        }
        finally
        {
            programs.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Verify_NoServerProgramsButFallBackChosen_VerifiesOnTheTargetsServer()
    {
        var programs = OnlyOlderServerPrograms();
        try
        {
            await using var app = Console();
            app.Settings["Verification:ServerPrograms"] = programs.FullName;
            app.Settings["Verification:FallBackToServer"] = "true";
            await app.InitializeAsync();
            var (backupId, _) = await app.BackUpAsync();

            var result = await app.Service<VerificationService>().VerifyAsync(Operator, backupId, CancellationToken.None);

            Assert.True(result.Run.Status == VerificationStatus.Passed, result.Run.Error);
            Assert.Equal($"{postgres.Demo.Host}:{postgres.Demo.Port}", result.Run.Server);
        }
        finally
        {
            programs.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Start_AfterAConsoleDiedMidVerification_StopsAndRemovesItsScratchCluster()
    {
        await using var app = Console();
        // What a console killed while restoring leaves: its folder (named after a process that no longer runs: this
        // process's id with another start time), its running server, the half-restored verification database.
        var root = LocalPostgresCluster.ReachableRoot(Path.Combine(app.DataDirectory, "scratch"), NullLogger.Instance);
        var dead = new ScratchOwner(Environment.ProcessId, ScratchOwner.Current.StartTicks + 1);
        var folder = Path.Combine(root, dead.FolderName);
        var leftover = await LocalPostgresCluster.StartAsync(Path.Combine(folder, "pg" + postgres.Runner.Binaries.MajorVersion.ToString(CultureInfo.InvariantCulture)),
            postgres.Runner, ScratchCluster.Settings);
        await ExecuteAsync(leftover.ConnectionFor("postgres"), "CREATE DATABASE hellojohn_verify_1700000000");
        var postmaster = PostmasterOf(folder);

        await app.InitializeAsync();
        _ = app.Service<VerificationService>();

        Assert.False(IsRunning(postmaster), "The leftover server must be stopped at start.");
        Assert.False(Directory.Exists(folder));
        var (backupId, _) = await app.BackUpAsync();
        var result = await app.Service<VerificationService>().VerifyAsync(Operator, backupId, CancellationToken.None);
        Assert.True(result.Run.Status == VerificationStatus.Passed, result.Run.Error);
        Assert.Null(result.Run.Leftovers);
    }

    [Fact]
    public async Task Release_IdleForTheTimeout_StopsTheClusterAndTheNextVerificationStartsItAgain()
    {
        var data = Directory.CreateTempSubdirectory("hjc-scratch-");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var scratch = new ScratchCluster(Options.Create(new ConsoleOptions { DataDirectory = data.FullName }),
            new FixedOptions<VerificationOptions>(new VerificationOptions { ScratchIdleTimeout = TimeSpan.FromMinutes(10) }), NullLoggerFactory.Instance, time);
        var major = postgres.Runner.Binaries.MajorVersion;
        try
        {
            await using (var lease = await scratch.AcquireAsync(major, CancellationToken.None))
            {
                Assert.Equal(major, lease.Major);
            }

            time.Advance(TimeSpan.FromMinutes(9));
            Assert.NotNull(scratch.PortOf(major));
            var postmaster = PostmasterOf(scratch.OwnFolder);

            time.Advance(TimeSpan.FromMinutes(2));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (scratch.PortOf(major) is not null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.Null(scratch.PortOf(major));
            Assert.False(IsRunning(postmaster));
            await using var again = await scratch.AcquireAsync(major, CancellationToken.None);
            Assert.NotNull(scratch.PortOf(major));
        }
        finally
        {
            await scratch.StopAllAsync();
            data.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(15, 15)]
    [InlineData(14, 15)]
    [InlineData(12, 13)]
    [InlineData(17, null)]
    public void Pick_InstalledVersions_TakesTheSameMajorElseTheOldestNewer(int target, int? expected)
    {
        var root = Directory.CreateTempSubdirectory("hjc-pg-");
        try
        {
            foreach (var major in new[] { "13", "15", "16" })
            {
                Directory.CreateDirectory(Path.Combine(root.FullName, major, "bin"));
                foreach (var program in new[] { "initdb", "pg_ctl", "postgres" })
                {
                    File.WriteAllText(Path.Combine(root.FullName, major, "bin", program), "");
                }
            }

            // Client programs only: not a server installation.
            Directory.CreateDirectory(Path.Combine(root.FullName, "17", "bin"));
            File.WriteAllText(Path.Combine(root.FullName, "17", "bin", "pg_dump"), "");

            var found = ServerInstallations.Find(root.FullName);

            Assert.Equal([13, 15, 16], found.Select(f => f.Major));
            Assert.Equal(expected, ServerInstallations.Pick(found, target)?.Major);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void Options_Default_RestoresIntoThePrivateClusterAndAConfiguredScratchServerStillWins()
    {
        Assert.Equal(VerificationServerChoice.PrivateCluster, new VerificationOptions().EffectiveRestoreInto);
        Assert.Equal(VerificationServerChoice.ScratchServer, new VerificationOptions { ScratchServer = "postgres://u:p@db:5432/postgres" }.EffectiveRestoreInto);
        Assert.Equal(VerificationServerChoice.TargetServer,
            new VerificationOptions { ScratchServer = "postgres://u:p@db:5432/postgres", RestoreInto = VerificationServerChoice.TargetServer }.EffectiveRestoreInto);
        var missing = new VerificationOptionsValidation().Validate(null, new VerificationOptions { RestoreInto = VerificationServerChoice.ScratchServer });
        Assert.Contains("Verification__RestoreInto=ScratchServer needs Verification__ScratchServer", missing.FailureMessage);
        Assert.Contains("Verification__ScratchIdleTimeout", new VerificationOptionsValidation().Validate(null, new VerificationOptions { ScratchIdleTimeout = TimeSpan.Zero }).FailureMessage);
    }

    /// <summary>A folder of server programs that holds PostgreSQL 9 only, too old for any target.</summary>
    private static DirectoryInfo OnlyOlderServerPrograms()
    {
        var root = Directory.CreateTempSubdirectory("hjc-pg-");
        Directory.CreateDirectory(Path.Combine(root.FullName, "9", "bin"));
        foreach (var program in new[] { "initdb", "pg_ctl", "postgres" })
        {
            File.WriteAllText(Path.Combine(root.FullName, "9", "bin", program), "");
        }

        return root;
    }

    /// <summary>A process that ended but was not yet reaped by its parent still has a /proc entry, in state Z.</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            return !File.ReadLines($"/proc/{pid}/status").Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains('Z', StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int PostmasterOf(string ownerFolder)
    {
        var pidFile = Directory.GetFiles(ownerFolder, "postmaster.pid", SearchOption.AllDirectories).Single();
        return int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
    }

    private sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;
        public T Get(string? name) => value;
        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
