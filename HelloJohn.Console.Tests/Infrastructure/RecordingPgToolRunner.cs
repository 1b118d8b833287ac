using System.Collections.Concurrent;
using HelloJohn.Console.Core.Postgres;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>The real runner, remembering each invocation's program, arguments and environment it was given, so a test
/// can prove no password was put on a command line.</summary>
public sealed class RecordingPgToolRunner(IPgToolRunner inner) : IPgToolRunner
{
    public ConcurrentQueue<PgToolInvocation> Invocations { get; } = new();

    public PgBinaries Binaries => inner.Binaries;

    public Task<PgToolResult> RunAsync(PgToolInvocation invocation, CancellationToken ct = default)
    {
        Invocations.Enqueue(invocation);
        return inner.RunAsync(invocation, ct);
    }
}
