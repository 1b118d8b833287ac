namespace HelloJohn.Console.Core.Postgres;

/// <summary>Whether a database is HelloJohn's, and why the console thinks so.</summary>
public sealed record HelloJohnRecognition(bool IsHelloJohn, string Evidence);

/// <summary>Recognises a HelloJohn database by what it holds, never by one table name: HelloJohn's schema changes
/// between versions, its documentation still shows the seed's <c>hj_*</c> tables while the current schema has
/// <c>app_user</c>, <c>identity</c>, <c>sessions</c>…, and the console is pointed at databases it has never seen. The
/// best evidence is the backup's own manifest (the tables that database held when it was dumped); failing that, enough
/// tables of either known layout.</summary>
public static class HelloJohnSchema
{
    /// <summary>The layout HelloJohn's backup documentation and the console's demo database use.</summary>
    public static IReadOnlyList<string> DocumentedLayout { get; } =
        ["hj_user", "hj_session", "hj_organization", "hj_organization_member", "hj_mfa_factor", "hj_signing_key", "hj_schema_migrations"];

    /// <summary>HelloJohn's current schema.</summary>
    public static IReadOnlyList<string> CurrentLayout { get; } =
        ["app_user", "identity", "refresh_token", "sessions", "schema_migrations", "rbac_role", "user_mfa_totp"];

    /// <summary>How many tables of one layout make it HelloJohn's: one name could be anyone's.</summary>
    public const int TablesNeeded = 3;

    /// <summary>Decides from <paramref name="present"/> (names as <c>schema.table</c> or bare names of public tables) and,
    /// when known, the tables a backup's manifest says the database held.</summary>
    public static HelloJohnRecognition Recognize(IEnumerable<string> present, IReadOnlyCollection<string>? manifestTables = null, string? manifestOf = null)
    {
        var tables = present.Select(Bare).ToHashSet(StringComparer.Ordinal);
        if (manifestTables is { Count: > 0 })
        {
            var missing = manifestTables.Select(Bare).Where(t => !tables.Contains(t)).Order(StringComparer.Ordinal).ToList();
            if (missing.Count == 0)
            {
                return new(true, $"it holds all {manifestTables.Count} tables that {manifestOf ?? "the backup's manifest"} lists");
            }

            if (Layout(tables) is null)
            {
                return new(false, $"it lacks {Sample(missing)} of the {manifestTables.Count} tables that {manifestOf ?? "the backup's manifest"} lists, and " + NotALayout());
            }
        }

        return Layout(tables) is { } found
            ? new(true, $"it holds HelloJohn's tables {Sample(found.Tables)} ({found.Name})")
            : new(false, NotALayout());
    }

    /// <summary>Orders HelloJohn's user table first and its sessions second, in either layout, for reading.</summary>
    public static int DisplayRank(string schema, string table) => (schema, table) switch
    {
        ("public", "hj_user" or "app_user") => 0,
        ("public", "hj_session" or "sessions") => 1,
        _ => 2,
    };

    private static (string Name, List<string> Tables)? Layout(HashSet<string> tables)
    {
        foreach (var (name, layout) in new[] { ("the current schema", CurrentLayout), ("the documented layout", DocumentedLayout) })
        {
            var held = layout.Where(tables.Contains).ToList();
            if (held.Count >= TablesNeeded)
            {
                return (name, held);
            }
        }

        return null;
    }

    private static string NotALayout() =>
        $"it has fewer than {TablesNeeded} of HelloJohn's tables in either layout (current: {string.Join(", ", CurrentLayout)}; documented: {string.Join(", ", DocumentedLayout)})";

    private static string Bare(string name) => name.StartsWith("public.", StringComparison.Ordinal) ? name["public.".Length..] : name;

    private static string Sample(IReadOnlyList<string> names) =>
        names.Count <= 5 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(5))} and {names.Count - 5} more";
}
