using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Schedules;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Verification;

public static class VerificationServiceCollectionExtensions
{
    /// <summary>Verification runs, their job, their kind of run and the verify-after-every-backup hook. Needs
    /// <c>AddRuns()</c> and <c>AddRestores()</c>.</summary>
    public static IServiceCollection AddVerification(this IServiceCollection services)
    {
        services.AddOptions<VerificationOptions>().BindConfiguration(VerificationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<VerificationOptions>, VerificationOptionsValidation>();
        services.AddSingleton<VerificationLeftovers>();
        services.AddSingleton<VerificationRunner>();
        services.AddSingleton<VerificationRunQueries>();
        services.AddSingleton<VerificationService>();
        services.AddSingleton<IRunKind, VerificationRunKind>();
        services.AddSingleton<IRunFinishedHandler, VerifyAfterBackup>();
        services.AddTransient<VerificationJob>();
        services.AddTransient<IScheduledVerificationJob, VerificationJob>();
        services.AddSingleton<IBackupVerificationHistory, VerificationHistory>();
        return services;
    }
}
