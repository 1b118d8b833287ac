using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Backups;

/// <summary>The demo deployment is a control-plane database and three tenant databases: Back up now takes a set of all
/// four and the server's roles; expanding the set shows each member with its file, size and schema version.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class BackupSetFlowTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task BackUpNow_DemoDeployment_SetOfEveryDatabaseWithItsMembers()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Backups");

        var setName = await app.BackUpSetAndWaitAsync();
        await Assertions.Expect(app.SetRow(setName).GetByTestId("set-members-count")).ToHaveTextAsync("4 of 4 kept");
        await app.ExpandSetAsync(setName);

        foreach (var database in new[] { "hellojohn", "hellojohn_tenant_acme", "hellojohn_tenant_globex", "hellojohn_tenant_initech" })
        {
            await Assertions.Expect(app.MemberRow(database).GetByTestId("member-status")).ToHaveTextAsync("succeeded");
        }

        await Assertions.Expect(app.MemberRow("hellojohn_tenant_acme")).ToContainTextAsync("schema_migrations:0004_rbac_schema_fix");
        await Assertions.Expect(app.Page.GetByTestId("set-roles")).ToContainTextAsync("kept");
        await server.ScreenshotAsync(app.Page, "backups-set-expanded");

        await app.OpenAsync("Dashboard");
        var deployment = app.Page.GetByTestId("deployment-overview").First;
        await Assertions.Expect(deployment.GetByTestId("databases-protected")).ToHaveTextAsync("4");
        await Assertions.Expect(deployment.GetByTestId("newest-good-set")).ToContainTextAsync("hellojohn_set_");
        await server.ScreenshotAsync(app.Page, "dashboard-deployments");
    }
}
