using System.Security.Cryptography;
using System.Text;
using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Core.Sets;

/// <summary>The server's roles as <c>pg_dumpall --globals-only</c> writes them. With passwords it holds their hashes:
/// kept like a backup file, never shown, downloaded by administrators only.</summary>
/// <param name="WithPasswords">False when the connecting role may not read the password hashes (a role that is not a
/// superuser, a managed provider): the roles and their attributes are kept, their passwords are not.</param>
public sealed record RolesDump(byte[] Content, string Sha256, bool WithPasswords, string? Note);

/// <summary>What restoring the backed-up roles would do to one role of a server.</summary>
public sealed record RoleChange(string Role, RoleChangeKind Kind, string Detail);

public enum RoleChangeKind
{
    /// <summary>Missing on the server: it would be created.</summary>
    Create,
    /// <summary>Present with other attributes (or a backed-up password to set): they would be changed.</summary>
    Change,
    /// <summary>Present and alike: nothing to do.</summary>
    Same,
}

/// <summary>Dumps a server's roles, and restores them only after saying what would change.</summary>
public sealed class ServerRoles(IPgToolRunner runner)
{
    private static readonly string[] Attributes =
        ["SUPERUSER", "INHERIT", "CREATEROLE", "CREATEDB", "LOGIN", "REPLICATION", "BYPASSRLS"];

    /// <summary>Runs <c>pg_dumpall --globals-only</c> through <paramref name="connection"/>'s database; when the role
    /// may not read password hashes, again with <c>--no-role-passwords</c>, and says so.</summary>
    public async Task<RolesDump> DumpAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        var (result, content) = await RunAsync(connection, withPasswords: true, ct);
        if (result.Succeeded)
        {
            return new RolesDump(content, Hash(content), true, null);
        }

        if (!result.StandardError.Contains("permission denied", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"pg_dumpall --globals-only failed: {result.ErrorSummary}");
        }

