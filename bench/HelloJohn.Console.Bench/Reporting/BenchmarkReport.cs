using System.Globalization;
using System.Text;
using HelloJohn.Console.Bench.Measurement;

namespace HelloJohn.Console.Bench.Reporting;

public sealed record MachineFacts(int Cores, string CpuModel, long MemoryBytes, string ServerVersion, string PgDumpVersion, string Runtime)
{
    /// <summary>/proc/loadavg when the cases started and when they ended: how busy the machine was besides the benchmark.</summary>
    public string LoadAverages { get; init; } = "";
}

public sealed record DatabaseFacts(string Name, int Users, long Sessions, long SizeBytes, TimeSpan GenerationTime);

/// <summary>Everything one run measured, and the single table it prints.</summary>
public sealed record BenchmarkReport(MachineFacts Machine, IReadOnlyList<DatabaseFacts> Databases, string ConsoleDefault, IReadOnlyList<CaseSummary> Cases, IReadOnlyList<string> Notes)
{
    public CaseSummary Find(string group, string prefix) =>
        Cases.FirstOrDefault(c => c.Group == group && c.Case.StartsWith(prefix, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"No case '{prefix}' in group {group}.");

    public string Render()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"Machine: {Machine.Cores} cores ({Machine.CpuModel}), {Machine.MemoryBytes / 1073741824.0:F1} GiB RAM; {Machine.ServerVersion}; {Machine.PgDumpVersion}; {Machine.Runtime}");
        sb.AppendLine(inv, $"Load average (1, 5, 15 min) {Machine.LoadAverages}");
        foreach (var d in Databases)
        {
            sb.AppendLine(inv, $"Database {d.Name}: {d.Users:N0} users, {d.Sessions:N0} sessions, {Mb(d.SizeBytes)} MB on disk, generated in {d.GenerationTime.TotalSeconds:F1} s");
        }

        sb.AppendLine(inv, $"Console default: {ConsoleDefault}");
        sb.AppendLine();
        sb.AppendLine("| Group | Case | Runs | Wall median (min–max) | × reference | CPU median | Production server CPU | Size | × ref. size | Console peak RSS | Tool peak RSS |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in Cases)
        {
            var reference = ReferenceOf(c);
            var wall = c.WallMedian.TotalSeconds < 1
                ? string.Create(inv, $"{c.WallMedian.TotalMilliseconds:F1} ms ({c.WallMin.TotalMilliseconds:F1}–{c.WallMax.TotalMilliseconds:F1})")
                : string.Create(inv, $"{c.WallMedian.TotalSeconds:F2} s ({c.WallMin.TotalSeconds:F2}–{c.WallMax.TotalSeconds:F2})");
            var cpu = Time(c.CpuMedian);
            var server = c.ServerCpuMedian is { } sc ? Time(sc) : "";
            var ratio = reference is null || reference == c ? "" : string.Create(inv, $"{c.WallMedian / reference.WallMedian:F2}");
            var size = c.SizeMedian is { } s ? $"{Mb(s)} MB" : "";
            var sizeRatio = reference?.SizeMedian is { } rs && c.SizeMedian is { } cs && reference != c ? string.Create(inv, $"{(double)cs / rs:F3}") : "";
            sb.AppendLine(inv, $"| {c.Group} | {Cell(c.Case)} | {c.Runs} | {wall} | {ratio} | {cpu} | {server} | {size} | {sizeRatio} | {(c.ConsolePeakRss is { } r ? $"{Mb(r)} MB" : "")} | {(c.ToolPeakRss is { } t ? $"{Mb(t)} MB" : "")} |");
        }

        var phased = Cases.Where(c => c.PhaseMedians.Count > 0).ToList();
        if (phased.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Phases of the console's runs (median of each phase over the repetitions):");
            sb.AppendLine();
            sb.AppendLine("| Group | Case | Phases |");
            sb.AppendLine("|---|---|---|");
            foreach (var c in phased)
            {
                sb.AppendLine(inv, $"| {c.Group} | {Cell(c.Case)} | {string.Join("; ", c.PhaseMedians.Select(p => $"{p.Phase} {Time(p.Median)}"))} |");
            }
        }

        foreach (var note in Notes)
        {
            sb.AppendLine();
            sb.Append("Note: ").AppendLine(note);
        }

        return sb.ToString();
    }

    /// <summary>Each group's first case is what the others are compared with (the documented recipe or script); the
    /// groups with no documented counterpart have none.</summary>
    private CaseSummary? ReferenceOf(CaseSummary c)
    {
        var first = Cases.First(x => x.Group == c.Group);
        return first.Group is BenchmarkGroups.Ui or BenchmarkGroups.Drill or BenchmarkGroups.EndToEnd ? null : first;
    }

    private static string Time(TimeSpan t) => t.TotalSeconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:F0} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:F2} s");

    /// <summary>A table cell: a pipe in a case's name (a shell pipeline) would end the cell.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString(bytes < 10 * 1048576L ? "F2" : "F1", CultureInfo.InvariantCulture);
}

public static class BenchmarkGroups
{
    public const string Backup = "Backup";
    public const string Memory = "Memory";
    public const string Verification = "Verification";
    public const string Restore = "Restore";
    public const string Drill = "Drill";
    public const string EndToEnd = "As users run it";
    public const string Ui = "UI";
}
