using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.Runtime.Internal.Auth;
using Microsoft.AspNetCore.Http;

namespace HelloJohn.Console.Tests.Secrets.Fixtures;

/// <summary>The five Secrets Manager operations the console uses, in memory, behind a real HTTP server on 127.0.0.1.
/// Every request's SigV4 signature is checked the way AWS does, with its own canonicalisation and AWSSDK.Core's
/// signature computation as the oracle (not the console's signer), and refused with AWS's error shape.</summary>
public sealed partial class FakeSecretsManagerServer : IAsyncDisposable
{
    public const string Region = "us-east-1";

    private readonly ConcurrentDictionary<string, Account> _accounts = new();
    private readonly Dictionary<string, StoredSecret> _secrets = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private LoopbackHttpServer? _http;

    public Uri ServiceUrl => _http!.BaseAddress;

    /// <summary>How many versions ListSecretVersionIds returns per page, so the client's paging is exercised.</summary>
    public int PageSize { get; set; } = 2;

    public int RequestCount;

    public static async Task<FakeSecretsManagerServer> StartAsync()
    {
        var server = new FakeSecretsManagerServer();
        server._http = await LoopbackHttpServer.StartAsync(server.HandleAsync);
        return server;
    }

    /// <summary>An IAM identity; <paramref name="allowedOperations"/> null means every operation.</summary>
    public void AddAccount(string accessKeyId, string secretAccessKey, params string[]? allowedOperations) =>
        _accounts[accessKeyId] = new Account(secretAccessKey, allowedOperations is { Length: > 0 } ? [.. allowedOperations] : null);

    public int SecretCount
    {
        get
        {
            lock (_gate)
            {
                return _secrets.Count;
            }
        }
    }

    public int VersionCount(string fullName)
    {
        lock (_gate)
        {
            return _secrets.TryGetValue(fullName, out var s) ? s.Versions.Count : 0;
        }
    }

    public string? CurrentValue(string fullName)
    {
        lock (_gate)
        {
            return _secrets.TryGetValue(fullName, out var s) ? s.Versions.Single(v => v.Stages.Contains("AWSCURRENT")).Value : null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_http is not null)
        {
            await _http.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref RequestCount);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();

        var denied = CheckSignature(context.Request, body, out var account);
        if (denied is not null)
        {
            await ErrorAsync(context, denied.Value.Code, denied.Value.Message);
            return;
        }

        var operation = context.Request.Headers["X-Amz-Target"].ToString().Replace("secretsmanager.", "", StringComparison.Ordinal);
        if (account!.AllowedOperations is { } allowed && !allowed.Contains(operation))
        {
            await ErrorAsync(context, "AccessDeniedException", $"User: arn:aws:iam::123456789012:user/limited is not authorized to perform: secretsmanager:{operation} because no identity-based policy allows the secretsmanager:{operation} action");
            return;
        }

        JsonObject request;
        try
        {
            request = JsonNode.Parse(body)!.AsObject();
        }
        catch (JsonException)
        {
            await ErrorAsync(context, "SerializationException", "Start of structure or map found where not expected.");
            return;
        }

        JsonObject? response;
        (string Code, string Message)? error;
        lock (_gate)
        {
            (response, error) = operation switch
            {
                "CreateSecret" => CreateSecret(request),
                "PutSecretValue" => PutSecretValue(request),
                "GetSecretValue" => GetSecretValue(request),
                "DescribeSecret" => DescribeSecret(request),
                "ListSecretVersionIds" => ListSecretVersionIds(request),
                _ => (null, ("UnknownOperationException", $"Unknown operation {operation}")),
            };
        }

        if (error is { } e)
        {
            await ErrorAsync(context, e.Code, e.Message);
            return;
        }

        context.Response.ContentType = "application/x-amz-json-1.1";
        await context.Response.WriteAsync(response!.ToJsonString());
    }