        (result, content) = await RunAsync(connection, withPasswords: false, ct);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"pg_dumpall --globals-only failed: {result.ErrorSummary}");
        }

        return new RolesDump(content, Hash(content), false,
            $"Role passwords are not included: {connection.Username} may not read them (only a superuser may). The roles and their attributes are kept.");
    }

    private async Task<(PgToolResult, byte[])> RunAsync(NpgsqlConnectionStringBuilder connection, bool withPasswords, CancellationToken ct)
    {
        using var output = new MemoryStream();
        List<string> args = ["--globals-only", "--no-password", "--database", connection.Database ?? "postgres"];
        if (!withPasswords)
        {
            args.Add("--no-role-passwords");
        }

        var result = await runner.RunAsync(new PgToolInvocation("pg_dumpall", args) { Connection = connection, StandardOutput = output }, ct);
        return (result, output.ToArray());
    }

    private static string Hash(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>What applying <paramref name="dump"/> to the server behind <paramref name="connection"/> would do, role by
    /// role. Nothing is changed.</summary>
    public static async Task<IReadOnlyList<RoleChange>> PlanAsync(byte[] dump, NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        var roles = Parse(dump);
        var present = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        await using (var conn = new NpgsqlConnection(connection.ConnectionString))
        {
            await conn.OpenAsync(ct);
            const string sql = """
                SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls FROM pg_roles
                """;
            await using var cmd = new NpgsqlCommand(sql, conn);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var flags = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < Attributes.Length; i++)
                {
                    flags.Add((reader.GetBoolean(i + 1) ? "" : "NO") + Attributes[i]);
                }

                present[reader.GetString(0)] = flags;
            }
        }

        var changes = new List<RoleChange>();
        foreach (var role in roles.Values.OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            var wanted = role.Flags.Where(f => Attributes.Contains(f.StartsWith("NO", StringComparison.Ordinal) ? f[2..] : f)).ToList();
            if (!present.TryGetValue(role.Name, out var flags))
            {
                changes.Add(new RoleChange(role.Name, RoleChangeKind.Create,
                    $"would be created: {string.Join(' ', wanted)}{(role.HasPassword ? ", with its backed-up password" : ", without a password")}"));
                continue;
            }

            var differ = wanted.Where(f => !flags.Contains(f)).ToList();
            var parts = new List<string>();
            if (differ.Count > 0)
            {
                parts.Add($"attributes would become {string.Join(' ', differ)}");
            }

            if (role.HasPassword)
            {
                parts.Add("its password would be set to the backed-up one");
            }

            changes.Add(parts.Count == 0
                ? new RoleChange(role.Name, RoleChangeKind.Same, "present with the same attributes")
                : new RoleChange(role.Name, RoleChangeKind.Change, string.Join("; ", parts)));
        }

        return changes;
    }

    /// <summary>Applies the backed-up statements of <paramref name="only"/> roles (creating missing ones, setting
    /// attributes, passwords and per-role settings) in one transaction: all of them or none.</summary>
    public static async Task ApplyAsync(byte[] dump, NpgsqlConnectionStringBuilder connection, IReadOnlyCollection<string> only, CancellationToken ct)
    {
        var roles = Parse(dump);
        await using var conn = new NpgsqlConnection(connection.ConnectionString);
        await conn.OpenAsync(ct);
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("SELECT rolname FROM pg_roles", conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                existing.Add(reader.GetString(0));
            }
        }

        var chosen = only.Select(name => roles.TryGetValue(name, out var role)
            ? role
            : throw new InvalidOperationException($"The backed-up roles hold no role named {name}; nothing was changed.")).ToList();
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Every role first, then memberships, which need both of their roles.
        var statements = chosen.SelectMany(r => r.Statements.Where(s => !s.StartsWith("GRANT ", StringComparison.Ordinal) && !(existing.Contains(r.Name) && s.StartsWith("CREATE ROLE", StringComparison.Ordinal))))
            .Concat(chosen.SelectMany(r => r.Statements.Where(s => s.StartsWith("GRANT ", StringComparison.Ordinal))));
        foreach (var statement in statements)
        {
            await using var cmd = new NpgsqlCommand(statement, conn, tx);
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
    }

    /// <summary>The roles of a globals dump, each with its statements (CREATE ROLE, ALTER ROLE … WITH, ALTER ROLE … SET)
    /// and the attributes of its WITH clause.</summary>
    internal static Dictionary<string, BackedUpRole> Parse(byte[] dump)
    {
        var roles = new Dictionary<string, BackedUpRole>(StringComparer.Ordinal);
        foreach (var raw in Encoding.UTF8.GetString(dump).Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("GRANT ", StringComparison.Ordinal) && line.EndsWith(';'))
            {
                AddMembership(roles, line);
                continue;
            }

            var prefix = line.StartsWith("CREATE ROLE ", StringComparison.Ordinal) ? "CREATE ROLE "
                : line.StartsWith("ALTER ROLE ", StringComparison.Ordinal) ? "ALTER ROLE " : null;
            if (prefix is null || !line.EndsWith(';'))
            {
                continue;
            }

            var (name, rest) = ReadIdentifier(line[prefix.Length..]);
            if (!roles.TryGetValue(name, out var role))
            {
                role = new BackedUpRole(name);
                roles[name] = role;
            }

            role.Statements.Add(line);
            if (rest.StartsWith(" WITH ", StringComparison.Ordinal))
            {
                var clause = rest[" WITH ".Length..].TrimEnd(';');
                var password = clause.IndexOf(" PASSWORD ", StringComparison.Ordinal);
                role.HasPassword |= password >= 0;
                var flags = password >= 0 ? clause[..password] : clause;
                role.Flags.AddRange(flags.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return roles;
    }

    /// <summary>A membership (<c>GRANT parent TO member</c>) belongs to its member; who granted it is left to the server.</summary>
    private static void AddMembership(Dictionary<string, BackedUpRole> roles, string line)
    {
        var (_, afterParent) = ReadIdentifier(line["GRANT ".Length..]);
        if (!afterParent.StartsWith(" TO ", StringComparison.Ordinal))
        {
            return;
        }

        var (member, _) = ReadIdentifier(afterParent[" TO ".Length..]);
        var grantedBy = line.IndexOf(" GRANTED BY ", StringComparison.Ordinal);
        var statement = grantedBy < 0 ? line : line[..grantedBy] + ";";
        if (roles.TryGetValue(member, out var role))
        {
            role.Statements.Add(statement);
        }
    }

    private static (string Name, string After) ReadIdentifier(string text)
    {
        if (!text.StartsWith('"'))
        {
            var end = text.IndexOfAny([' ', ';']);
            return end < 0 ? (text, "") : (text[..end], text[end..]);
        }

        var name = new StringBuilder();
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == '"')
            {
                if (i + 1 < text.Length && text[i + 1] == '"')
                {
                    name.Append('"');
                    i++;
                    continue;
                }

                return (name.ToString(), text[(i + 1)..]);
            }

            name.Append(text[i]);
        }

        return (name.ToString(), "");
    }

    internal sealed class BackedUpRole(string name)
    {
        public string Name { get; } = name;
        public List<string> Statements { get; } = [];
        public List<string> Flags { get; } = [];
        public bool HasPassword { get; set; }
    }
}
