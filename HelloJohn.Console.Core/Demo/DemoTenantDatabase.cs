using Npgsql;

namespace HelloJohn.Console.Core.Demo;

/// <summary>A demo tenant database in the layout HelloJohn gives each tenant today (<c>app_user</c>, <c>identity</c>,
/// <c>refresh_token</c>, <c>sessions</c>, <c>rbac_role</c>, <c>rbac_user_role</c>, <c>user_mfa_totp</c>,
/// <c>schema_migrations</c>…), filled with synthetic, deterministic rows: the same tenant and user count always give
/// the same data. Nothing in the console depends on these names; the demo uses them so a new user sees what a real
/// deployment looks like.</summary>
public static class DemoTenantDatabase
{
    /// <summary>The demo deployment's tenants beside its control-plane database, of deliberately different sizes.</summary>
    public static IReadOnlyList<(string Database, int Users)> DemoTenants { get; } =
    [
        ("hellojohn_tenant_acme", 4000),
        ("hellojohn_tenant_globex", 1500),
        ("hellojohn_tenant_initech", 300),
    ];

    /// <summary>HELLOJOHN_DATABASE_PATTERNS of the demo deployment.</summary>
    public const string DemoPattern = "hellojohn_tenant_*";

    public const string Schema = """
        CREATE TABLE IF NOT EXISTS app_user (
            id uuid PRIMARY KEY,
            email text NOT NULL UNIQUE,
            email_verified boolean NOT NULL DEFAULT false,
            name text,
            given_name text,
            family_name text,
            locale text,
            status text NOT NULL DEFAULT 'active',
            profile jsonb NOT NULL DEFAULT '{}',
            metadata jsonb NOT NULL DEFAULT '{}',
            disabled_at timestamptz,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS identity (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
            provider text NOT NULL,
            provider_user_id text,
            email text,
            password_hash text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            UNIQUE (user_id, provider)
        );
        CREATE TABLE IF NOT EXISTS refresh_token (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
            client_id_text text,
            token_hash text NOT NULL UNIQUE,
            issued_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz
        );
        CREATE INDEX IF NOT EXISTS refresh_token_user_idx ON refresh_token(user_id);
        CREATE TABLE IF NOT EXISTS sessions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
            session_id_hash text NOT NULL UNIQUE,
            ip_address inet,
            user_agent text,
            created_at timestamptz NOT NULL,
            last_activity timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz
        );
        CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions(user_id, created_at DESC);
        CREATE TABLE IF NOT EXISTS rbac_role (
            name text PRIMARY KEY,
            description text,
            permissions text[] NOT NULL DEFAULT '{}',
            system boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS rbac_user_role (
            user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
            role_name text NOT NULL REFERENCES rbac_role(name) ON DELETE CASCADE,
            assigned_at timestamptz NOT NULL,
            PRIMARY KEY (user_id, role_name)
        );
        CREATE TABLE IF NOT EXISTS user_mfa_totp (
            user_id uuid PRIMARY KEY REFERENCES app_user(id) ON DELETE CASCADE,
            secret_encrypted text NOT NULL,
            confirmed_at timestamptz,
            last_used_at timestamptz,
            created_at timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version text PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        """;

    /// <summary>Creates the tables and, when <c>app_user</c> is empty, fills them for <paramref name="tenant"/>. Returns
    /// false when data was already there.</summary>
    public static async Task<bool> EnsureAsync(NpgsqlConnectionStringBuilder connection, string tenant, int users, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(connection.ConnectionString);
        await conn.OpenAsync(ct);
        await ExecuteAsync(conn, Schema, ct);
        await using (var check = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM app_user)", conn))
        {
            if ((bool)(await check.ExecuteScalarAsync(ct))!)
            {
                return false;
            }
        }

        await FillAsync(conn, tenant, users, ct);
        return true;
    }

