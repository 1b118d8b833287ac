using System.Text.Json.Serialization;
using HelloJohn.Console.Core.Security;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace HelloJohn.Console.Web.Api;

/// <summary>The REST API under <c>/api/v1</c>: personal-token authentication, the endpoints, the OpenAPI document at
/// <c>/api/v1/openapi.json</c> and its browsable reference at <c>/api/v1/reference</c>.</summary>
public static class ConsoleApiExtensions
{
    public const string Policy = "api";
    public const string DocumentPath = "/api/v1/openapi.json";
    public const string ReferencePath = "/api/v1/reference";

    public static IServiceCollection AddConsoleApi(this IServiceCollection services)
    {
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<BadTokenLimiter>();
        services.AddAuthentication().AddScheme<ApiTokenAuthenticationOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(ApiTokenAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireRole(ConsoleRoles.All));
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.AddOpenApi("v1", o =>
        {
            // The document describes the API alone, not the console's own form posts.
            o.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((document, _, _) =>
            {
            document.Info = new OpenApiInfo
            {
                Title = "HelloJohn Console API",
                Version = "v1",
                Description = "Drive backups, verifications and restores from scripts. Authenticate with a personal API token " +
                    "(create one under API tokens in the console) sent as 'Authorization: Bearer hjc_…'. A token acts with its owner's " +
                    "current role: what the role may not do, the API refuses with 403 and runs nothing.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "A personal API token, hjc_ followed by 43 characters.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
            return Task.CompletedTask;
            });
        });
        return services;
    }

    public static IEndpointRouteBuilder MapConsoleApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1")
            .RequireAuthorization(Policy)
            .AddEndpointFilter(ApiFilters.ProblemsAsync)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapBackupsApi();
        api.MapRunsApi();
        api.MapDeploymentsApi();
        api.MapSetsApi();

        // The document and its reference page are for people signed in to the console (any role, the fallback policy).
        app.MapOpenApi("/api/{documentName}/openapi.json");
        app.MapScalarApiReference(ReferencePath, o => o
            .WithTitle("HelloJohn Console API")
            .WithOpenApiRoutePattern("/api/{documentName}/openapi.json")
            .AddPreferredSecuritySchemes(["bearer"])
            .DisableAgent()
            .DisableMcp());
        return app;
    }
}
