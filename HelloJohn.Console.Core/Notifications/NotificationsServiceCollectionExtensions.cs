using Hangfire;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Notifications.Senders;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Core.Notifications;

public static class NotificationsServiceCollectionExtensions
{
    /// <summary>Channels, the notification center, the senders, the delivery job with its own Hangfire workers, and the
    /// RPO watch. Needs <c>AddConsoleAudit()</c>, Data Protection and Hangfire.</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddOptions<NotificationOptions>()
            .BindConfiguration(NotificationOptions.Section)
            .Configure<IConfiguration>((o, c) =>
            {
                if (!string.IsNullOrWhiteSpace(c["HELLOJOHN_CONSOLE_URL"]))
                {
                    o.ConsoleBaseUrl = c["HELLOJOHN_CONSOLE_URL"];
                }
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidation>();

        // The attempt's own timeout bounds each request; redirects are refused rather than followed with the body. No
        // request logging: a chat webhook's URL is its credential, and HttpClient's own log lines would print it.
        services.AddHttpClient(WebhookPost.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddSingleton<INotificationSender, EmailSender>();
        services.AddSingleton<INotificationSender, ChatWebhookSender>();
        services.AddSingleton<INotificationSender, SignedWebhookSender>();

        services.AddSingleton<NotificationCenter>();
        services.AddSingleton<NotificationDispatcher>();
        services.AddSingleton<NotificationChannelService>();
        services.AddSingleton<RunNotices>();
        services.AddSingleton<IRunFinishedHandler, RunNoticesAfterRun>();
        services.AddSingleton<ConditionNotices>();
        services.AddTransient<NotificationDeliveryJob>();
        services.AddTransient<NotificationWatchJob>();
        services.AddSingleton<IConsoleStartupTask, NotificationWatchStartupTask>();

        // Workers of their own: however many receivers hang until their timeout, backups keep every worker they had.
        services.AddHangfireServer(o =>
        {
            o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:notifications";
            o.Queues = [NotificationDeliveryJob.Queue];
            o.WorkerCount = 2;
            o.CancellationCheckInterval = TimeSpan.FromSeconds(2);
        });
        return services;
    }
}