    /// <summary>Adds <paramref name="users"/> users with a password identity each (a Google one for every fifth), two
    /// refresh tokens and ≈2 sessions each, the three standard roles, and TOTP for a sixth of users.</summary>
    public static async Task FillAsync(NpgsqlConnection conn, string tenant, int users, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(users);
        // Ids are md5(tenant || kind || n) as uuids: stable across runs and distinct across tenants.
        var t = tenant.Replace("'", "''", StringComparison.Ordinal);
        var sql = $"""
            INSERT INTO schema_migrations (version, applied_at) VALUES
              ('0001_init', '2025-01-10T00:00:00Z'),
              ('0002_add_user_language', '2025-03-02T00:00:00Z'),
              ('0003_create_sessions', '2025-05-20T00:00:00Z'),
              ('0004_rbac_schema_fix', '2025-09-14T00:00:00Z')
              ON CONFLICT DO NOTHING;
            INSERT INTO rbac_role (name, description, permissions, system, created_at) VALUES
              ('admin', 'Tenant administrators', ARRAY['users:read','users:write','roles:write'], true, '2025-01-10T00:00:00Z'),
              ('member', 'Everyone', ARRAY['profile:read','profile:write'], true, '2025-01-10T00:00:00Z'),
              ('support', 'Help desk', ARRAY['users:read'], false, '2025-04-01T00:00:00Z')
              ON CONFLICT DO NOTHING;
            INSERT INTO app_user (id, email, email_verified, name, given_name, family_name, locale, status, profile, metadata, disabled_at, created_at, updated_at)
            SELECT md5('{t}user' || n)::uuid,
                   'user' || n || '@{t}.example',
                   n % 9 <> 0,
                   initcap((ARRAY['ada','grace','alan','edsger','barbara','donald','frances','ken'])[1 + n % 8]) || ' ' || initcap(substr(md5('{t}name' || n), 1, 7)),
                   initcap((ARRAY['ada','grace','alan','edsger','barbara','donald','frances','ken'])[1 + n % 8]),
                   initcap(substr(md5('{t}name' || n), 1, 7)),
                   (ARRAY['en','de','fr','es','pt'])[1 + n % 5],
                   CASE WHEN n % 101 = 0 THEN 'disabled' ELSE 'active' END,
                   jsonb_build_object('theme', (ARRAY['light','dark'])[1 + n % 2]),
                   jsonb_build_object('plan', (ARRAY['free','team','enterprise'])[1 + n % 3]),
                   CASE WHEN n % 101 = 0 THEN timestamptz '2026-02-01' END,
                   timestamptz '2025-01-10' + (n % 500) * interval '1 day' + (n % 86400) * interval '1 second',
                   timestamptz '2026-01-01' + (n % 86400) * interval '1 second'
            FROM generate_series(1, {users}) AS n;
            INSERT INTO identity (id, user_id, provider, provider_user_id, email, password_hash, created_at, updated_at)
            SELECT md5('{t}identity' || n)::uuid, md5('{t}user' || n)::uuid, 'password', NULL, 'user' || n || '@{t}.example',
                   '$argon2id$v=19$m=65536,t=3,p=4$' || substr(md5('{t}salt' || n), 1, 22) || '$' || md5('{t}hash' || n),
                   timestamptz '2025-01-10' + (n % 500) * interval '1 day', timestamptz '2026-01-01'
            FROM generate_series(1, {users}) AS n;
            INSERT INTO identity (id, user_id, provider, provider_user_id, email, password_hash, created_at, updated_at)
            SELECT md5('{t}google' || n)::uuid, md5('{t}user' || n)::uuid, 'google', (100000000000 + n)::text, 'user' || n || '@{t}.example', NULL,
                   timestamptz '2025-02-01' + (n % 400) * interval '1 day', timestamptz '2026-01-01'
            FROM generate_series(5, {users}, 5) AS n;
            INSERT INTO refresh_token (id, user_id, client_id_text, token_hash, issued_at, expires_at, revoked_at)
            SELECT md5('{t}refresh' || u || '-' || k)::uuid, md5('{t}user' || u)::uuid, (ARRAY['web','ios','android'])[1 + (u + k) % 3],
                   encode(sha256(('{t}rt' || u || '-' || k)::bytea), 'hex'),
                   timestamptz '2026-01-01' + (u % 200) * interval '1 day',
                   timestamptz '2026-01-01' + (u % 200 + 30) * interval '1 day',
                   CASE WHEN (u + k) % 7 = 0 THEN timestamptz '2026-02-01' END
            FROM generate_series(1, {users}) AS u, generate_series(1, 2) AS k;
            INSERT INTO sessions (id, user_id, session_id_hash, ip_address, user_agent, created_at, last_activity, expires_at, revoked_at)
            SELECT md5('{t}session' || u || '-' || k)::uuid, md5('{t}user' || u)::uuid,
                   encode(sha256(('{t}sid' || u || '-' || k)::bytea), 'hex'),
                   ('10.' || (u % 250) || '.' || (k * 11 % 250) || '.' || (u * 7 % 250))::inet,
                   (ARRAY['Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1'])[1 + (u + k) % 2],
                   timestamptz '2026-01-01' + (u % 300) * interval '1 day',
                   timestamptz '2026-01-01' + (u % 300) * interval '1 day' + (k * 37) * interval '1 minute',
                   timestamptz '2026-01-01' + (u % 300 + 14) * interval '1 day',
                   CASE WHEN (u + k) % 13 = 0 THEN timestamptz '2026-02-01' END
            FROM generate_series(1, {users}) AS u, generate_series(1, 1 + u % 3) AS k;
            INSERT INTO rbac_user_role (user_id, role_name, assigned_at)
            SELECT md5('{t}user' || n)::uuid, CASE WHEN n % 50 = 1 THEN 'admin' WHEN n % 17 = 0 THEN 'support' ELSE 'member' END,
                   timestamptz '2025-02-01' + (n % 300) * interval '1 day'
            FROM generate_series(1, {users}) AS n;
            INSERT INTO user_mfa_totp (user_id, secret_encrypted, confirmed_at, last_used_at, created_at)
            SELECT md5('{t}user' || n)::uuid, encode(sha256(('{t}totp' || n)::bytea), 'base64'),
                   timestamptz '2025-06-01' + (n % 200) * interval '1 day', timestamptz '2026-03-01' + (n % 60) * interval '1 day',
                   timestamptz '2025-06-01' + (n % 200) * interval '1 day'
            FROM generate_series(6, {users}, 6) AS n;
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
