namespace HelloJohn.Console.Bench.Measurement;

/// <summary>Watches this process's direct children (pg_dump, pg_restore, psql…) and remembers the highest peak RSS
/// each program reached. The kernel keeps a child's VmHWM until it exits, so sampling often enough sees the peak.</summary>
public sealed class ChildPeakRssSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, long> _peaks = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public ChildPeakRssSampler(TimeSpan? interval = null)
    {
        var every = interval ?? TimeSpan.FromMilliseconds(25);
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(every);
            try
            {
                do
                {
                    Sample();
                }
                while (await timer.WaitForNextTickAsync(_stop.Token));
            }
            catch (OperationCanceledException)
            {
                // Stopped by DisposeAsync.
            }
        });
    }

    /// <summary>Highest peak RSS, in bytes, of any child called <paramref name="program"/>; null when none was seen.</summary>
    public long? PeakOf(string program)
    {
        lock (_peaks)
        {
            return _peaks.TryGetValue(program, out var v) ? v : null;
        }
    }

    private void Sample()
    {
        foreach (var pid in ChildPids())
        {
            try
            {
                var status = $"/proc/{pid}/status";
                var name = File.ReadLines(status).First()["Name:".Length..].Trim();
                var peak = ProcessResources.StatusKilobytes(status, "VmHWM") * 1024;
                lock (_peaks)
                {
                    _peaks[name] = Math.Max(peak, _peaks.GetValueOrDefault(name));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // The child ended between listing and reading.
            }
        }
    }

    private static IEnumerable<string> ChildPids()
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string children;
            try
            {
                children = File.ReadAllText(Path.Combine(task, "children"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var pid in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                yield return pid;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
