using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Api;

/// <summary>A person creates a personal API token in the console and a script uses it: lists runs, takes a backup and
/// follows it to the end. The token is shown once.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class ApiTokenFlowTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task Token_CreatedInTheConsole_DrivesABackupFromAScript()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        var page = app.Page;
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.NavigationLink("API tokens").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API tokens", Exact = true })).ToBeVisibleAsync();
        await app.WaitUntilLiveAsync();

        await page.GetByLabel("Name").FillAsync("e2e script");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var value = page.GetByTestId("token-value");
        await Assertions.Expect(value).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^hjc_"));
        var token = await value.InputValueAsync();
        await Assertions.Expect(page.GetByTestId("token-row")).ToContainTextAsync(token[..12]);
        await server.ScreenshotAsync(page, "api-token-created");

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/runs")).StatusCode);
        using var queued = await http.PostAsJsonAsync("/api/v1/backups/", new { });
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        var location = (await queued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("location").GetString()!;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        string status;
        do
        {
            await Task.Delay(500);
            status = (await http.GetFromJsonAsync<JsonElement>(location)).GetProperty("backup").GetProperty("status").GetString()!;
            Assert.True(DateTime.UtcNow < deadline, $"The backup is still {status} after three minutes.");
        }
        while (status is "Queued" or "Running");
        Assert.Equal("Succeeded", status);

        // Without the token, or with the browser's session alone, the API says who it wants.
        using var anonymous = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/runs")).StatusCode);

        // The page opened again lists the token by its prefix only, with its last use.
        await page.ReloadAsync();
        await app.WaitUntilLiveAsync();
        await Assertions.Expect(page.GetByTestId("token-row")).ToContainTextAsync("from");
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GotoAsync("/api/v1/reference/v1");
        await Assertions.Expect(page.GetByText("HelloJohn Console API").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("/api/v1/backups").First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(server.ScreenshotDirectory, "api-reference.png") });
        await page.GotoAsync("/settings");
        await app.WaitUntilLiveAsync();
        await page.GetByTestId("notifications-header").ScrollIntoViewIfNeededAsync();
        await server.ScreenshotAsync(page, "settings-notifications");
    }
}
