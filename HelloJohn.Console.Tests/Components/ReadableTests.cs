using HelloJohn.Console.Web.Components.Controls;

namespace HelloJohn.Console.Tests.Components;

[Trait("Capability", "Backups")]
public sealed class ReadableTests
{
    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(512L, "512 B")]
    [InlineData(1536L, "1.5 KB")]
    [InlineData(2_200_000L, "2.1 MB")]
    [InlineData(160_000_000L, "153 MB")]
    [InlineData(1_300_000_000L, "1.2 GB")]
    public void Size_AsPeopleReadIt_NeverBits(long bytes, string expected) => Assert.Equal(expected, Readable.Size(bytes));

    [Theory]
    [InlineData(6.866, "6 s")]
    [InlineData(59.9, "59 s")]
    [InlineData(185, "3 min 05 s")]
    [InlineData(7500, "2 h 05 min")]
    [InlineData(273600, "3 d 4 h")]
    [InlineData(-3, "0 s")]
    public void Age_RpoNow_IsWholeSecondsThenCoarser(double seconds, string expected) => Assert.Equal(expected, Readable.Age(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(0.44, "0.4 s")]
    [InlineData(12.5, "12.5 s")]
    [InlineData(65, "1 min 05 s")]
    public void Duration_Measured_KeepsATenthUnderAMinute(double seconds, string expected) => Assert.Equal(expected, Readable.Duration(TimeSpan.FromSeconds(seconds)));
}
