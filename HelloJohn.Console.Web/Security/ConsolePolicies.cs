using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Authorization;

namespace HelloJohn.Console.Web.Security;

/// <summary>Authorization policies named after Core permissions, so a page and the service it calls agree.</summary>
public static class ConsolePolicies
{
    public const string Viewer = "perm:ViewHistory";
    public const string JobsDashboard = "perm:ViewJobsDashboard";

    public static string For(ConsolePermission permission) => "perm:" + permission;

    public static AuthorizationOptions AddConsolePolicies(this AuthorizationOptions options)
    {
        foreach (var permission in Enum.GetValues<ConsolePermission>())
        {
            var roles = ConsoleRoles.All.Where(r => ConsolePermissions.RoleHas(r, permission)).ToArray();
            options.AddPolicy(For(permission), p => p.RequireAuthenticatedUser().RequireRole(roles));
        }

        // Every page needs at least a signed-in Viewer unless it opts out with [AllowAnonymous].
        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(ConsoleRoles.All).Build();
        return options;
    }
}
