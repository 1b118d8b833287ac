using HelloJohn.Console.Core.Postgres;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Keeps a run's new database connection encrypted at rest (the keys live in the console database, so another
/// console instance can resume the run), and writes the masked form people may see.</summary>
public sealed class RecoveryConnectionVault(IDataProtectionProvider protection)
{
    public const string Mask = "••••••••";

    private readonly IDataProtector _protector = protection.CreateProtector("HelloJohn.Console.Recovery.NewConnection");

    public void Protect(RecoveryRun run, NpgsqlConnectionStringBuilder connection)
    {
        run.ProtectedNewConnection = _protector.Protect(connection.ConnectionString);
        run.NewDatabaseDisplay = connection.Describe();
    }

    public NpgsqlConnectionStringBuilder? Unprotect(RecoveryRun run) =>
        run.ProtectedNewConnection is { } p ? new NpgsqlConnectionStringBuilder(_protector.Unprotect(p)) : null;

    /// <summary>HELLOJOHN_DATABASE_URL with the password replaced by dots, for display.</summary>
    public static string Masked(NpgsqlConnectionStringBuilder connection)
    {
        var url = connection.ToUrl(includePassword: false);
        return string.IsNullOrEmpty(connection.Password) ? url : url.Replace("@", ":" + Mask + "@", StringComparison.Ordinal);
    }
}
