using System.Globalization;
using System.Text.RegularExpressions;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>A position in the write-ahead log, written by PostgreSQL as <c>16/B374D848</c>.</summary>
public readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    /// <summary>PostgreSQL's default (and, for the servers the console protects, only supported) segment size.</summary>
    public const long SegmentSize = 16L * 1024 * 1024;

    public long Segment => (long)(Value / SegmentSize);

    public static Lsn Parse(string text)
    {
        var parts = text.Trim().Split('/');
        if (parts.Length != 2 ||
            !uint.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var high) ||
            !uint.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var low))
        {
            throw new FormatException($"'{text}' is not a WAL position such as 0/3000028.");
        }

        return new Lsn(((ulong)high << 32) | low);
    }

    public static Lsn OfSegmentStart(long segment) => new((ulong)segment * SegmentSize);

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);

    public static bool operator <(Lsn a, Lsn b) => a.Value < b.Value;

    public static bool operator >(Lsn a, Lsn b) => a.Value > b.Value;

    public static bool operator <=(Lsn a, Lsn b) => a.Value <= b.Value;

    public static bool operator >=(Lsn a, Lsn b) => a.Value >= b.Value;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value >> 32:X}/{Value & 0xFFFFFFFF:X}");
}

/// <summary>The kinds of file a WAL archive holds.</summary>
public enum WalFileKind
{
    Segment,
    Partial,
    History,
}

/// <summary>A WAL file by its PostgreSQL name: <c>000000010000000000000003</c> (timeline 1, segment 3),
/// <c>…03.partial</c> (the segment still being written) or <c>00000002.history</c>.</summary>
public readonly partial record struct WalFileName(WalFileKind Kind, int Timeline, long Segment)
{
    private const long SegmentsPerXLogId = 0x100000000L / Lsn.SegmentSize;

    /// <summary>The name PostgreSQL asks <c>restore_command</c> for (a partial segment is handed over under its full name).</summary>
    public string FileName => Kind == WalFileKind.History
        ? string.Create(CultureInfo.InvariantCulture, $"{Timeline:X8}.history")
        : string.Create(CultureInfo.InvariantCulture, $"{Timeline:X8}{Segment / SegmentsPerXLogId:X8}{Segment % SegmentsPerXLogId:X8}");

    /// <summary>The name as pg_receivewal leaves it in its folder.</summary>
    public string SpoolName => Kind == WalFileKind.Partial ? FileName + ".partial" : FileName;

    public Lsn Start => Lsn.OfSegmentStart(Segment);

    public static WalFileName SegmentOf(int timeline, long segment) => new(WalFileKind.Segment, timeline, segment);

    public static WalFileName HistoryOf(int timeline) => new(WalFileKind.History, timeline, 0);

    public static bool TryParse(string name, out WalFileName file)
    {
        file = default;
        var m = NamePattern().Match(name);
        if (!m.Success)
        {
            return false;
        }

        var timeline = int.Parse(m.Groups["tl"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (m.Groups["history"].Success)
        {
            file = HistoryOf(timeline);
            return true;
        }

        var log = long.Parse(m.Groups["log"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var seg = long.Parse(m.Groups["seg"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        file = new WalFileName(m.Groups["partial"].Success ? WalFileKind.Partial : WalFileKind.Segment, timeline, log * SegmentsPerXLogId + seg);
        return true;
    }

    [GeneratedRegex(@"^(?<tl>[0-9A-F]{8})(?:(?<history>\.history)|(?<log>[0-9A-F]{8})(?<seg>[0-9A-F]{8})(?<partial>\.partial)?)$")]
    private static partial Regex NamePattern();
}

/// <summary>One line of a timeline history file: the parent timeline and where the child branched off it.</summary>
public sealed record TimelineSwitch(int ParentTimeline, Lsn SwitchPoint, string Reason);

/// <summary>The ancestry of a timeline, read from its <c>.history</c> file: which timeline holds each WAL position.</summary>
public sealed record TimelineHistory(int Timeline, IReadOnlyList<TimelineSwitch> Switches)
{
    public static TimelineHistory Root { get; } = new(1, []);

    /// <summary>Parses "1\t0/3000110\tbefore 2024-…" lines; comments and blank lines are skipped.</summary>
    public static TimelineHistory Parse(int timeline, string content)
    {
        var switches = new List<TimelineSwitch>();
        foreach (var raw in content.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split(['\t', ' '], 3, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && int.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parent))
            {
                switches.Add(new TimelineSwitch(parent, Lsn.Parse(fields[1]), fields.Length == 3 ? fields[2] : ""));
            }
        }

        return new TimelineHistory(timeline, switches);
    }

    /// <summary>Every timeline on the way to this one (oldest first).</summary>
    public IEnumerable<int> Path => Switches.Select(s => s.ParentTimeline).Append(Timeline);

    /// <summary>The timeline whose file PostgreSQL reads for <paramref name="segment"/> when it recovers along this
    /// history: the segment holding a switch point is read from the child timeline.</summary>
    public int TimelineOfSegment(long segment)
    {
        for (var i = 0; i < Switches.Count; i++)
        {
            if (segment < Switches[i].SwitchPoint.Segment)
            {
                return Switches[i].ParentTimeline;
            }
        }

        return Timeline;
    }

    /// <summary>The timeline that held <paramref name="position"/> along this history.</summary>
    public int TimelineOf(Lsn position)
    {
        foreach (var s in Switches)
        {
            if (position < s.SwitchPoint)
            {
                return s.ParentTimeline;
            }
        }

        return Timeline;
    }
}
