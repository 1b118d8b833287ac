using Npgsql;

namespace HelloJohn.Console.Core.Postgres;

/// <summary>Parses the two forms people paste: <c>postgres://user:pass@host:5432/db?sslmode=require</c> and Npgsql's
/// <c>Host=…;Username=…</c> keyword form.</summary>
public static class PgConnection
{
    public static NpgsqlConnectionStringBuilder Parse(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new FormatException("The connection string is empty.");
        }

        value = value.Trim();
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return ParseUrl(value);
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(value);
            if (string.IsNullOrEmpty(builder.Host))
            {
                throw new FormatException("The connection string names no host (Host=…).");
            }

            return builder;
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"The connection string is neither a postgres:// URL nor Npgsql keyword form: {e.Message}", e);
        }
    }

    private static NpgsqlConnectionStringBuilder ParseUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException("The postgres:// URL could not be read; expected postgres://user:password@host:5432/database.");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        if (string.IsNullOrEmpty(builder.Database))
        {
            throw new FormatException("The postgres:// URL names no database (the path after the host).");
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]).ToLowerInvariant();
            var val = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (key)
            {
                case "sslmode":
                    builder.SslMode = Enum.Parse<SslMode>(val.Replace("-", ""), ignoreCase: true);
                    break;
                case "application_name":
                    builder.ApplicationName = val;
                    break;
                case "connect_timeout":
                    builder.Timeout = int.Parse(val, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                default:
                    break;
            }
        }

        return builder;
    }

    /// <summary>A copy with another database name, e.g. for CREATE DATABASE through <c>postgres</c>.</summary>
    public static NpgsqlConnectionStringBuilder WithDatabase(this NpgsqlConnectionStringBuilder source, string database)
    {
        var copy = new NpgsqlConnectionStringBuilder(source.ConnectionString) { Database = database };
        return copy;
    }

    /// <summary>Host:port/database and user, safe to show and log (no password).</summary>
    public static string Describe(this NpgsqlConnectionStringBuilder b) => $"{b.Username}@{b.Host}:{b.Port}/{b.Database}";

    /// <summary>postgres:// URL form, for showing what to deploy. Includes the password only when asked.</summary>
    public static string ToUrl(this NpgsqlConnectionStringBuilder b, bool includePassword)
    {
        var user = Uri.EscapeDataString(b.Username ?? "");
        var password = includePassword && !string.IsNullOrEmpty(b.Password) ? ":" + Uri.EscapeDataString(b.Password) : "";
        var host = b.Host?.Contains(':') == true ? $"[{b.Host}]" : b.Host;
        var ssl = b.SslMode == SslMode.Prefer ? "" : $"?sslmode={b.SslMode.ToString().ToLowerInvariant()}";
        return $"postgres://{user}{password}@{host}:{b.Port}/{Uri.EscapeDataString(b.Database ?? "")}{ssl}";
    }
}
