using Npgsql;

namespace HelloJohn.Console.Core.Demo;

/// <summary>Creates HelloJohn's tables and fills them with synthetic, deterministic data: the same
/// <c>users</c> count always gives the same rows. Rows are generated inside PostgreSQL (set-based), so a million
/// users take seconds, not hours.</summary>
public static class DemoHelloJohnDatabase
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS hj_schema_migrations (
            version bigint PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS hj_user (
            id uuid PRIMARY KEY,
            email text NOT NULL UNIQUE,
            email_verified boolean NOT NULL DEFAULT false,
            password_hash text,
            display_name text,
            locale text NOT NULL DEFAULT 'en',
            disabled boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            last_sign_in_at timestamptz
        );
        CREATE TABLE IF NOT EXISTS hj_session (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES hj_user(id) ON DELETE CASCADE,
            token_hash text NOT NULL,
            user_agent text,
            ip_address inet,
            created_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz
        );
        CREATE INDEX IF NOT EXISTS hj_session_user_id_idx ON hj_session(user_id);
        CREATE TABLE IF NOT EXISTS hj_organization (
            id uuid PRIMARY KEY,
            slug text NOT NULL UNIQUE,
            name text NOT NULL,
            created_at timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS hj_organization_member (
            organization_id uuid NOT NULL REFERENCES hj_organization(id) ON DELETE CASCADE,
            user_id uuid NOT NULL REFERENCES hj_user(id) ON DELETE CASCADE,
            role text NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (organization_id, user_id)
        );
        CREATE TABLE IF NOT EXISTS hj_mfa_factor (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES hj_user(id) ON DELETE CASCADE,
            kind text NOT NULL,
            secret_encrypted bytea NOT NULL,
            label text,
            created_at timestamptz NOT NULL,
            last_used_at timestamptz
        );
        CREATE TABLE IF NOT EXISTS hj_signing_key (
            kid text PRIMARY KEY,
            algorithm text NOT NULL,
            public_key_x text NOT NULL,
            active boolean NOT NULL,
            created_at timestamptz NOT NULL,
            retired_at timestamptz
        );
        """;

    /// <summary>Creates the schema and, when <c>hj_user</c> is empty, fills it. Returns false when data was already there.</summary>
    public static async Task<bool> EnsureAsync(NpgsqlConnectionStringBuilder connection, int users, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(connection.ConnectionString);
        await conn.OpenAsync(ct);
        await ExecuteAsync(conn, Schema, ct);
        await using (var check = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM hj_user)", conn))
        {
            if ((bool)(await check.ExecuteScalarAsync(ct))!)
            {
                return false;
            }
        }

        await FillAsync(conn, users, ct);
        return true;
    }

    /// <summary>Adds <paramref name="users"/> users with ≈3 sessions each, one organization per 50 users, memberships,
    /// MFA factors for a quarter of users, and two signing-key rows.</summary>
    public static async Task FillAsync(NpgsqlConnection conn, int users, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(users);
        var organizations = Math.Max(1, users / 50);
        // md5(seed || n)::uuid gives stable ids; the fixed epoch keeps timestamps stable too.
        var sql = $"""
            INSERT INTO hj_schema_migrations (version, name, applied_at) VALUES
              (20240101000000, 'initial', '2024-01-01T00:00:00Z'),
              (20240315000000, 'organizations', '2024-03-15T00:00:00Z'),
              (20240610000000, 'mfa_factors', '2024-06-10T00:00:00Z')
              ON CONFLICT DO NOTHING;
            INSERT INTO hj_user (id, email, email_verified, password_hash, display_name, locale, disabled, created_at, updated_at, last_sign_in_at)
            SELECT md5('user' || n)::uuid,
                   'user' || n || '@' || (ARRAY['example.com','example.org','mail.example.net'])[1 + n % 3],
                   n % 10 <> 0,
                   '$argon2id$v=19$m=65536,t=3,p=4$' || substr(md5('salt' || n), 1, 22) || '$' || md5('hash' || n) || substr(md5('h2' || n), 1, 11),
                   initcap((ARRAY['ada','grace','alan','edsger','barbara','donald','frances','ken'])[1 + n % 8]) || ' ' || initcap(substr(md5('name' || n), 1, 8)),
                   (ARRAY['en','de','fr','es'])[1 + n % 4],
                   n % 97 = 0,
                   timestamptz '2024-01-01' + (n % 600) * interval '1 day' + (n % 86400) * interval '1 second',
                   timestamptz '2025-06-01' + (n % 86400) * interval '1 second',
                   CASE WHEN n % 5 = 0 THEN NULL ELSE timestamptz '2026-01-01' + (n % 300) * interval '1 day' END
            FROM generate_series(1, {users}) AS n;
            INSERT INTO hj_session (id, user_id, token_hash, user_agent, ip_address, created_at, expires_at, revoked_at)
            SELECT md5('session' || u || '-' || s)::uuid,
                   md5('user' || u)::uuid,
                   encode(sha256(('token' || u || '-' || s)::bytea), 'hex'),
                   (ARRAY['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
                          'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
                          'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0'])[1 + (u + s) % 3],
                   ('10.' || (u % 250) || '.' || (s * 7 % 250) || '.' || (u * 13 % 250))::inet,
                   timestamptz '2026-01-01' + (u % 300) * interval '1 day',
                   timestamptz '2026-01-01' + (u % 300 + 30) * interval '1 day',
                   CASE WHEN (u + s) % 11 = 0 THEN timestamptz '2026-02-01' ELSE NULL END
            FROM generate_series(1, {users}) AS u, generate_series(1, 3) AS s;
            INSERT INTO hj_organization (id, slug, name, created_at)
            SELECT md5('org' || n)::uuid, 'org-' || n, 'Organization ' || n || ' ' || initcap(substr(md5('org' || n), 1, 6)),
                   timestamptz '2024-02-01' + (n % 400) * interval '1 day'
            FROM generate_series(1, {organizations}) AS n;
            INSERT INTO hj_organization_member (organization_id, user_id, role, created_at)
            SELECT md5('org' || (1 + n % {organizations}))::uuid, md5('user' || n)::uuid,
                   CASE WHEN n <= {organizations} THEN 'owner' WHEN n % 7 = 0 THEN 'admin' ELSE 'member' END,
                   timestamptz '2024-03-01' + (n % 500) * interval '1 day'
            FROM generate_series(1, {users}) AS n;
            INSERT INTO hj_mfa_factor (id, user_id, kind, secret_encrypted, label, created_at, last_used_at)
            SELECT md5('mfa' || n)::uuid, md5('user' || n)::uuid,
                   CASE WHEN n % 8 = 0 THEN 'webauthn' ELSE 'totp' END,
                   sha256(('mfa-secret' || n)::bytea) || sha256(('mfa-iv' || n)::bytea),
                   CASE WHEN n % 8 = 0 THEN 'Security key' ELSE 'Authenticator app' END,
                   timestamptz '2024-07-01' + (n % 300) * interval '1 day',
                   timestamptz '2026-03-01' + (n % 200) * interval '1 day'
            FROM generate_series(4, {users}, 4) AS n;
            INSERT INTO hj_signing_key (kid, algorithm, public_key_x, active, created_at, retired_at) VALUES
              ('demo-2024', 'EdDSA', '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', false, '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
              ('demo-2025', 'EdDSA', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', true, '2025-01-01T00:00:00Z', NULL)
              ON CONFLICT DO NOTHING;
            ANALYZE;
            """;
        await ExecuteAsync(conn, sql, ct);
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