    /// <summary>Null when the request is signed by a known account with a valid signature.</summary>
    private (string Code, string Message)? CheckSignature(HttpRequest request, byte[] body, out Account? account)
    {
        account = null;
        var authorization = request.Headers.Authorization.ToString();
        var match = AuthorizationPattern().Match(authorization);
        if (!match.Success)
        {
            return ("MissingAuthenticationTokenException", "Missing Authentication Token");
        }

        var accessKeyId = match.Groups["key"].Value;
        var date = match.Groups["date"].Value;
        var region = match.Groups["region"].Value;
        var service = match.Groups["service"].Value;
        var signedHeaders = match.Groups["signed"].Value;
        var signature = match.Groups["signature"].Value;
        if (!_accounts.TryGetValue(accessKeyId, out account))
        {
            return ("UnrecognizedClientException", "The security token included in the request is invalid.");
        }

        if (region != Region)
        {
            return ("InvalidSignatureException", $"Credential should be scoped to a valid region, not '{region}'. ");
        }

        if (service != "secretsmanager")
        {
            return ("InvalidSignatureException", $"Credential should be scoped to correct service: 'secretsmanager'. ");
        }

        var amzDate = request.Headers["X-Amz-Date"].ToString();
        if (!DateTime.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var signedAt)
            || !amzDate.StartsWith(date, StringComparison.Ordinal))
        {
            return ("IncompleteSignatureException", "Date must be in ISO-8601 'basic format'.");
        }

        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        if ((now - signedAt).Duration() > TimeSpan.FromMinutes(5))
        {
            return ("InvalidSignatureException", $"Signature expired: {amzDate} is now earlier than {now.AddMinutes(-5):yyyyMMdd'T'HHmmss'Z'} ({now:yyyyMMdd'T'HHmmss'Z'} - 5 min.)");
        }

        var names = signedHeaders.Split(';');
        if (!names.Contains("host") || !names.Contains("x-amz-date"))
        {
            return ("IncompleteSignatureException", "Signed headers must include host and x-amz-date.");
        }

        // The canonical request as AWS rebuilds it from what arrived on the wire.
        var headerLines = names.Select(n => n + ":" + (n == "host" ? request.Host.Value : string.Join(',', request.Headers[n].Select(v => v!.Trim()))));
        var canonical = string.Join('\n',
            request.Method,
            request.Path.HasValue ? request.Path.Value : "/",
            "",
            string.Join('\n', headerLines) + "\n",
            signedHeaders,
            Convert.ToHexStringLower(SHA256.HashData(body)));
        var expected = AWS4Signer.ComputeSignature(accessKeyId, account.SecretAccessKey, region, signedAt, service, signedHeaders, canonical);
        if (!CryptographicOperations.FixedTimeEquals(Convert.FromHexString(expected.Signature), Convert.FromHexString(signature)))
        {
            return ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        }

