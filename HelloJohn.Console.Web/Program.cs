using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddConsoleCore();
builder.AddConsoleWeb();

var app = builder.Build();
if (AccountUnlockCommand.Requested(args, out var email))
{
    return await AccountUnlockCommand.RunAsync(app.Services, email, System.Console.Out);
}

app.UseConsoleWeb();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
