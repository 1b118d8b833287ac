using HelloJohn.Console.Bench;
using HelloJohn.Console.Bench.Measurement;

namespace HelloJohn.Console.Tests.Benchmarks;

[Trait("Capability", "Benchmarks")]
public sealed class BenchCommandTests
{
    [Fact]
    public void Parse_RunWithoutOptions_ReferenceSizeThreeReps()
    {
        var command = BenchCommand.Parse(["run"]);

        Assert.Equal(BenchVerb.Run, command.Verb);
        Assert.Equal(1_000_000, command.Settings.Users);
        Assert.Equal(250_000, command.Settings.QuarterUsers);
        Assert.Equal(3, command.Settings.Reps);
        Assert.Equal(3, command.Settings.EffectiveVerificationReps);
        Assert.Equal(100_000, command.Settings.CatalogBackups);
    }

    [Fact]
    public void Parse_RunWithOptions_TakesThem()
    {
        var command = BenchCommand.Parse(["run", "--users", "200_000", "--reps", "5", "--verification-reps", "2", "--catalog-backups", "1000", "--output", "t.md"]);

        Assert.Equal(200_000, command.Settings.Users);
        Assert.Equal(5, command.Settings.Reps);
        Assert.Equal(2, command.Settings.EffectiveVerificationReps);
        Assert.Equal(1000, command.Settings.CatalogBackups);
        Assert.Equal(Path.GetFullPath("t.md"), command.OutputFile);
    }

    [Fact]
    public void Parse_GenerateWithUsersAndDsn_TakesThem()
    {
        var command = BenchCommand.Parse(["generate", "--users", "1000", "--dsn", "postgres://u:p@127.0.0.1:5432/hj"]);

        Assert.Equal(BenchVerb.Generate, command.Verb);
        Assert.Equal(1000, command.Settings.Users);
        Assert.Equal("postgres://u:p@127.0.0.1:5432/hj", command.Dsn);
    }

    [Theory]
    [InlineData(new string[0], "Give a command")]
    [InlineData(new[] { "bench" }, "Unknown command 'bench'")]
    [InlineData(new[] { "generate" }, "generate needs --users N")]
    [InlineData(new[] { "generate", "--users" }, "--users needs a value")]
    [InlineData(new[] { "generate", "--users", "--dsn", "x" }, "--users needs a value")]
    [InlineData(new[] { "generate", "--users", "many" }, "--users must be a whole number from 1 to")]
    [InlineData(new[] { "generate", "--users", "0" }, "--users must be a whole number from 1 to")]
    [InlineData(new[] { "generate", "--users", "-3" }, "--users must be a whole number from 1 to")]
    [InlineData(new[] { "generate", "--users", "10", "--reps", "3" }, "'--reps' is not an option of 'generate'")]
    [InlineData(new[] { "run", "--dsn", "x" }, "'--dsn' is not an option of 'run'")]
    [InlineData(new[] { "run", "--reps", "1000" }, "--reps must be a whole number from 1 to 100")]
    [InlineData(new[] { "run", "--users", "1e6" }, "--users must be a whole number")]
    public void Parse_BadArguments_ThrowsNamingTheProblem(string[] args, string expected)
    {
        var e = Assert.Throws<BenchUsageException>(() => BenchCommand.Parse(args));

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void CaseSummary_OddAndEvenSampleCounts_MedianIsTheMiddle()
    {
        static RunSample S(int ms) => new(TimeSpan.FromMilliseconds(ms), TimeSpan.FromMilliseconds(ms / 2));

        var odd = new CaseSummary("g", "c", [S(30), S(10), S(20)]);
        var even = new CaseSummary("g", "c", [S(40), S(10), S(20), S(30)]);

        Assert.Equal(TimeSpan.FromMilliseconds(20), odd.WallMedian);
        Assert.Equal(TimeSpan.FromMilliseconds(10), odd.WallMin);
        Assert.Equal(TimeSpan.FromMilliseconds(30), odd.WallMax);
        Assert.Equal(TimeSpan.FromMilliseconds(25), even.WallMedian);
        Assert.Null(odd.SizeMedian);
    }

    [Fact]
    public void CaseSummary_NoSamples_MedianThrows()
    {
        var empty = new CaseSummary("g", "c", []);

        Assert.Throws<InvalidOperationException>(() => empty.WallMedian);
    }
}
