namespace HelloJohn.Console.Web.Components;

/// <summary>A page's query parameters are whatever someone typed or pasted: pages take them as text and read them here,
/// so a malformed one is ignored with a message instead of failing the page.</summary>
internal static class QueryParameter
{
    private const int ShownLength = 60;

    /// <summary>The id in <paramref name="raw"/>, or null with <paramref name="problem"/> saying why it was ignored.</summary>
    public static Guid? Id(string? raw, string what, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        if (Guid.TryParse(raw.Trim(), out var id))
        {
            return id;
        }

        var shown = raw.Length > ShownLength ? raw[..ShownLength] + "…" : raw;
        problem = $"The link asks for the {what} \"{shown}\", which is not a {what} id; it was ignored. Pick the {what} from the list instead.";
        return null;
    }
}
