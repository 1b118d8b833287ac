using System.Globalization;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The steps of "database host failure" (and, with a scratch database, of the drill): new server, backup,
/// restore, verify, deploy the URL, restart, health.</summary>
internal static class DatabaseHostSteps
{
    public const string NewServerKey = "new-server";
    public const string ChooseBackupKey = "choose-backup";
    public const string RestoreKey = "restore";
    public const string VerifyKey = "verify";
    public const string DeployUrlKey = "deploy-url";
    public const string RestartKey = "restart";
    public const string HealthKey = "health";

    public static RecoveryStepDefinition NewServer() => new()
    {
        Key = NewServerKey,
        Title = "Connect the new PostgreSQL server",
        Instructions = c => ProviderInstructions.ProvisionDatabase(c.Provider),
        Inputs =
        [
            new("connection", "New database connection", InputKind.Secret, true, "postgres://user:password@host:5432/hellojohn, or Host=…;Username=…;Password=…;Database=…"),
            new("confirmNonEmpty", "Restore even though the database already holds tables", InputKind.Boolean, false,
                "The backup's tables are dropped and recreated; other tables stay. Leave unticked unless you know what is there."),
        ],
        ApplyInput = ApplyNewServerAsync,
        Check = CheckNewServerAsync,
    };

    private static async Task ApplyNewServerAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        var text = inputs.GetValueOrDefault("connection");
        if (string.IsNullOrWhiteSpace(text))
        {
            if (ctx.Run.ProtectedNewConnection is null)
            {
                throw new RecoveryInputException("Enter the new database's connection (postgres://user:password@host:5432/hellojohn). Nothing was stored or restored.");
            }
        }
        else
        {
            NpgsqlConnectionStringBuilder connection;
            try
            {
                connection = PgConnection.Parse(text);
            }
            catch (FormatException e)
            {
                throw new RecoveryInputException($"The connection could not be read: {e.Message} Nothing was stored or restored.");
            }

            var live = await ctx.Services.GetRequiredService<TargetService>().GetConnectionAsync(ctx.Target.Id, ct);
            if (SameDatabase(live, connection))
            {
                throw new RecoveryInputException($"{connection.Describe()} is the database '{ctx.Target.Name}' uses now. Restoring over it is a restore in place " +
                    "(Restores page, Admin only, with a safety backup first). Nothing was stored or restored. Give the new server's database.");
            }

            ctx.SetNewConnection(connection);
        }

