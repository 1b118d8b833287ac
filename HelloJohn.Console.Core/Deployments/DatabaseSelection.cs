using System.Text.RegularExpressions;

namespace HelloJohn.Console.Core.Deployments;

/// <summary>Which databases of a server a deployment protects: names listed one by one and/or name patterns, where
/// <c>*</c> stands for any run of characters and <c>?</c> for one (<c>hellojohn_tenant_*</c>). Evaluated again at every
/// run, so a database created since the last one is protected from its first night. Names are case-sensitive, as
/// PostgreSQL's are.</summary>
public sealed record DatabaseSelection(IReadOnlyList<string> Databases, IReadOnlyList<string> Patterns)
{
    /// <summary>PostgreSQL truncates identifiers longer than this many bytes.</summary>
    public const int MaxNameBytes = 63;

    public static DatabaseSelection Empty { get; } = new([], []);

    public bool IsEmpty => Databases.Count == 0 && Patterns.Count == 0;

    /// <summary>Reads names or patterns written one per line or separated by commas; blanks and repeats are dropped.</summary>
    public static IReadOnlyList<string> SplitList(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? []
            : [.. text.Split([',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];

    /// <summary>A selection from what a person typed: explicit names and patterns, each one per line or comma-separated.</summary>
    public static DatabaseSelection From(string? databases, string? patterns) => new(SplitList(databases), SplitList(patterns));

    public static bool IsPattern(string value) => value.Contains('*') || value.Contains('?');

    /// <summary>Why this selection cannot be saved as written (a name too long, a pattern without a wildcard), one
    /// sentence per problem; empty when it can.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var name in Databases)
        {
            if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            {
                problems.Add($"'{name}' is longer than PostgreSQL's {MaxNameBytes}-byte limit for a database name.");
            }
            else if (IsPattern(name))
            {
                problems.Add($"'{name}' has a wildcard: put it under patterns, or remove the * and ? to name one database.");
            }
        }

        foreach (var pattern in Patterns)
        {
            if (!IsPattern(pattern))
            {
                problems.Add($"The pattern '{pattern}' has no * or ?: list it under databases to protect exactly that one.");
            }
            else if (System.Text.Encoding.UTF8.GetByteCount(pattern.Replace("*", "", StringComparison.Ordinal)) > MaxNameBytes)
            {
                problems.Add($"The pattern '{pattern}' can match no database: its fixed characters exceed PostgreSQL's {MaxNameBytes}-byte limit.");
            }
        }

        return problems;
    }

    /// <summary>Whether <paramref name="database"/> is listed or matched by a pattern.</summary>
    public bool Selects(string database) => Databases.Contains(database, StringComparer.Ordinal) || Patterns.Any(p => Matches(p, database));

    /// <summary>What selects <paramref name="database"/>: "listed", or the first pattern that matches it; null when none does.</summary>
    public string? SelectedBy(string database) =>
        Databases.Contains(database, StringComparer.Ordinal) ? "listed" : Patterns.FirstOrDefault(p => Matches(p, database));

    public static bool Matches(string pattern, string name) => GlobRegex(pattern).IsMatch(name);

    /// <summary>Whether some database name could be selected by both selections: a name listed by both, a name of one
    /// matched by a pattern of the other, or two patterns some name matches at once (<c>hellojohn_*</c> and
    /// <c>*_tenant_*</c> do). Returns what they share, in words, or null.</summary>
    public string? OverlapWith(DatabaseSelection other)
    {
        foreach (var name in Databases)
        {
            if (other.Selects(name))
            {
                return $"the database {name}";
            }
        }

        foreach (var name in other.Databases)
        {
            if (Selects(name))
            {
                return $"the database {name}";
            }
        }

        foreach (var mine in Patterns)
        {
            foreach (var theirs in other.Patterns)
            {
                if (PatternsIntersect(mine, theirs))
                {
                    return mine == theirs ? $"the pattern {mine}" : $"names matched by both {mine} and {theirs}";
                }
            }
        }

        return null;
    }

    /// <summary>Whether one name matches both glob patterns: a walk over both patterns at once, where a <c>*</c> may
    /// stay put while the other side moves on.</summary>
    public static bool PatternsIntersect(string a, string b)
    {
        var memo = new Dictionary<(int, int), bool>();
        bool Walk(int i, int j)
        {
            if (memo.TryGetValue((i, j), out var known))
            {
                return known;
            }

            bool result;
            if (i == a.Length && j == b.Length)
            {
                result = true;
            }
            else if (i < a.Length && a[i] == '*')
            {
                // a's star matches nothing, or swallows the character b produces next.
                result = Walk(i + 1, j) || (j < b.Length && Walk(i, j + 1));
            }
            else if (j < b.Length && b[j] == '*')
            {
                result = Walk(i, j + 1) || (i < a.Length && Walk(i + 1, j));
            }
            else if (i < a.Length && j < b.Length)
            {
                result = (a[i] == b[j] || a[i] == '?' || b[j] == '?') && Walk(i + 1, j + 1);
            }
            else
            {
                result = false;
            }

            memo[(i, j)] = result;
            return result;
        }

        return Walk(0, 0);
    }

    private static Regex GlobRegex(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));

    public override string ToString() =>
        string.Join(", ", Databases.Concat(Patterns)) is { Length: > 0 } all ? all : "nothing";
}
