using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>A console database as an older console left it: migrated only up to <c>schema</c> and filled by that
/// console's SQL. The app upgrades it in place when it starts.</summary>
public static class PreviousCatalog
{
    public static async Task WriteAsync(ConsoleAppFactory app, string schema, string sql)
    {
        var options = new DbContextOptionsBuilder<ConsoleDbContext>()
            .UseNpgsql(app.ConsoleDatabase.ConnectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history")).Options;
        await using (var db = new ConsoleDbContext(options))
        {
            await db.GetService<IMigrator>().MigrateAsync(schema);
        }

        await using var conn = new NpgsqlConnection(app.ConsoleDatabase.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
