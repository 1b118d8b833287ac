namespace HelloJohn.Console.Core.Pitr;

/// <summary>An archived WAL file as the window sees it.</summary>
public sealed record WindowFile(WalFileName File, DateTimeOffset? LastCommitAt);

/// <summary>A base backup as the window sees it.</summary>
public sealed record WindowBackup(Guid Id, int Timeline, Lsn Start, Lsn End, DateTimeOffset ConsistentAt);

/// <summary>Segments missing from the archive (<see cref="Incomplete"/>: the stream ended inside <see cref="From"/>
/// and went on later, so the rest of that segment is missing).</summary>
public sealed record WalGap(int Timeline, long From, long To, bool Incomplete)
{
    public string Describe() => Incomplete
        ? $"the stream ended inside segment {WalFileName.SegmentOf(Timeline, From).FileName} and resumed later"
        : From == To
            ? $"segment {WalFileName.SegmentOf(Timeline, From).FileName} is missing"
            : $"segments {WalFileName.SegmentOf(Timeline, From).FileName} to {WalFileName.SegmentOf(Timeline, To).FileName} are missing";
}

/// <summary>A stretch of time a restore can reach: from the end of its oldest base backup to its last commit.</summary>
public sealed record WindowRange(int Timeline, DateTimeOffset From, DateTimeOffset To, long FirstSegment, long LastSegment, IReadOnlyList<WindowBackup> Backups)
{
    public bool Contains(DateTimeOffset at) => at >= From && at < To;
}

public sealed record TimelineWindow(int Timeline, TimelineHistory History, IReadOnlyList<WindowRange> Ranges, IReadOnlyList<WalGap> Gaps, int Files);

/// <summary>What can be restored, per timeline, computed from the archive's files, history and base backups.</summary>
public sealed record RecoverableWindow(IReadOnlyList<TimelineWindow> Timelines)
{
    public TimelineWindow? Latest => Timelines.Count == 0 ? null : Timelines[^1];

    /// <summary>The latest range of the latest timeline: what the Dashboard shows.</summary>
    public WindowRange? Current => Latest?.Ranges.LastOrDefault();

    /// <summary>The range holding <paramref name="at"/>, on the newest timeline that has one.</summary>
    public WindowRange? Find(DateTimeOffset at) =>
        Timelines.Reverse().SelectMany(t => t.Ranges.Where(r => r.Contains(at))).FirstOrDefault();

    /// <summary>The window in words, as refusals show it.</summary>
    public string Describe()
    {
        var ranges = Timelines.SelectMany(t => t.Ranges).ToList();
        return ranges.Count == 0
            ? "nothing yet (a base backup and WAL after it are needed)"
            : string.Join("; ", ranges.Select(r => $"timeline {r.Timeline}: {r.From:yyyy-MM-dd HH:mm:ss} to {r.To:yyyy-MM-dd HH:mm:ss} UTC"));
    }

    /// <summary>Pure: builds the window. <paramref name="liveCommit"/> is the newest commit the running receiver has
    /// read from the segment it is writing (fresher than the partial copy in the stores).</summary>
    public static RecoverableWindow Compute(
        IReadOnlyList<WindowFile> files,
        IReadOnlyDictionary<int, TimelineHistory> histories,
        IReadOnlyList<WindowBackup> backups,
        (int Timeline, DateTimeOffset At)? liveCommit = null)
    {
        var byName = new Dictionary<(int, long), WindowFile>();
        foreach (var f in files.Where(f => f.File.Kind != WalFileKind.History))
        {
            // A closed segment supersedes a partial copy of the same segment.
            if (!byName.TryGetValue((f.File.Timeline, f.File.Segment), out var seen) || seen.File.Kind == WalFileKind.Partial)
            {
                byName[(f.File.Timeline, f.File.Segment)] = f;
            }
        }

        var timelines = byName.Keys.Select(k => k.Item1).Distinct().Order().ToList();
        var result = new List<TimelineWindow>();
        foreach (var tl in timelines)
        {
            var history = histories.TryGetValue(tl, out var h) ? h : tl == 1 ? TimelineHistory.Root : new TimelineHistory(tl, []);
            var onPath = byName.Values.Where(f => history.Path.Contains(f.File.Timeline) && history.TimelineOfSegment(f.File.Segment) == f.File.Timeline).ToList();
            var last = byName.Keys.Where(k => k.Item1 == tl).Max(k => k.Item2);
            var first = onPath.Min(f => f.File.Segment);
            var live = liveCommit is { } lc && lc.Timeline == tl ? lc.At : (DateTimeOffset?)null;
            result.Add(Walk(tl, history, first, last, byName, backups, live));
        }

        return new RecoverableWindow(result);
    }

    private static TimelineWindow Walk(int tl, TimelineHistory history, long first, long last, Dictionary<(int, long), WindowFile> byName,
        IReadOnlyList<WindowBackup> backups, DateTimeOffset? live)
    {
        var gaps = new List<WalGap>();
        var runs = new List<(long From, long To, DateTimeOffset? LastCommit)>();
        long? runStart = null;
        DateTimeOffset? runCommit = null;
        var count = 0;
        for (var seg = first; seg <= last; seg++)
        {
            var fileTl = history.TimelineOfSegment(seg);
            if (!byName.TryGetValue((fileTl, seg), out var file))
            {
                if (runStart is { } s)
                {
                    runs.Add((s, seg - 1, runCommit));
                    runStart = null;
                    runCommit = null;
                }

                var gapEnd = seg;
                while (gapEnd + 1 <= last && !byName.ContainsKey((history.TimelineOfSegment(gapEnd + 1), gapEnd + 1)))
                {
                    gapEnd++;
                }

                gaps.Add(new WalGap(tl, seg, gapEnd, Incomplete: false));
                seg = gapEnd;
                continue;
            }

            count++;
            runStart ??= seg;
            if (file.LastCommitAt is { } c && (runCommit is null || c > runCommit))
            {
                runCommit = c;
            }

            if (file.File.Kind == WalFileKind.Partial && seg < last && byName.ContainsKey((history.TimelineOfSegment(seg + 1), seg + 1)))
            {
                // The stream ended inside this segment (its copy is partial) and resumed later: WAL in between is gone.
                runs.Add((runStart.Value, seg, runCommit));
                gaps.Add(new WalGap(tl, seg, seg, Incomplete: true));
                runStart = null;
                runCommit = null;
            }
        }

        if (runStart is { } open)
        {
            runs.Add((open, last, live is { } l && (runCommit is null || l > runCommit) ? l : runCommit));
        }

        var ranges = new List<WindowRange>();
        foreach (var (from, to, lastCommit) in runs)
        {
            var usable = backups
                .Where(b => history.Path.Contains(b.Timeline) && history.TimelineOf(b.Start) == b.Timeline)
                .Where(b => b.Start.Segment >= from && b.End.Segment <= to)
                .OrderBy(b => b.ConsistentAt)
                .ToList();
            if (usable.Count > 0 && lastCommit is { } end && end > usable[0].ConsistentAt)
            {
                ranges.Add(new WindowRange(tl, usable[0].ConsistentAt, end, from, to, usable));
            }
        }

        return new TimelineWindow(tl, history, ranges, gaps, count);
    }
}
