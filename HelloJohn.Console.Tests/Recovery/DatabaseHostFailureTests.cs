using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestActors;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestExtensions;

namespace HelloJohn.Console.Tests.Recovery;

[Trait("Capability", "Recovery")]
[Collection(PostgresCollection.Name)]
public sealed class DatabaseHostFailureTests(PostgresClusterFixture postgres) : RecoveryAppTest(postgres)
{
    private RecoveryService Recovery => App.Service<RecoveryService>();

    private async Task<Guid> StartAsync(DateTimeOffset? incident = null) =>
        await Recovery.StartAsync(Operator, new RecoveryStartRequest(RecoveryScenario.DatabaseHostFailure, await App.DefaultTargetAsync(), incident), CancellationToken.None);

    private static async Task<bool> HasTableAsync(NpgsqlConnectionStringBuilder db, string table)
    {
        await using var conn = new NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", conn) { Parameters = { new() { Value = table } } };
        return (bool)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Wizard_IntoASecondEmptyDatabase_RestoresVerifiesWaitsForHealthAndRecordsRpoAndRto()
    {
        var backupId = await App.BackUpAsync();
        var backup = (await App.Service<BackupService>().GetAsync(backupId, CancellationToken.None))!;
        // Whole microseconds, as PostgreSQL keeps them, so the expected RPO is exact.
        var now = DateTimeOffset.UtcNow;
        var incident = now.AddTicks(-(now.Ticks % 10));
        var expectedRpo = incident - backup.Backup.StartedAt!.Value;
        var newHost = await Postgres.CreateDatabaseAsync("newhost");
        var runId = await StartAsync(incident);

        var server = await Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", newHost.ToUrl(includePassword: true))), CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Passed, server.Status);
        Assert.Contains("is empty", server.Message);

        var candidates = await Recovery.GetBackupCandidatesAsync(runId, CancellationToken.None);
        var chosen = candidates.Single(c => c.IsDefault);
        Assert.Equal(backupId, chosen.Id);
        Assert.Equal(expectedRpo, chosen.AgeAtIncident);
        var pick = await Recovery.AdvanceAsync(Operator, runId, "choose-backup", Inputs(("backup", chosen.Id.ToString())), CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Passed, pick.Status);
        Assert.Contains($"{RecoveryDurations.Describe(expectedRpo)} at the incident (incident time as entered)", pick.Message);

        Assert.Equal(RecoveryStepStatus.Queued, (await Recovery.AdvanceAsync(Operator, runId, "restore", null, CancellationToken.None)).Status);
        var restore = await App.WaitForStepAsync(runId, "restore");
        Assert.True(restore.Status == RecoveryStepStatus.Passed, restore.Message);

        await Recovery.AdvanceAsync(Operator, runId, "verify", null, CancellationToken.None);
        var verify = await App.WaitForStepAsync(runId, "verify");
        Assert.True(verify.Status == RecoveryStepStatus.Passed, verify.Message);
        foreach (var table in backup.Tables)
        {
            Assert.Equal(table.Rows, await Postgres.CountAsync(newHost, table.Table));
        }

        var view = await App.RunAsync(runId);
        Assert.Equal(RecoveryConnectionVault.Masked(newHost), view.MaskedNewDatabaseUrl);
        Assert.DoesNotContain(newHost.Password!, view.MaskedNewDatabaseUrl);
        Assert.Contains(view.Steps.Single(s => s.Key == "deploy-url").Instructions, i => i.CopiesSecret && i.Command == view.MaskedNewDatabaseUrl);
        var url = await Recovery.RevealNewDatabaseUrlAsync(Operator, runId, CancellationToken.None);
        var parsed = PgConnection.Parse(url);
        Assert.Equal((newHost.Host, newHost.Port, newHost.Database, newHost.Username, newHost.Password), (parsed.Host, parsed.Port, parsed.Database, parsed.Username, parsed.Password));

        await Recovery.MarkDoneAsync(Operator, runId, "deploy-url", CancellationToken.None);
        await Recovery.MarkDoneAsync(Operator, runId, "restart", CancellationToken.None);

        // HelloJohn is still down: the check keeps polling and logging until the test turns it healthy.
        await Recovery.AdvanceAsync(Operator, runId, "health", null, CancellationToken.None);
        await App.WaitForStepAsync(runId, "health", s => s.Status == RecoveryStepStatus.Running);
        while (HelloJohnFake.HealthRequests < 3)
        {
            await Task.Delay(50);
        }

        Assert.Equal(RecoveryStepStatus.Running, (await App.StepAsync(runId, "health")).Status);
        HelloJohnFake.Healthy = true;
        var health = await App.WaitForStepAsync(runId, "health");
        Assert.True(health.Status == RecoveryStepStatus.Passed, health.Message);

        var done = await App.RunAsync(runId);
        Assert.Equal(RecoveryRunStatus.Completed, done.Run.Status);
        Assert.Equal(7, done.Run.StepsPassed);
        Assert.Equal(expectedRpo, done.Run.Rpo);
        Assert.Equal(IncidentTimeSource.Entered, done.Run.IncidentSource);
        Assert.Equal(health.CompletedAt!.Value - done.Run.StartedAt, done.Run.Rto);
        Assert.True(done.Run.Rto > TimeSpan.Zero);
        Assert.Contains(done.Log, l => l.StepKey == "health" && l.Text.Contains("HTTP 503", StringComparison.Ordinal));
        Assert.Contains(done.Log, l => l.StepKey == "restore" && l.Text.Contains("matches the manifest", StringComparison.Ordinal));
        Assert.Contains(done.Log, l => l.StepKey == "verify" && l.Text.StartsWith("✓ hj_user", StringComparison.Ordinal));
        var manual = done.Steps.Single(s => s.Key == "restart");
        Assert.True(manual.MarkedDoneByHand);
        Assert.Equal(Operator.Name, manual.CompletedBy);

        var audit = await App.WaitForAuditAsync(e => e.Detail?.Contains(" completed: ", StringComparison.Ordinal) == true);
        Assert.Single(audit, e => e.Action == AuditActions.RecoveryStarted);
        Assert.Contains(audit, e => e.Action == AuditActions.RecoveryStep && e.Detail!.Contains($"completed: RPO {RecoveryDurations.Describe(expectedRpo)}", StringComparison.Ordinal));
        Assert.Contains(audit, e => e.Action == AuditActions.RecoveryStep && e.Detail!.Contains("copied the URL", StringComparison.Ordinal));

        // The new database's password is never logged, audited or kept in clear.
        Assert.DoesNotContain(newHost.Password!, App.Logs.AllText);
        Assert.All(audit, e => Assert.DoesNotContain(newHost.Password!, e.Detail ?? ""));
        Assert.All(done.Log, l => Assert.DoesNotContain(newHost.Password!, l.Text));
        await using var db = await App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var stored = await db.Set<RecoveryRun>().AsNoTracking().SingleAsync(r => r.Id == runId);
        Assert.DoesNotContain(newHost.Password!, stored.ProtectedNewConnection);
    }

    [Fact]
    public async Task NewServer_Unreachable_FailsWithAClearErrorAndTheNextStepStaysClosed()
    {
        await App.BackUpAsync();
        var runId = await StartAsync();
        var port = LocalPostgresCluster.FreeLoopbackPort();

        var result = await Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", $"postgres://hj:secret-pw@127.0.0.1:{port}/hellojohn?connect_timeout=3")), CancellationToken.None);

        Assert.Equal(RecoveryStepStatus.Failed, result.Status);
        Assert.Contains($"Could not reach the new server 127.0.0.1:{port}", result.Message);
        Assert.Contains("Nothing was restored", result.Message);
        Assert.DoesNotContain("secret-pw", result.Message);
        var refused = await Assert.ThrowsAsync<RecoveryRefusedException>(() =>
            Recovery.AdvanceAsync(Operator, runId, "choose-backup", Inputs(("backup", Guid.NewGuid().ToString())), CancellationToken.None));
        Assert.Contains("opens once step 1", refused.Message);
        Assert.Equal(RecoveryStepStatus.Pending, (await App.StepAsync(runId, "restore")).Status);
    }

    [Fact]
    public async Task NewServer_NotEmptyWithoutConfirmation_FailsAndNothingIsRestored()
    {
        await App.BackUpAsync();
        var newHost = await Postgres.CreateDatabaseAsync("busyhost");
        await using (var conn = new NpgsqlConnection(newHost.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE TABLE leftover (id int); INSERT INTO leftover VALUES (1)", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        var runId = await StartAsync();
        var result = await Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", newHost.ConnectionString)), CancellationToken.None);

        Assert.Equal(RecoveryStepStatus.Failed, result.Status);
        Assert.Contains("is not empty: it holds 1 table(s) (public.leftover)", result.Message);
        Assert.Contains("Nothing was restored", result.Message);
        Assert.False(await HasTableAsync(newHost, "hj_user"));
        await Assert.ThrowsAsync<RecoveryRefusedException>(() => Recovery.AdvanceAsync(Operator, runId, "restore", null, CancellationToken.None));

        // Confirmed, the same database is accepted.
        var confirmed = await Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", newHost.ConnectionString), ("confirmNonEmpty", "true")), CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Passed, confirmed.Status);
        Assert.Contains("restoring over them was confirmed", confirmed.Message);

        // Restored over it, the backup's tables match their manifest; the table that was there stays, uncompared.
        var chosen = (await Recovery.GetBackupCandidatesAsync(runId, CancellationToken.None)).Single(c => c.IsDefault);
        await Recovery.AdvanceAsync(Operator, runId, "choose-backup", Inputs(("backup", chosen.Id.ToString())), CancellationToken.None);
        await Recovery.AdvanceAsync(Operator, runId, "restore", null, CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Passed, (await App.WaitForStepAsync(runId, "restore")).Status);
        await Recovery.AdvanceAsync(Operator, runId, "verify", null, CancellationToken.None);
        var verify = await App.WaitForStepAsync(runId, "verify");
        Assert.True(verify.Status == RecoveryStepStatus.Passed, verify.Message);
        Assert.Equal(1, await Postgres.CountAsync(newHost, "leftover"));
        Assert.Contains((await App.RunAsync(runId)).Log, l => l.Text.StartsWith("Not compared: 1 table(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NewServer_OnSupabase_DoesNotCountSupabasesOwnSchemasAsData()
    {
        var source = await Postgres.CreateDemoDatabaseAsync(users: 50);
        var targets = App.Service<HelloJohn.Console.Core.Targets.TargetService>();
        var supabaseTarget = await targets.AddStoredAsync("supabase", source.ConnectionString, null, HelloJohn.Console.Core.Targets.TargetProvider.Supabase, CancellationToken.None);
        var newHost = await Postgres.CreateDatabaseAsync("supa");
        await using (var conn = new NpgsqlConnection(newHost.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid); CREATE SCHEMA storage; CREATE TABLE storage.objects (id uuid)", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        var supabaseRun = await Recovery.StartAsync(Operator, new RecoveryStartRequest(RecoveryScenario.DatabaseHostFailure, supabaseTarget), CancellationToken.None);
        var onSupabase = await Recovery.AdvanceAsync(Operator, supabaseRun, "new-server", Inputs(("connection", newHost.ConnectionString)), CancellationToken.None);
        var selfManagedRun = await StartAsync();
        var selfManaged = await Recovery.AdvanceAsync(Operator, selfManagedRun, "new-server", Inputs(("connection", newHost.ConnectionString)), CancellationToken.None);

        Assert.Equal(RecoveryStepStatus.Passed, onSupabase.Status);
        Assert.Contains("is empty", onSupabase.Message);
        Assert.Equal(RecoveryStepStatus.Failed, selfManaged.Status);
        Assert.Contains("it holds 2 table(s) (auth.users, storage.objects)", selfManaged.Message);
    }

    [Fact]
    public async Task NewServer_TheLiveDatabaseOrUnreadableText_IsRefusedWithNothingStored()
    {
        var runId = await StartAsync();

        var live = await Assert.ThrowsAsync<RecoveryInputException>(() =>
            Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", Postgres.Demo.ConnectionString)), CancellationToken.None));
        Assert.Contains("restore in place", live.Message);
        var garbage = await Assert.ThrowsAsync<RecoveryInputException>(() =>
            Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", "postgres://")), CancellationToken.None));
        Assert.Contains("could not be read", garbage.Message);

        var view = await App.RunAsync(runId);
        Assert.Null(view.MaskedNewDatabaseUrl);
        Assert.Equal(RecoveryStepStatus.Failed, view.Steps[0].Status);
        Assert.Equal(garbage.Message, view.Steps[0].Message);
    }

    [Fact]
    public async Task NewServer_DatabaseMissingButCreatable_IsCreatedByTheRestore()
    {
        await App.BackUpAsync();
        var owner = await Postgres.CreateDatabaseAsync("creator", canCreateDatabases: true);
        var missing = new NpgsqlConnectionStringBuilder(owner.ConnectionString) { Database = "hj_fresh_" + Guid.NewGuid().ToString("N")[..8] };
        var runId = await StartAsync();

        var server = await Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", missing.ConnectionString)), CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Passed, server.Status);
        Assert.Contains("the restore creates it", server.Message);
        var chosen = (await Recovery.GetBackupCandidatesAsync(runId, CancellationToken.None)).Single(c => c.IsDefault);
        await Recovery.AdvanceAsync(Operator, runId, "choose-backup", Inputs(("backup", chosen.Id.ToString())), CancellationToken.None);
        await Recovery.AdvanceAsync(Operator, runId, "restore", null, CancellationToken.None);

        var restore = await App.WaitForStepAsync(runId, "restore");
        Assert.True(restore.Status == RecoveryStepStatus.Passed, restore.Message);
        Assert.Equal(PostgresClusterFixture.DemoUsers, await Postgres.CountAsync(missing, "hj_user"));
    }

    [Fact]
    public async Task Restore_FileDamagedAfterTheBackup_FailsBeforeWritingAnything()
    {
        var backupId = await App.BackUpAsync();
        var file = (await App.Service<BackupService>().GetAsync(backupId, CancellationToken.None))!.Backup.FileName;
        var newHost = await Postgres.CreateDatabaseAsync("damaged");
        var runId = await StartAsync();
        await Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", newHost.ConnectionString)), CancellationToken.None);
        await Recovery.AdvanceAsync(Operator, runId, "choose-backup", Inputs(("backup", backupId.ToString())), CancellationToken.None);
        var path = Path.Combine(App.BackupDirectory, file);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);

        await Recovery.AdvanceAsync(Operator, runId, "restore", null, CancellationToken.None);
        var restore = await App.WaitForStepAsync(runId, "restore");

        Assert.Equal(RecoveryStepStatus.Failed, restore.Status);
        Assert.Contains("The SHA-256 check failed", restore.Message);
        Assert.Contains("Nothing was restored", restore.Message);
        Assert.False(await HasTableAsync(newHost, "hj_user"));
        await Assert.ThrowsAsync<RecoveryRefusedException>(() => Recovery.AdvanceAsync(Operator, runId, "verify", null, CancellationToken.None));
    }
}
