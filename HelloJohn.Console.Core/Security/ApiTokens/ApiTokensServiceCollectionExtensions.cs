using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Security.ApiTokens;

public static class ApiTokensServiceCollectionExtensions
{
    /// <summary>Personal API tokens (create, list, revoke, check).</summary>
    public static IServiceCollection AddApiTokens(this IServiceCollection services) => services.AddSingleton<ApiTokenService>();
}
