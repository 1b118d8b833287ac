using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using HelloJohn.Console.Core.Demo;
using Npgsql;
using NpgsqlTypes;

namespace HelloJohn.Console.Bench.Generation;

public sealed record GenerationResult(int Users, TimeSpan Duration, TimeSpan LoadDuration, TimeSpan IndexDuration, long DatabaseBytes, IReadOnlyDictionary<string, long> Rows);

/// <summary>Fills an empty HelloJohn database at scale with exactly the rows <see cref="DemoHelloJohnDatabase"/> writes for
/// the same user count (same schema, same values), but streams them in with binary COPY into bare tables and builds
/// the keys, indexes and foreign keys afterwards, two tables at a time. That is what makes a million users a matter of
/// a minute or two on two cores. (The demo generator reads its timestamp literals in the server's time zone; on a
/// server in UTC, as the private clusters are, both write the same instants.)</summary>
public static class ScaleDataGenerator
{
    private static readonly string[] BulkTables = ["hj_user", "hj_session", "hj_organization", "hj_organization_member", "hj_mfa_factor"];
    private static readonly string[] Domains = ["example.com", "example.org", "mail.example.net"];
    private static readonly string[] FirstNames = ["ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "ken"];
    private static readonly string[] Locales = ["en", "de", "fr", "es"];
    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    ];

    private static readonly DateTime Jan2024 = Utc(2024, 1, 1);
    private static readonly DateTime Feb2024 = Utc(2024, 2, 1);
    private static readonly DateTime Mar2024 = Utc(2024, 3, 1);
    private static readonly DateTime Jul2024 = Utc(2024, 7, 1);
    private static readonly DateTime Jun2025 = Utc(2025, 6, 1);
    private static readonly DateTime Jan2026 = Utc(2026, 1, 1);
    private static readonly DateTime Feb2026 = Utc(2026, 2, 1);
    private static readonly DateTime Mar2026 = Utc(2026, 3, 1);

    /// <summary>Creates HelloJohn's schema in <paramref name="connection"/>'s database (which must hold no users yet) and
    /// fills it with <paramref name="users"/> users, ≈3 sessions each, an organization per 50 users, a membership per
    /// user and an MFA factor for every fourth user.</summary>
    public static async Task<GenerationResult> GenerateAsync(NpgsqlConnectionStringBuilder connection, int users, TextWriter? log = null, CancellationToken ct = default)
    {
        if (users < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(users), users, "--users must be at least 1.");
        }

        var total = Stopwatch.StartNew();
        var organizations = Math.Max(1, users / 50);
        await using var conn = await OpenAsync(connection, ct);
        await ExecuteAsync(conn, DemoHelloJohnDatabase.Schema, ct);
        await using (var check = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM hj_user)", conn))
        {
            if ((bool)(await check.ExecuteScalarAsync(ct))!)
            {
                throw new InvalidOperationException(
                    $"The database {connection.Database} already holds HelloJohn users; the generator only fills an empty database and changed nothing. Drop and recreate it, or pick another database.");
            }
        }

        var rebuild = await DropKeysAndIndexesAsync(conn, ct);
        log?.WriteLine($"Generating {users:N0} users into {connection.Database} with binary COPY…");

        var load = Stopwatch.StartNew();
        // Two streams for two cores: users and what hangs off one user each, and sessions with MFA factors.
        await Task.WhenAll(
            Task.Run(async () =>
            {
                await using var c = await OpenAsync(connection, ct);
                await CopyAsync(c, "hj_user (id, email, email_verified, password_hash, display_name, locale, disabled, created_at, updated_at, last_sign_in_at)", w => WriteUsers(w, users), ct);
                await CopyAsync(c, "hj_organization (id, slug, name, created_at)", w => WriteOrganizations(w, organizations), ct);
                await CopyAsync(c, "hj_organization_member (organization_id, user_id, role, created_at)", w => WriteMembers(w, users, organizations), ct);
            }, ct),
            Task.Run(async () =>
            {
                await using var c = await OpenAsync(connection, ct);
                await CopyAsync(c, "hj_session (id, user_id, token_hash, user_agent, ip_address, created_at, expires_at, revoked_at)", w => WriteSessions(w, users), ct);
                await CopyAsync(c, "hj_mfa_factor (id, user_id, kind, secret_encrypted, label, created_at, last_used_at)", w => WriteMfaFactors(w, users), ct);
            }, ct));
        load.Stop();
        log?.WriteLine($"  rows loaded in {load.Elapsed.TotalSeconds:F1} s; building keys and indexes…");

