using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Authorization;

namespace HelloJohn.Console.Web.Security;

/// <summary>Authorization policies named after Core permissions, so a page and the service it calls agree.</summary>
public static class ConsolePolicies
{
    private const string Prefix = "perm:";

    public const string Viewer = Prefix + nameof(ConsolePermission.ViewHistory);
    public const string ViewAuditTrail = Prefix + nameof(ConsolePermission.ViewAuditTrail);
    public const string ManageUsers = Prefix + nameof(ConsolePermission.ManageUsers);
    public const string ManageSettings = Prefix + nameof(ConsolePermission.ManageSettings);
    public const string JobsDashboard = Prefix + nameof(ConsolePermission.ViewJobsDashboard);

    public static string For(ConsolePermission permission) => Prefix + permission;

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
