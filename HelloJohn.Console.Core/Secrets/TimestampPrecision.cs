namespace HelloJohn.Console.Core.Secrets;

internal static class TimestampPrecision
{
    /// <summary>PostgreSQL keeps microseconds; rounding before saving makes what a method returns equal what a later
    /// read gives back.</summary>
    public static DateTimeOffset TruncatedToMicroseconds(this DateTimeOffset value) =>
        new(value.UtcTicks - value.UtcTicks % 10, TimeSpan.Zero);
}
