using System.Buffers.Binary;
using System.Security.Cryptography;

namespace HelloJohn.Console.Tests.Security;

/// <summary>RFC 6238 time-based codes (HMAC-SHA1, 30-second steps), as an authenticator app computes them from the
/// base32 key the console shows. Shared with the browser tests, which type the code a phone would show.</summary>
public static class Totp
{
    public static string Code(string base32Key, DateTimeOffset at, int digits = 6) => Code(Base32(base32Key), at.ToUnixTimeSeconds() / 30, digits);

    public static string Code(byte[] key, long step, int digits)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        var hash = HMACSHA1.HashData(key, counter);
        var offset = hash[^1] & 0x0f;
        var value = BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7fffffff;
        return (value % (int)Math.Pow(10, digits)).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    /// <summary>RFC 4648 base32, ignoring spaces, case and padding (the console groups the key in fours).</summary>
    public static byte[] Base32(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.ToUpperInvariant().Where(c => c is not (' ' or '=')))
        {
            buffer = (buffer << 5) | alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        return [.. bytes];
    }
}
