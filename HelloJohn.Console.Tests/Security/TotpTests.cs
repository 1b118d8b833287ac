namespace HelloJohn.Console.Tests.Security;

/// <summary>The tests' code generator against RFC 6238 Appendix B and RFC 4648's base32 vectors, so a failing sign-in
/// test blames the console, not its own arithmetic.</summary>
[Trait("Capability", "Security")]
public sealed class TotpTests
{
    [Theory]
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(1234567890L, "89005924")]
    [InlineData(20000000000L, "65353130")]
    public void Code_Rfc6238Sha1Vectors_Match(long unixTime, string expected) =>
        Assert.Equal(expected, Totp.Code("12345678901234567890"u8.ToArray(), unixTime / 30, 8));

    [Theory]
    [InlineData("MZXW6YTBOI======", "foobar")]
    [InlineData("mzxw 6ytb oi", "foobar")]
    public void Base32_Rfc4648Vector_Decodes(string text, string expected) =>
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(Totp.Base32(text)));
}
