using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Web.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddConsoleCore();
builder.AddConsoleWeb();

var app = builder.Build();
app.UseConsoleWeb();
app.Run();

/// <summary>Entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
