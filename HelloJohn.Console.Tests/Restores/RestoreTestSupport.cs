using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Tests.Restores;

/// <summary>What the restore and verification tests do again and again: take a real backup, damage its file, look
/// at the databases on the server.</summary>
internal static class RestoreTestSupport
{
    public static readonly Actor Admin = new("admin-1", "admin@example.test", [ConsoleRoles.Admin]);
    public static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);
    public static readonly Actor Viewer = new("viewer-1", "viewer@example.test", [ConsoleRoles.Viewer]);

    public static async Task<Guid> DefaultTargetAsync(this ConsoleAppFactory app) =>
        (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

    /// <summary>Backs up the target (the default one when null) and returns the succeeded backup's id and file path.</summary>
    public static async Task<(Guid Id, string File)> BackUpAsync(this ConsoleAppFactory app, Guid? targetId = null)
    {
        var id = await app.Service<BackupService>().RunNowAsync(Admin, targetId ?? await app.DefaultTargetAsync(), BackupTrigger.Manual, CancellationToken.None);
        var details = await app.Service<BackupService>().GetAsync(id, CancellationToken.None);
        Assert.Equal(BackupStatus.Succeeded, details!.Backup.Status);
        return (id, Path.Combine(app.BackupDirectory, details.Backup.FileName));
    }

    /// <summary>A real backup whose target is as a catalog rebuild re-creates it after the console database was lost:
    /// known by name from the manifests, with no connection. Returns the backup's id and file name and the target's name.</summary>
    public static async Task<(Guid Id, string FileName, string TargetName)> RebuiltTargetBackupAsync(this ConsoleAppFactory app)
    {
        var (id, file) = await app.BackUpAsync();
        var target = new BackupTarget
        {
            Id = Guid.NewGuid(),
            Name = "rebuilt-" + Guid.NewGuid().ToString("N")[..6],
            ConnectionSource = TargetConnectionSource.Unset,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        await using var db = await app.DbAsync();
        db.Targets.Add(target);
        await db.SaveChangesAsync();
        await db.Backups.Where(b => b.Id == id).ExecuteUpdateAsync(s => s.SetProperty(b => b.TargetId, target.Id));
        return (id, Path.GetFileName(file), target.Name);
    }

    /// <summary>A verification as Verify now leaves it before a worker picks it up (no job, so none races the test).</summary>
    public static Task<Guid> QueuedVerificationAsync(this ConsoleAppFactory app, Guid backupId) =>
        app.AddRunAsync(backupId, RunKind.Verification, (id, backup) => new VerificationRun
        {
            Id = id,
            BackupId = backupId,
            BackupFileName = backup.FileName,
            Trigger = VerificationTrigger.Manual,
            Jobs = 1,
        });

    /// <summary>A restore as a request leaves it before a worker picks it up (no job, so none races the test).</summary>
    public static Task<Guid> QueuedRestoreAsync(this ConsoleAppFactory app, Guid backupId, RestoreMode mode, string database) =>
        app.AddRunAsync(backupId, RunKind.Restore, (id, backup) => new RestoreRun
        {
            Id = id,
            BackupId = backupId,
            BackupFileName = backup.FileName,
            Mode = mode,
            DatabaseName = database,
            Jobs = 1,
        });

    /// <summary>A queued run of <paramref name="kind"/> and its kind's record, as the service's request leaves them.</summary>
    private static async Task<Guid> AddRunAsync<TRecord>(this ConsoleAppFactory app, Guid backupId, RunKind kind, Func<Guid, BackupRecord, TRecord> create)
        where TRecord : class
    {
        await using var db = await app.DbAsync();
        var backup = await db.Backups.SingleAsync(b => b.Id == backupId);
        var run = RunFixtures.Run(kind, backup.TargetId);
        run.RequestedBy = Operator.Name;
        db.Add(run);
        db.Add(create(run.Id, backup));
        await db.SaveChangesAsync();
        return run.Id;
    }

    public static async Task FlipMiddleByteAsync(string file)
    {
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(file, bytes);
    }

    public static void Truncate(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
        stream.SetLength(stream.Length * 2 / 3);
    }

    /// <summary>Names of every database on the cluster that starts with <paramref name="prefix"/>.</summary>
    public static async Task<IReadOnlyList<string>> DatabasesAsync(this PostgresClusterFixture postgres, string prefix)
    {
        await using var conn = new NpgsqlConnection(postgres.Cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1 ORDER BY 1", conn) { Parameters = { new() { Value = prefix } } };
        await using var reader = await cmd.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    public static async Task ExecuteAsync(NpgsqlConnectionStringBuilder db, string sql)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlConnectionStringBuilder db, string sql)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>An md5 over a table's rows in primary-key order: equal digests mean equal contents.</summary>
    public static Task<string> ContentDigestAsync(NpgsqlConnectionStringBuilder db, string table, string orderBy) =>
        ScalarAsync<string>(db, $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY {orderBy}), '')) FROM {LocalPostgresCluster.QuoteIdent(table)} t");

    public static async Task DropDatabaseAsync(this PostgresClusterFixture postgres, string name) =>
        await ExecuteAsync(postgres.Cluster.ConnectionFor("postgres"), $"DROP DATABASE IF EXISTS {LocalPostgresCluster.QuoteIdent(name)} WITH (FORCE)");

    public static async Task<ConsoleDbContext> DbAsync(this ConsoleAppFactory app) =>
        await app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
}