        return null;
    }

    private (JsonObject?, (string, string)?) CreateSecret(JsonObject request)
    {
        var name = (string)request["Name"]!;
        if (_secrets.ContainsKey(name))
        {
            return (null, ("ResourceExistsException", $"The operation failed because the secret {name} already exists."));
        }

        var secret = new StoredSecret(name, $"arn:aws:secretsmanager:{Region}:123456789012:secret:{name}-AbCdEf", Now());
        _secrets[name] = secret;
        var version = secret.Add((string)request["ClientRequestToken"]!, (string)request["SecretString"]!, Now());
        return (new JsonObject { ["ARN"] = secret.Arn, ["Name"] = name, ["VersionId"] = version.Id }, null);
    }

    private (JsonObject?, (string, string)?) PutSecretValue(JsonObject request)
    {
        if (!_secrets.TryGetValue((string)request["SecretId"]!, out var secret))
        {
            return (null, NotFound());
        }

        var version = secret.Add((string)request["ClientRequestToken"]!, (string)request["SecretString"]!, Now());
        return (new JsonObject { ["ARN"] = secret.Arn, ["Name"] = secret.Name, ["VersionId"] = version.Id, ["VersionStages"] = new JsonArray("AWSCURRENT") }, null);
    }

    private (JsonObject?, (string, string)?) GetSecretValue(JsonObject request)
    {
        if (!_secrets.TryGetValue((string)request["SecretId"]!, out var secret))
        {
            return (null, NotFound());
        }

        var versionId = (string?)request["VersionId"];
        var version = versionId is null
            ? secret.Versions.Single(v => v.Stages.Contains("AWSCURRENT"))
            : secret.Versions.FirstOrDefault(v => v.Id == versionId);
        if (version is null)
        {
            return (null, ("ResourceNotFoundException", $"Secrets Manager can't find the specified secret value for VersionId: {versionId}"));
        }

        return (new JsonObject
        {
            ["ARN"] = secret.Arn,
            ["Name"] = secret.Name,
            ["VersionId"] = version.Id,
            ["SecretString"] = version.Value,
            ["VersionStages"] = new JsonArray([.. version.Stages.Select(s => JsonValue.Create(s))]),
            ["CreatedDate"] = version.CreatedDate,
        }, null);
    }

    private (JsonObject?, (string, string)?) DescribeSecret(JsonObject request)
    {
        if (!_secrets.TryGetValue((string)request["SecretId"]!, out var secret))
        {
            return (null, NotFound());
        }

        var stages = new JsonObject();
        foreach (var v in secret.Versions.Where(v => v.Stages.Count > 0))
        {
            stages[v.Id] = new JsonArray([.. v.Stages.Select(s => JsonValue.Create(s))]);
        }

        return (new JsonObject
        {
            ["ARN"] = secret.Arn,
            ["Name"] = secret.Name,
            ["CreatedDate"] = secret.CreatedDate,
            ["LastChangedDate"] = secret.Versions.Max(v => v.CreatedDate),
            ["VersionIdsToStages"] = stages,
        }, null);
    }

    private (JsonObject?, (string, string)?) ListSecretVersionIds(JsonObject request)
    {
        if (!_secrets.TryGetValue((string)request["SecretId"]!, out var secret))
        {
            return (null, NotFound());
        }

        var start = request["NextToken"] is { } token ? int.Parse((string)token!, CultureInfo.InvariantCulture) : 0;
        var page = secret.Versions.Skip(start).Take(PageSize).ToList();
        var response = new JsonObject
        {
            ["ARN"] = secret.Arn,
            ["Name"] = secret.Name,
            ["Versions"] = new JsonArray([.. page.Select(v => new JsonObject
            {
                ["VersionId"] = v.Id,
                ["VersionStages"] = new JsonArray([.. v.Stages.Select(s => JsonValue.Create(s))]),
                ["CreatedDate"] = v.CreatedDate,
            })]),
        };
        if (start + page.Count < secret.Versions.Count)
        {
            response["NextToken"] = (start + page.Count).ToString(CultureInfo.InvariantCulture);
        }

        return (response, null);
    }

    private static (string, string) NotFound() => ("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");

    private static double Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private static async Task ErrorAsync(HttpContext context, string code, string message)
    {
        context.Response.StatusCode = 400;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-ErrorType"] = $"{code}:http://internal.amazon.com/coral/com.amazonaws.secretsmanager/";
        await context.Response.WriteAsync(new JsonObject { ["__type"] = code, ["message"] = message }.ToJsonString());
    }

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>\d{8})/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request, SignedHeaders=(?<signed>[a-z0-9;-]+), Signature=(?<signature>[0-9a-f]{64})$")]
    private static partial Regex AuthorizationPattern();

    private sealed record Account(string SecretAccessKey, HashSet<string>? AllowedOperations);

    private sealed class StoredSecret(string name, string arn, double createdDate)
    {
        public string Name { get; } = name;
        public string Arn { get; } = arn;
        public double CreatedDate { get; } = createdDate;
        public List<StoredVersion> Versions { get; } = [];

        public StoredVersion Add(string id, string value, double createdDate)
        {
            if (Versions.FirstOrDefault(v => v.Id == id) is { } existing)
            {
                return existing;
            }

            foreach (var v in Versions)
            {
                v.Stages.Remove("AWSPREVIOUS");
                if (v.Stages.Remove("AWSCURRENT"))
                {
                    v.Stages.Add("AWSPREVIOUS");
                }
            }

            var version = new StoredVersion(id, value, createdDate, ["AWSCURRENT"]);
            Versions.Add(version);
            return version;
        }
    }

    private sealed record StoredVersion(string Id, string Value, double CreatedDate, List<string> Stages);
}
