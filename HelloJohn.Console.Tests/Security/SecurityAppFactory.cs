using System.Net;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Security;

/// <summary>The real console, with sessions re-checked against the database on every request (so a disable or a role
/// change is visible on the very next request, without waiting), and helpers to create accounts of each role and sign
/// them in over HTTP exactly as a browser does (antiforgery token, form post, cookie).</summary>
public partial class SecurityAppFactory : ConsoleAppFactory
{
    public SecurityAppFactory(PostgresClusterFixture postgres) : base(postgres)
    {
        Settings["Security:SessionRevalidationInterval"] = "00:00:00";
    }

    /// <summary>Its tests make the accounts they need: a seeded Admin would change who the only administrator is and
    /// close the setup page.</summary>
    protected override bool SeedsTestAccounts => false;

    /// <summary>Every password a test has used, so a test can prove none reached the audit trail or the log.</summary>
    public HashSet<string> PasswordsUsed { get; } = [AdminPassword];


    /// <summary>The administrator created from the environment at start.</summary>
    public async Task<TestAccount> AdminAsync()
    {
        await using var db = await DbAsync();
        var admin = await db.Users.SingleAsync(u => u.Email == AdminEmail);
        return new TestAccount(admin.Id, AdminEmail, AdminPassword, ConsoleRoles.Admin);
    }

    public async Task<TestAccount> CreateAccountAsync(string role, string? name = null)
    {
        var email = $"{name ?? role.ToLowerInvariant()}-{Guid.NewGuid():N}"[..24] + "@example.test";
        var password = $"Pw-{Guid.NewGuid():N}"[..20] + "aA1!";
        PasswordsUsed.Add(password);
        var id = await Service<UserAdministrationService>().CreateAsync(Actor.System, new NewConsoleUser(email, null, role, password), CancellationToken.None);
        // An account whose owner already replaced the administrator's password (the first-sign-in change has its own tests).
        await using var db = await DbAsync();
        await db.Users.Where(u => u.Id == id).ExecuteUpdateAsync(u => u.SetProperty(x => x.MustChangePassword, false));
        return new TestAccount(id, email, password, role);
    }

    public HttpClient NewClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri("http://localhost") });

    /// <summary>Posts the sign-in form like a browser; returns where the console sends the browser next.</summary>
    public async Task<string> PostSignInAsync(HttpClient client, string email, string password, string? returnUrl = null)
    {
        PasswordsUsed.Add(password);
        var form = await FormFieldsAsync(client, "/signin");
        form["email"] = email;
        form["password"] = password;
        form["returnUrl"] = returnUrl ?? "";
        using var response = await client.PostAsync("/account/signin", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }

    /// <summary>A client holding a signed-in session of <paramref name="account"/>.</summary>
    public async Task<HttpClient> SignedInClientAsync(TestAccount account)
    {
        var client = NewClient();
        var next = await PostSignInAsync(client, account.Email, account.Password);
        Assert.Equal("/", next);
        return client;
    }

    /// <summary>The hidden fields (antiforgery token, form name) of the page at <paramref name="path"/>.</summary>
    public static async Task<Dictionary<string, string>> FormFieldsAsync(HttpClient client, string path)
    {
        var html = await client.GetStringAsync(path);
        var fields = new Dictionary<string, string>();
        foreach (Match input in HiddenInput().Matches(html))
        {
            var name = Attribute(input.Value, "name");
            if (name is not null)
            {
                fields[name] = Attribute(input.Value, "value") ?? "";
            }
        }

        Assert.True(fields.ContainsKey("__RequestVerificationToken"), $"{path} has no antiforgery token.");
        return fields;
    }

    public async Task<ConsoleDbContext> DbAsync() => await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();

    /// <summary>The audit events written after <paramref name="afterId"/>.</summary>
    public async Task<List<AuditEvent>> AuditSinceAsync(long afterId)
    {
        await using var db = await DbAsync();
        return await db.AuditEvents.AsNoTracking().Where(e => e.Id > afterId).OrderBy(e => e.Id).ToListAsync();
    }

    public async Task<long> LastAuditIdAsync()
    {
        await using var db = await DbAsync();
        return await db.AuditEvents.MaxAsync(e => (long?)e.Id) ?? 0;
    }

    /// <summary>Fails when any audit event or log line holds a password a test used.</summary>
    public async Task AssertNoPasswordLeakedAsync()
    {
        await using var db = await DbAsync();
        var events = await db.AuditEvents.AsNoTracking().ToListAsync();
        var logs = Logs.AllText;
        foreach (var password in PasswordsUsed.Where(p => p.Length > 0))
        {
            var leaked = events.FirstOrDefault(e => $"{e.Actor}|{e.Target}|{e.Detail}".Contains(password, StringComparison.Ordinal));
            Assert.True(leaked is null, $"Audit event {leaked?.Id} ({leaked?.Action}) holds a password.");
            Assert.DoesNotContain(password, logs, StringComparison.Ordinal);
        }
    }

    private static string? Attribute(string tag, string name)
    {
        var m = Regex.Match(tag, $@"\b{name}=""([^""]*)""");
        return m.Success ? WebUtility.HtmlDecode(m.Groups[1].Value) : null;
    }

    [GeneratedRegex(@"<input\b[^>]*\btype=""hidden""[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex HiddenInput();
}

public sealed record TestAccount(string Id, string Email, string Password, string Role)
{
    public Actor Actor => new(Id, Email, [Role]);
}
