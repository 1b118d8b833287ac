using System.Globalization;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Postgres;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>What stock pg_waldump found in a segment: the commits' times and where the valid WAL ends.</summary>
public sealed record WalCommits(DateTimeOffset? FirstCommitAt, DateTimeOffset? LastCommitAt, Lsn? LastCommitLsn, Lsn? EndOfValidWal, int Commits);

/// <summary>Reads commit records with PostgreSQL's own <c>pg_waldump</c>, so commit times come from the WAL itself.</summary>
public sealed partial class WalDump(IPgToolRunner runner, Hosting.ConsoleWorkFolder workFolder)
{
    /// <summary>Reads the transaction records of one segment file (closed or partial), from <paramref name="from"/> when
    /// given. pg_waldump needs the segment's own name, so a partial file is linked under it in a scratch folder of this
    /// process's work folder (never the shared system temp folder).</summary>
    public async Task<WalCommits> ReadAsync(string path, WalFileName name, Lsn? from, CancellationToken ct)
    {
        var scratch = Path.Combine(workFolder.FolderUnder(), $"waldump-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            var linked = Path.Combine(scratch, name.FileName);
            File.CreateSymbolicLink(linked, Path.GetFullPath(path));
            List<string> args = ["-r", "Transaction", "-p", scratch];
            if (from is { } start && start.Segment == name.Segment)
            {
                args.AddRange(["-s", start.ToString()]);
            }
            else
            {
                args.AddRange(["-s", name.Start.ToString()]);
            }

            args.AddRange(["-e", Lsn.OfSegmentStart(name.Segment + 1).ToString(), "-t", name.Timeline.ToString(CultureInfo.InvariantCulture)]);
            var result = await runner.RunAsync(new PgToolInvocation("pg_waldump", args)
            {
                Environment = new Dictionary<string, string> { ["TZ"] = "UTC" },
                NonZeroExitIsNormal = true,
            }, ct);
            return Parse(result.StandardOutputText, result.StandardError);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Parses pg_waldump's output. A non-zero exit at the end of valid WAL is normal for a partial segment.</summary>
    public static WalCommits Parse(string stdout, string stderr)
    {
        DateTimeOffset? first = null, last = null;
        Lsn? lastLsn = null;
        Lsn? end = null;
        var count = 0;
        foreach (var line in stdout.Split('\n'))
        {
            var m = CommitLine().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var at = DateTimeOffset.ParseExact(m.Groups["at"].Value, ["yyyy-MM-dd HH:mm:ss.FFFFFF", "yyyy-MM-dd HH:mm:ss"], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            var lsn = Lsn.Parse(m.Groups["lsn"].Value);
            var length = int.Parse(m.Groups["len"].Value, CultureInfo.InvariantCulture);
            first ??= at;
            last = at;
            lastLsn = lsn;
            end = new Lsn(lsn.Value + (ulong)length);
            count++;
        }

        var stop = EndOfWal().Match(stderr);
        if (stop.Success)
        {
            var invalidAt = Lsn.Parse(stop.Groups["lsn"].Value);
            end = end is { } e && e > invalidAt ? e : invalidAt;
        }

        return new WalCommits(first, last, lastLsn, end, count);
    }

    [GeneratedRegex(@"len \(rec/tot\):\s*\d+/\s*(?<len>\d+).*lsn: (?<lsn>[0-9A-F]+/[0-9A-F]+),.*desc: COMMIT(?:_PREPARED)? (?<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC")]
    private static partial Regex CommitLine();

    [GeneratedRegex(@"(?:invalid record length|invalid magic number|contrecord is requested|record with incorrect prev-link|invalid resource manager ID)[^\n]*? at (?<lsn>[0-9A-F]+/[0-9A-F]+)")]
    private static partial Regex EndOfWal();
}
