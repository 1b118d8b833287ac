using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Tests.Security;

/// <summary>Query parameters are whatever someone typed or pasted into a link: no page answers a malformed one with a
/// server error. (Part of the matrix's class, to share its console.)</summary>
public sealed partial class AuthorizationMatrixTests
{
    private static readonly string[] Hostile = ["../../etc/passwd", "%00", "<script>alert(1)</script>", "99999999999999999999", "'; DROP TABLE backups; --"];

    /// <summary>Every routable page with the query parameters it reads.</summary>
    private static List<(Type Page, string Route, List<(string Name, Type Type)> Parameters)> Pages() =>
        [.. typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (Page: t, Route: r.Template)))
            .Select(p => (p.Page, p.Route, p.Page.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                .Select(prop => (prop, attr: prop.GetCustomAttribute<SupplyParameterFromQueryAttribute>()))
                .Where(x => x.attr is not null)
                .Select(x => (x.attr!.Name ?? x.prop.Name, x.prop.PropertyType))
                .ToList()))];

    [Fact]
    public void EveryQueryParameter_IsTakenAsText()
    {
        // A typed one (a Guid, a number) makes the framework throw before the page can say anything.
        var typed = Pages().SelectMany(p => p.Parameters.Where(q => q.Type != typeof(string)).Select(q => $"{p.Route}?{q.Name} ({q.Type.Name})")).ToList();

        Assert.Contains(Pages(), p => p.Route == "/restores" && p.Parameters.Any(q => q.Name == "backup"));
        Assert.True(typed.Count == 0, "Query parameters bound to a type other than string: " + string.Join(", ", typed));
    }

    [Fact]
    public async Task EveryPage_WithMalformedQueryParameters_AnswersWithoutAServerError()
    {
        using var client = await app.SignedInClientAsync(await app.AdminAsync());
        var checkedRequests = 0;
        foreach (var (page, route, parameters) in Pages())
        {
            var path = RouteValue().Replace(route, Guid.Empty.ToString());
            foreach (var value in Hostile)
            {
                var query = string.Join('&', parameters.Select(p => p.Name).Append("unknown").Select(n => $"{n}={Uri.EscapeDataString(value)}"));
                using var response = await client.GetAsync($"{path}?{query}");
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Found,
                    $"{path}?{query} ({page.Name}) answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                checkedRequests++;
            }
        }

        Assert.True(checkedRequests >= 50, $"Only {checkedRequests} requests were made.");
        var restores = WebUtility.HtmlDecode(await client.GetStringAsync("/restores?backup=" + Uri.EscapeDataString("../../etc/passwd")));
        Assert.Contains("The link asks for the backup \"../../etc/passwd\", which is not a backup id; it was ignored.", restores, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\{\w+:guid\}")]
    private static partial Regex RouteValue();
}
