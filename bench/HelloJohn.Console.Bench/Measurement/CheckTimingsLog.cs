using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Bench.Measurement;

/// <summary>Keeps the timings the archive checker logs for each file it passes (catalog and manifest, SHA-256 and
/// unpacking, pg_restore --list), so a run's "checks" phase can be shown in its parts.</summary>
public sealed class CheckTimingsLog : ILoggerProvider
{
    public const string Category = "HelloJohn.Console.Core.Restores.BackupArchiveChecker";

    private readonly List<IReadOnlyList<(string Part, TimeSpan Time)>> _passed = [];

    /// <summary>The parts of the latest check that passed, or null.</summary>
    public IReadOnlyList<(string Part, TimeSpan Time)>? Latest()
    {
        lock (_passed)
        {
            return _passed.Count == 0 ? null : _passed[^1];
        }
    }

    public ILogger CreateLogger(string categoryName) => categoryName == Category ? new Logger(this) : NullLoggerInstance;

    public void Dispose()
    {
    }

    private static readonly ILogger NullLoggerInstance = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    private sealed class Logger(CheckTimingsLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (state is not IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                return;
            }

            double? Seconds(string name) => values.FirstOrDefault(v => v.Key == name).Value as double?;
            if (Seconds("CatalogSeconds") is { } catalog && Seconds("ReadSeconds") is { } read && Seconds("ListSeconds") is { } list)
            {
                lock (owner._passed)
                {
                    owner._passed.Add([
                        ("catalog + manifest", TimeSpan.FromSeconds(catalog)),
                        ("SHA-256 + unpack (one read)", TimeSpan.FromSeconds(read)),
                        ("pg_restore --list", TimeSpan.FromSeconds(list)),
                    ]);
                }
            }
        }
    }
}
