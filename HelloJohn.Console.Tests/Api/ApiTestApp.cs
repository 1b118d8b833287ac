using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Security.ApiTokens;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Tests.Api;

/// <summary>The real console for API tests. A request may say which client address it comes from (X-Test-Client), so
/// each test's refused tokens count against an address of its own.</summary>
public class ApiTestApp : SecurityAppFactory
{
    public const string ClientHeader = "X-Test-Client";

    public ApiTestApp(PostgresClusterFixture postgres) : base(postgres)
    {
        Settings["Api:BadTokensPerMinute"] = "10";
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter, ClientAddressFromHeader>());
    }

    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(context.Request.Headers[ClientHeader].FirstOrDefault() ?? "127.0.0.1");
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    public async Task<string> TokenForAsync(TestAccount account, string name = "tests") =>
        (await Service<ApiTokenService>().CreateAsync(account.Actor, name, DateTimeOffset.UtcNow.AddDays(7), CancellationToken.None)).Token;

    /// <summary>A client sending <paramref name="token"/> (none when null) from <paramref name="address"/>.</summary>
    public HttpClient ApiClient(string? token, string address = "127.0.0.1")
    {
        var client = NewClient();
        client.DefaultRequestHeaders.Add(ClientHeader, address);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        else if (method == "POST")
        {
            request.Content = JsonContent.Create(new { });
        }

        return await client.SendAsync(request);
    }
}