        var index = Stopwatch.StartNew();
        await RebuildAsync(connection, rebuild, ct);
        await ExecuteAsync(conn, SmallTablesSql, ct);
        // Sets hint bits and the visibility map now, so the first measured dump does not pay for it.
        await ExecuteAsync(conn, "VACUUM (ANALYZE)", ct);
        index.Stop();

        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in BulkTables)
        {
            await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {table}", conn);
            rows[table] = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        long bytes;
        await using (var size = new NpgsqlCommand("SELECT pg_database_size(current_database())", conn))
        {
            bytes = (long)(await size.ExecuteScalarAsync(ct))!;
        }

        total.Stop();
        log?.WriteLine($"  done in {total.Elapsed.TotalSeconds:F1} s: {rows["hj_user"]:N0} users, {rows["hj_session"]:N0} sessions, {bytes / 1048576.0:N0} MB on disk");
        return new GenerationResult(users, total.Elapsed, load.Elapsed, index.Elapsed, bytes, rows);
    }

    private const string SmallTablesSql = """
        INSERT INTO hj_schema_migrations (version, name, applied_at) VALUES
          (20240101000000, 'initial', '2024-01-01T00:00:00Z'),
          (20240315000000, 'organizations', '2024-03-15T00:00:00Z'),
          (20240610000000, 'mfa_factors', '2024-06-10T00:00:00Z')
          ON CONFLICT DO NOTHING;
        INSERT INTO hj_signing_key (kid, algorithm, public_key_x, active, created_at, retired_at) VALUES
          ('demo-2024', 'EdDSA', '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', false, '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
          ('demo-2025', 'EdDSA', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', true, '2025-01-01T00:00:00Z', NULL)
          ON CONFLICT DO NOTHING;
        """;

    private sealed record SchemaRebuild(IReadOnlyList<(string Table, string Sql)> KeysAndIndexes, IReadOnlyList<string> ForeignKeys);

    /// <summary>Reads the definitions of the bulk tables' keys and indexes from the catalog, drops them, and returns
    /// the statements that put them back exactly as the schema declared them.</summary>
    private static async Task<SchemaRebuild> DropKeysAndIndexesAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var keys = new List<(string Table, string Name, string Definition, char Kind)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
            FROM pg_constraint c
            WHERE c.conrelid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t) AND c.contype IN ('p', 'u', 'f')
            """, conn) { Parameters = { new() { Value = BulkTables } } })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                keys.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetChar(3)));
            }
        }

        var indexes = new List<(string Table, string Name, string Definition)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """, conn) { Parameters = { new() { Value = BulkTables } } })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                indexes.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        var drop = new StringBuilder();
        foreach (var k in keys.OrderBy(k => k.Kind == 'f' ? 0 : 1))
        {
            drop.AppendLine($"ALTER TABLE {k.Table} DROP CONSTRAINT {Quote(k.Name)};");
        }

        foreach (var i in indexes)
        {
            drop.AppendLine($"DROP INDEX {i.Name};");
        }

        if (drop.Length > 0)
        {
            await ExecuteAsync(conn, drop.ToString(), ct);
        }

        var rebuild = keys.Where(k => k.Kind != 'f').Select(k => (k.Table, $"ALTER TABLE {k.Table} ADD CONSTRAINT {Quote(k.Name)} {k.Definition}"))
            .Concat(indexes.Select(i => (i.Table, i.Definition)))
            .ToList();
        var foreign = keys.Where(k => k.Kind == 'f').Select(k => $"ALTER TABLE {k.Table} ADD CONSTRAINT {Quote(k.Name)} {k.Definition}").ToList();
        return new SchemaRebuild(rebuild, foreign);
    }

    private static async Task RebuildAsync(NpgsqlConnectionStringBuilder connection, SchemaRebuild rebuild, CancellationToken ct)
    {
        // Each table's keys in one session; the big tables on both cores at once. Foreign keys need the primary keys.
        var queue = new Queue<string>(rebuild.KeysAndIndexes.GroupBy(x => x.Table)
            .OrderByDescending(g => g.Key == "hj_session")
            .Select(g => string.Join(";\n", g.Select(x => x.Sql))));
        async Task WorkerAsync()
        {
            await using var c = await OpenAsync(connection, ct);
            await ExecuteAsync(c, "SET maintenance_work_mem = '256MB'", ct);
            while (true)
            {
                string sql;
                lock (queue)
                {
                    if (!queue.TryDequeue(out sql!))
                    {
                        return;
                    }
                }

                await ExecuteAsync(c, sql, ct);
            }
        }

        await Task.WhenAll(WorkerAsync(), WorkerAsync());
        await using var conn = await OpenAsync(connection, ct);
        foreach (var fk in rebuild.ForeignKeys)
        {
            await ExecuteAsync(conn, fk, ct);
        }
    }

    private static async Task CopyAsync(NpgsqlConnection conn, string tableAndColumns, Action<NpgsqlBinaryImporter> write, CancellationToken ct)
    {
        var table = tableAndColumns[..tableAndColumns.IndexOf(' ', StringComparison.Ordinal)];
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Emptied in the same transaction, so COPY may write the rows already frozen: no hint-bit rewrite later.
        await ExecuteAsync(conn, $"TRUNCATE {table}", ct);
        await using (var writer = await conn.BeginBinaryImportAsync($"COPY {tableAndColumns} FROM STDIN (FORMAT BINARY, FREEZE)", ct))
        {
            // The synchronous writer is several times faster per value; this runs on a pool thread of its own.
            write(writer);
            await writer.CompleteAsync(ct);
        }

        await tx.CommitAsync(ct);
    }

    private static void WriteUsers(NpgsqlBinaryImporter w, int users)
    {
        for (long n = 1; n <= users; n++)
        {
            w.StartRow();
            w.Write(Md5Uuid("user", n), NpgsqlDbType.Uuid);
            w.Write($"user{n}@{Domains[n % 3]}", NpgsqlDbType.Text);
            w.Write(n % 10 != 0, NpgsqlDbType.Boolean);
            w.Write($"$argon2id$v=19$m=65536,t=3,p=4${Md5Hex("salt", n)[..22]}${Md5Hex("hash", n)}{Md5Hex("h2", n)[..11]}", NpgsqlDbType.Text);
            w.Write($"{InitCap(FirstNames[n % 8])} {InitCap(Md5Hex("name", n)[..8])}", NpgsqlDbType.Text);
            w.Write(Locales[n % 4], NpgsqlDbType.Text);
            w.Write(n % 97 == 0, NpgsqlDbType.Boolean);
            w.Write(Jan2024.AddDays(n % 600).AddSeconds(n % 86400), NpgsqlDbType.TimestampTz);
            w.Write(Jun2025.AddSeconds(n % 86400), NpgsqlDbType.TimestampTz);
            if (n % 5 == 0)
            {
                w.WriteNull();
            }
            else
            {
                w.Write(Jan2026.AddDays(n % 300), NpgsqlDbType.TimestampTz);
            }
        }
    }

    private static void WriteSessions(NpgsqlBinaryImporter w, int users)
    {
        Span<byte> token = stackalloc byte[64];
        Span<byte> hash = stackalloc byte[32];
        for (long u = 1; u <= users; u++)
        {
            var user = Md5Uuid("user", u);
            for (var s = 1; s <= 3; s++)
            {
                w.StartRow();
                w.Write(Md5Uuid($"session{u}-{s}"), NpgsqlDbType.Uuid);
                w.Write(user, NpgsqlDbType.Uuid);
                var length = Encoding.ASCII.GetBytes($"token{u}-{s}", token);
                SHA256.HashData(token[..length], hash);
                w.Write(Convert.ToHexStringLower(hash), NpgsqlDbType.Text);
                w.Write(UserAgents[(u + s) % 3], NpgsqlDbType.Text);
                w.Write(new IPAddress([10, (byte)(u % 250), (byte)(s * 7 % 250), (byte)(u * 13 % 250)]), NpgsqlDbType.Inet);
                w.Write(Jan2026.AddDays(u % 300), NpgsqlDbType.TimestampTz);
                w.Write(Jan2026.AddDays(u % 300 + 30), NpgsqlDbType.TimestampTz);
                if ((u + s) % 11 == 0)
                {
                    w.Write(Feb2026, NpgsqlDbType.TimestampTz);
                }
                else
                {
                    w.WriteNull();
                }
            }
        }
    }

    private static void WriteOrganizations(NpgsqlBinaryImporter w, int organizations)
    {
        for (long n = 1; n <= organizations; n++)
        {
            w.StartRow();
            w.Write(Md5Uuid("org", n), NpgsqlDbType.Uuid);
            w.Write($"org-{n}", NpgsqlDbType.Text);
            w.Write($"Organization {n} {InitCap(Md5Hex("org", n)[..6])}", NpgsqlDbType.Text);
            w.Write(Feb2024.AddDays(n % 400), NpgsqlDbType.TimestampTz);
        }
    }

    private static void WriteMembers(NpgsqlBinaryImporter w, int users, int organizations)
    {
        for (long n = 1; n <= users; n++)
        {
            w.StartRow();
            w.Write(Md5Uuid("org", 1 + n % organizations), NpgsqlDbType.Uuid);
            w.Write(Md5Uuid("user", n), NpgsqlDbType.Uuid);
            w.Write(n <= organizations ? "owner" : n % 7 == 0 ? "admin" : "member", NpgsqlDbType.Text);
            w.Write(Mar2024.AddDays(n % 500), NpgsqlDbType.TimestampTz);
        }
    }

    private static void WriteMfaFactors(NpgsqlBinaryImporter w, int users)
    {
        var secret = new byte[64];
        Span<byte> text = stackalloc byte[64];
        for (long n = 4; n <= users; n += 4)
        {
            w.StartRow();
            w.Write(Md5Uuid("mfa", n), NpgsqlDbType.Uuid);
            w.Write(Md5Uuid("user", n), NpgsqlDbType.Uuid);
            w.Write(n % 8 == 0 ? "webauthn" : "totp", NpgsqlDbType.Text);
            SHA256.HashData(text[..Encoding.ASCII.GetBytes($"mfa-secret{n}", text)], secret.AsSpan(0, 32));
            SHA256.HashData(text[..Encoding.ASCII.GetBytes($"mfa-iv{n}", text)], secret.AsSpan(32, 32));
            w.Write(secret, NpgsqlDbType.Bytea);
            w.Write(n % 8 == 0 ? "Security key" : "Authenticator app", NpgsqlDbType.Text);
            w.Write(Jul2024.AddDays(n % 300), NpgsqlDbType.TimestampTz);
            w.Write(Mar2026.AddDays(n % 200), NpgsqlDbType.TimestampTz);
        }
    }

    /// <summary>PostgreSQL's <c>md5(prefix || n)::uuid</c>: the digest's bytes in order, as a uuid.</summary>
    private static Guid Md5Uuid(string prefix, long n) => Md5Uuid($"{prefix}{n}");

    private static Guid Md5Uuid(string text)
    {
        Span<byte> input = stackalloc byte[64];
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(input[..Encoding.ASCII.GetBytes(text, input)], digest);
        return new Guid(digest, bigEndian: true);
    }

    private static string Md5Hex(string prefix, long n)
    {
        Span<byte> input = stackalloc byte[64];
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(input[..Encoding.ASCII.GetBytes($"{prefix}{n}", input)], digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>PostgreSQL's <c>initcap</c> for one word of ASCII letters and digits: upper-case the first letter only
    /// when it starts the word.</summary>
    private static string InitCap(string word) =>
        word.Length == 0 || !char.IsAsciiLetterLower(word[0]) ? word.ToLowerInvariant() : char.ToUpperInvariant(word[0]) + word[1..].ToLowerInvariant();

    private static DateTime Utc(int year, int month, int day) => new(year, month, day, 0, 0, 0, DateTimeKind.Utc);

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    private static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        var conn = new NpgsqlConnection(connection.ConnectionString);
        await conn.OpenAsync(ct);
        // Generated rows can be generated again: waiting for each commit to reach disk buys nothing here.
        await ExecuteAsync(conn, "SET synchronous_commit = off", ct);
        return conn;
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
