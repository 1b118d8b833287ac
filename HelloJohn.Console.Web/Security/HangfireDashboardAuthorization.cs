using Hangfire.Dashboard;

namespace HelloJohn.Console.Web.Security;

/// <summary>Hangfire's dashboard asks its own filters too; this one defers to the endpoint's authorization policy,
/// which has already admitted only Admins (see MapHangfireDashboard().RequireAuthorization).</summary>
internal sealed class HangfireDashboardAuthorization : IDashboardAsyncAuthorizationFilter
{
    public Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var user = context.GetHttpContext().User;
        return Task.FromResult(user.Identity?.IsAuthenticated == true && user.IsInRole(HelloJohn.Console.Core.Security.ConsoleRoles.Admin));
    }
}
