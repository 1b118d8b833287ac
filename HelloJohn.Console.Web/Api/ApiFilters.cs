using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Security;

namespace HelloJohn.Console.Web.Api;

/// <summary>What every API endpoint shares: the Core services' refusals as RFC 7807 problems with their own words, and
/// an audit record for every call that changes something or reads a backup's bytes.</summary>
internal static class ApiFilters
{
    public static async ValueTask<object?> ProblemsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (PermissionDeniedException e)
        {
            return Results.Problem(e.Message + " Nothing was run.", statusCode: StatusCodes.Status403Forbidden, title: "Not allowed for this role");
        }
        catch (KeyNotFoundException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
        catch (Exception e) when (e is RestoreRefusedException or InvalidOperationException)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "Refused");
        }
        catch (ArgumentException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
        }
    }

    /// <summary>Applied to the endpoints that change something or hand out a backup: who, with which token, from where,
    /// and what the API answered.</summary>
    public static async ValueTask<object?> AuditAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        // Refusals are mapped here too, inside the record: a refused call is audited with the answer it got.
        var result = await ProblemsAsync(context, next);
        var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : http.Response.StatusCode;
        var user = http.User;
        var detail = $"token {user.FindFirst(ApiTokenAuthenticationHandler.TokenPrefixClaim)?.Value}… ('{user.FindFirst(ApiTokenAuthenticationHandler.TokenNameClaim)?.Value}') "
            + $"from {http.Connection.RemoteIpAddress?.ToString() ?? "unknown"}; answered {status}";
        var outcome = status is >= 200 and < 300 ? AuditOutcome.Succeeded : status == StatusCodes.Status403Forbidden ? AuditOutcome.Denied : AuditOutcome.Failed;
        await http.RequestServices.GetRequiredService<IAuditLog>().RecordAsync(CurrentActor.FromPrincipal(user), AuditActions.ApiCall,
            $"{http.Request.Method} {http.Request.Path}", outcome, detail, CancellationToken.None);
        return result;
    }

    /// <summary>Marks an endpoint as one whose every use is audited.</summary>
    public static RouteHandlerBuilder Audited(this RouteHandlerBuilder endpoint) => endpoint.AddEndpointFilter(AuditAsync);
}
