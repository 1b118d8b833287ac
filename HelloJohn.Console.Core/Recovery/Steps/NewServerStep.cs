using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Connect the new PostgreSQL server": keeps the connection typed in (never the live database), then checks
/// the server answers, is a primary, can hold the database, is empty (or confirmed) and can restore the backups.</summary>
internal sealed class NewServerStep(TargetService targets, RecoveryBackups backups) : IRecoveryStep
{
    public async Task ApplyInputAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
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

            var live = await targets.GetConnectionAsync(ctx.Target.Id, ct);
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

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
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
        var newest = await backups.NewestRestorableAsync(ctx.Target.Id, ct);
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
}