        ctx.Run.NonEmptyConfirmed = bool.TryParse(inputs.GetValueOrDefault("confirmNonEmpty"), out var confirmed) && confirmed;
        await ctx.LogAsync($"New database: {ctx.Run.NewDatabaseDisplay}{(ctx.Run.NonEmptyConfirmed ? " (restoring over existing tables confirmed)" : "")}.");
    }

    private static bool SameDatabase(NpgsqlConnectionStringBuilder a, NpgsqlConnectionStringBuilder b) =>
        string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port && string.Equals(a.Database, b.Database, StringComparison.Ordinal);

    private static async Task<CheckOutcome> CheckNewServerAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var connection = ctx.NewConnection();
        NewServerFacts facts;
        try
        {
            facts = await NewServerProbe.InspectAsync(connection, ctx.Run.Provider, ct);
        }
        catch (RecoveryInputException e)
        {
            return CheckOutcome.Fail(e.Message);
        }

        ctx.Run.NewServerVersion = facts.ServerVersion;
        await ctx.LogAsync($"{connection.Host}:{connection.Port} answers: PostgreSQL {facts.ServerVersion}.");
        if (facts.InRecovery)
        {
            return CheckOutcome.Fail($"{connection.Host}:{connection.Port} is a standby in recovery (read only). Nothing was restored. Promote it or give the primary's address.");
        }

        if (!facts.DatabaseExists && !facts.CanCreateDatabase)
        {
            return CheckOutcome.Fail($"The database {connection.Database} does not exist on {connection.Host}:{connection.Port} and '{connection.Username}' may not create databases. " +
                "Nothing was restored. Create it (see the commands above) or use a user with CREATEDB.");
        }

        ctx.Run.CreateNewDatabase = !facts.DatabaseExists;
        var newest = await NewestRestorableAsync(ctx, ct);
        var versionNote = "";
        if (newest is not null)
        {
            var version = PostgresVersion.CompareForRestore(newest.ServerVersion, facts.ServerVersion);
            if (!version.Passed)
            {
                return version;
            }

            versionNote = " " + version.Message;
        }

        if (facts.UserTables > 0 && !ctx.Run.NonEmptyConfirmed)
        {
            var sample = string.Join(", ", facts.SampleTables) + (facts.UserTables > facts.SampleTables.Count ? ", …" : "");
            return CheckOutcome.Fail($"{connection.Database} on {connection.Host}:{connection.Port} is not empty: it holds {facts.UserTables} table(s) ({sample}). " +
                "Nothing was restored. Give an empty database, or tick \"Restore even though the database already holds tables\" if that is intended.");
        }

        var state = !facts.DatabaseExists ? $"{connection.Database} does not exist yet; the restore creates it."
            : facts.UserTables == 0 ? $"{connection.Database} is empty."
            : $"{connection.Database} holds {facts.UserTables} table(s); restoring over them was confirmed.";
        return CheckOutcome.Pass($"Reachable: PostgreSQL {facts.ServerVersion} at {connection.Host}:{connection.Port}. {state}{versionNote}");
    }

    internal static async Task<BackupRecord?> NewestRestorableAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var dbFactory = ctx.Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Backups.AsNoTracking()
            .Where(b => b.TargetId == ctx.Target.Id && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
            .OrderByDescending(b => b.StartedAt).FirstOrDefaultAsync(ct);
    }

    public static RecoveryStepDefinition ChooseBackup(bool automatic) => new()
    {
        Key = ChooseBackupKey,
        Title = automatic ? "Pick the latest verified backup" : "Choose the backup to restore",
        Instructions = c =>
        [
            new(automatic
                ? "The drill restores the newest backup that passed a verification (the newest finished one when none has)."
                : "The newest backup that passed a restore verification is chosen for you. Its age at the incident is the data you lose (RPO): a newer unverified backup loses less but is less proven."),
        ],
        Inputs = automatic ? [] : [new("backup", "Backup", InputKind.Backup, true)],
        ApplyInput = automatic ? null : ApplyBackupAsync,
        Action = automatic ? PickLatestAsync : null,
        ActionLabel = automatic ? "Pick the backup" : null,
        Check = CheckBackupAsync,
    };

    private static async Task ApplyBackupAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        if (!Guid.TryParse(inputs.GetValueOrDefault("backup"), out var id))
        {
            throw new RecoveryInputException("Choose a backup from the list. Nothing was restored.");
        }

        var dbFactory = ctx.Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var backup = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == id && b.TargetId == ctx.Target.Id, ct)
            ?? throw new RecoveryInputException($"There is no backup {id} of '{ctx.Target.Name}'. Nothing was restored. Choose one from the list.");
        await UseBackupAsync(ctx, backup);
    }

    private static async Task PickLatestAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var candidates = await ctx.Services.GetRequiredService<RecoveryService>().CandidatesAsync(ctx.Run, ct);
        var pick = candidates.FirstOrDefault(c => c.IsDefault)
            ?? throw new RecoveryStepFailedException($"'{ctx.Target.Name}' has no finished backup to restore. Take a backup first (Backups → Back up now).");
        var dbFactory = ctx.Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await UseBackupAsync(ctx, await db.Backups.AsNoTracking().FirstAsync(b => b.Id == pick.Id, ct));
        await ctx.LogAsync(pick.VerifiedAt is { } v
            ? $"Picked {pick.FileName}, verified {v:u}."
            : $"Picked {pick.FileName}: no backup of this target has passed a verification yet, so the newest finished one is used.", pick.VerifiedAt is null ? RecoveryLogLevel.Warning : RecoveryLogLevel.Info);
    }

    private static async Task UseBackupAsync(RecoveryStepContext ctx, BackupRecord backup)
    {
        if (backup.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored) || backup.StartedAt is null)
        {
            throw new RecoveryInputException($"{backup.FileName} is {backup.Status.ToString().ToLowerInvariant()}; only a finished backup can be restored. Nothing was restored.");
        }

        ctx.Run.BackupId = backup.Id;
        ctx.Run.BackupFileName = backup.FileName;
        // pg_dump reads the snapshot exported when the backup started: that is the newest data it holds.
        ctx.Run.RecoveryPointAt = backup.StartedAt;
        ctx.Run.BackupServerVersion = backup.ServerVersion;
        await ctx.LogAsync($"Backup {backup.FileName}: snapshot {backup.StartedAt:u}, PostgreSQL {backup.ServerVersion ?? "unknown"}.");
    }

    private static async Task<CheckOutcome> CheckBackupAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        if (ctx.Run.BackupId is not { } id)
        {
            return CheckOutcome.Fail("No backup is chosen yet.");
        }

        var dbFactory = ctx.Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var backup = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == id, ct);
        if (backup is null || backup.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            return CheckOutcome.Fail($"{ctx.Run.BackupFileName} is no longer available (expired or removed). Nothing was restored. Choose another backup.");
        }

        var version = PostgresVersion.CompareForRestore(backup.ServerVersion, ctx.Run.NewServerVersion);
        if (!version.Passed)
        {
            return version;
        }

        var service = ctx.Services.GetRequiredService<RecoveryService>();
        var verifiedAt = await service.VerifiedAtAsync(ctx.Target.Id, id, ct);
        var (incident, source) = await service.IncidentAsync(ctx.Run, ct);
        var age = incident - backup.StartedAt!.Value;
        var proof = verifiedAt is { } v ? $"verified by a restore on {v:u}" : "not verified by a restore yet (the restore still checks its SHA-256, its archive and its row counts)";
        return CheckOutcome.Pass($"{backup.FileName}, snapshot {backup.StartedAt:u}, {proof}. " +
            $"Data written after it is lost: {RecoveryDurations.Describe(age < TimeSpan.Zero ? TimeSpan.Zero : age)} at the incident ({RecoveryDurations.Describe(source)}). {version.Message}");
    }

    public static RecoveryStepDefinition Restore(bool drill) => new()
    {
        Key = RestoreKey,
        Title = drill ? "Restore into the scratch database" : "Restore into the new server",
        Instructions = c => [.. drill
            ? [new InstructionBlock("The console checks the file (SHA-256 against its manifest, pg_restore --list) and restores it into the scratch database.")]
            : ProviderInstructions.RestoreByHand(c.Provider, c.Run.BackupFileName ?? "hellojohn_YYYYMMDD_HHMMSS.dump")],
        Action = (ctx, ct) => ctx.Services.GetRequiredService<RecoveryRestorer>().RestoreAsync(ctx, ct),
        ActionLabel = "Restore now",
        Check = CheckRestoredAsync,
    };

    private static async Task<CheckOutcome> CheckRestoredAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var expected = await ExpectedCountsAsync(ctx, ct);
        var present = await TablesAsync(ctx.NewConnection(), ct);
        var missing = expected.Where(e => !present.Contains($"{e.Schema}.{e.Table}")).Select(e => e.QualifiedName).ToList();
        return missing.Count == 0
            ? CheckOutcome.Pass($"{ctx.Run.BackupFileName} is restored into {ctx.Run.NewDatabaseDisplay}: all {expected.Count} tables of the backup are there.")
            : CheckOutcome.Fail($"The restore did not create {missing.Count} table(s) of the backup ({string.Join(", ", missing.Take(5))}). Run the restore again.");
    }

    public static RecoveryStepDefinition Verify() => new()
    {
        Key = VerifyKey,
        Title = "Verify row counts against the manifest",
        Instructions = _ => [new("The console counts the rows of every table in the restored database and compares them with the counts taken in the backup's snapshot. Every table must match.")],
        Check = VerifyCountsAsync,
        CheckPolls = true,
    };

    private static async Task<CheckOutcome> VerifyCountsAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var expected = await ExpectedCountsAsync(ctx, ct);
        var actual = await DatabaseInspector.CountRowsAsync(ctx.NewConnection().Unpooled(), Math.Max(2, Environment.ProcessorCount), ct);

        // The provider's own schemas are not HelloJohn's; tables that were there before a confirmed restore are not the backup's.
        var providerSchemas = NewServerProbe.ProviderSchemas(ctx.Run.Provider);
        var inManifest = expected.Select(e => (e.Schema, e.Table)).ToHashSet();
        var others = actual.Where(a => !providerSchemas.Contains(a.Schema) && !inManifest.Contains((a.Schema, a.Table))).ToList();
        var compared = actual.Where(a => !providerSchemas.Contains(a.Schema) && (!ctx.Run.NonEmptyConfirmed || inManifest.Contains((a.Schema, a.Table))));
        if (ctx.Run.NonEmptyConfirmed && others.Count > 0)
        {
            await ctx.LogAsync($"Not compared: {others.Count} table(s) that are not in the backup and were in the database before ({string.Join(", ", others.Take(5).Select(o => o.QualifiedName))}).", RecoveryLogLevel.Warning);
        }

        // The same comparison as the restore feature's: every table of the manifest and of the database, paired.
        var results = TableCountComparison.Compare(expected.Select(e => new ManifestTableCount(e.Schema, e.Table, e.Rows)), compared);
        foreach (var r in results)
        {
            var line = $"{r.QualifiedName}: {(r.Actual is { } a ? $"{a:N0} rows" : "missing")}, manifest {(r.Expected is { } e ? $"{e:N0}" : "has no such table")}";
            await ctx.LogAsync((r.Matches ? "✓ " : "✗ ") + line, r.Matches ? RecoveryLogLevel.Info : RecoveryLogLevel.Error);
        }

        var total = expected.Sum(e => e.Rows);
        return TableCountComparison.DescribeMismatches(results) is { } mismatch
            ? CheckOutcome.Fail($"The restored database differs from the manifest: {mismatch}. Do not point HelloJohn at it; restore again or choose another backup.")
            : CheckOutcome.Pass($"All {expected.Count} tables match the manifest ({total.ToString("N0", CultureInfo.InvariantCulture)} rows).");
    }

    internal static async Task<IReadOnlyList<TableRowCount>> ExpectedCountsAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var dbFactory = ctx.Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var counts = await db.BackupTableCounts.AsNoTracking().Where(c => c.BackupId == ctx.Run.BackupId).ToListAsync(ct);
        if (counts.Count == 0)
        {
            throw new RecoveryStepFailedException($"The catalog holds no row counts for {ctx.Run.BackupFileName}, so the restore cannot be verified. Choose another backup.");
        }

        return DatabaseInspector.Order(counts.Select(c => new TableRowCount(c.Schema, c.Table, c.Rows)));
    }

    internal static async Task<HashSet<string>> TablesAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    public static RecoveryStepDefinition DeployUrl() => new()
    {
        Key = DeployUrlKey,
        Title = "Deploy the new HELLOJOHN_DATABASE_URL",
        Instructions = c =>
        [
            new("HelloJohn's new database URL (the copy button copies it with its password; it is never shown or logged):", c.MaskedNewDatabaseUrl, CopiesSecret: true),
            .. ProviderInstructions.SetDatabaseUrl(c.Provider),
        ],
        ManualReason = "The console cannot see HelloJohn's environment. Mark this done once every instance has the new URL; the health check below proves it.",
    };

    public static RecoveryStepDefinition Restart() => new()
    {
        Key = RestartKey,
        Title = "Restart HelloJohn",
        Instructions = c => ProviderInstructions.RestartInstances(c.Provider),
        ManualReason = "Restarts happen on your platform. Mark this done once the instances restarted; the next step checks that HelloJohn is healthy.",
    };

    public static RecoveryStepDefinition Health() => new()
    {
        Key = HealthKey,
        Title = "Wait until HelloJohn is healthy",
        Instructions = c => ProviderInstructions.HealthCheck(HealthProbe.UrlOf(c.Run, c.Target)),
        Inputs = [new("healthUrl", "Health URL", InputKind.Url, false, "Defaults to the target's base URL + /health.")],
        ApplyInput = HealthProbe.ApplyUrlAsync,
        Check = (ctx, ct) => ctx.Services.GetRequiredService<HealthProbe>().WaitHealthyAsync(ctx, ct),
        CheckPolls = true,
    };
}
