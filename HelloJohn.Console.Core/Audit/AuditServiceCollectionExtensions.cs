using HelloJohn.Console.Core.Data;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Audit;

public static class AuditServiceCollectionExtensions
{
    /// <summary>The append-only audit trail: the writer every service uses, and the query service behind the Audit page.</summary>
    public static IServiceCollection AddConsoleAudit(this IServiceCollection services)
    {
        services.AddSingleton<IAuditLog, AuditLog>();
        services.AddSingleton<AuditQueryService>();
        services.ConfigureDbContext<ConsoleDbContext>(o => o.AddInterceptors(new AppendOnlyAuditInterceptor()), ServiceLifetime.Singleton);
        return services;
    }
}
