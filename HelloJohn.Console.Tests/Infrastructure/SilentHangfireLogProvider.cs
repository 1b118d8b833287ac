using Hangfire.Logging;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>Hangfire keeps its log provider in a static. A console host started by another test sets it to that host's
/// logger factory, which is disposed with the host; tests that use Hangfire's API without a host put this back first.</summary>
public sealed class SilentHangfireLogProvider : ILogProvider, ILog
{
    public static void Install() => LogProvider.SetCurrentLogProvider(new SilentHangfireLogProvider());

    public ILog GetLogger(string name) => this;

    public bool Log(LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
}
