using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Secrets.Aws;

/// <summary>The five AWS Secrets Manager operations the escrow needs, spoken as AWS JSON 1.1 over HTTPS and signed
/// with SigV4. AWSSDK.SecretsManager is not available to this build; AWSSDK.Core still supplies the credentials.</summary>
public sealed class SecretsManagerClient(
    HttpClient http,
    IOptions<SecretsOptions> options,
    IAwsCredentialSource credentials,
    TimeProvider time,
    ILogger<SecretsManagerClient> logger)
{
    public const string SigningService = "secretsmanager";
    private const string ContentType = "application/x-amz-json-1.1";

    private static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Region => options.Value.Region ?? "";

    public Uri Endpoint => string.IsNullOrWhiteSpace(options.Value.ServiceUrl)
        ? new Uri($"https://secretsmanager.{Region}.amazonaws.com/")
        : new Uri(options.Value.ServiceUrl);

    public Task<CreateSecretResponse> CreateSecretAsync(string name, string value, string clientRequestToken, CancellationToken ct) =>
        SendAsync<CreateSecretRequest, CreateSecretResponse>("CreateSecret", new CreateSecretRequest(name, value, clientRequestToken), name, ct);

    public Task<PutSecretValueResponse> PutSecretValueAsync(string secretId, string value, string clientRequestToken, CancellationToken ct) =>
        SendAsync<PutSecretValueRequest, PutSecretValueResponse>("PutSecretValue", new PutSecretValueRequest(secretId, value, clientRequestToken), secretId, ct);

    public Task<GetSecretValueResponse> GetSecretValueAsync(string secretId, string? versionId, CancellationToken ct) =>
        SendAsync<GetSecretValueRequest, GetSecretValueResponse>("GetSecretValue", new GetSecretValueRequest(secretId, versionId), secretId, ct);

    public Task<DescribeSecretResponse> DescribeSecretAsync(string secretId, CancellationToken ct) =>
        SendAsync<DescribeSecretRequest, DescribeSecretResponse>("DescribeSecret", new DescribeSecretRequest(secretId), secretId, ct);

    public Task<ListSecretVersionIdsResponse> ListSecretVersionIdsAsync(string secretId, string? nextToken, CancellationToken ct) =>
        SendAsync<ListSecretVersionIdsRequest, ListSecretVersionIdsResponse>("ListSecretVersionIds", new ListSecretVersionIdsRequest(secretId, IncludeDeprecated: true, MaxResults: 100, nextToken), secretId, ct);

    private async Task<TResponse> SendAsync<TRequest, TResponse>(string operation, TRequest body, string secretName, CancellationToken ct)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(body, Json);
        var signingCredentials = await credentials.GetAsync(ct);
        var endpoint = Endpoint;
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(ContentType);
        var amzDate = SigV4Signer.FormatAmzDate(time.GetUtcNow());
        var target = $"secretsmanager.{operation}";
        var signed = new List<KeyValuePair<string, string>>
        {
            new("content-type", ContentType),
            new("host", endpoint.Authority),
            new("x-amz-date", amzDate),
            new("x-amz-target", target),
        };
        if (signingCredentials.SessionToken is { } token)
        {
            signed.Add(new("x-amz-security-token", token));
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", token);
        }

        var signature = SigV4Signer.Sign(new SigV4Request("POST", endpoint.AbsolutePath, "", signed, payload), signingCredentials, Region, SigningService, time.GetUtcNow());
        request.Headers.Host = endpoint.Authority;
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        request.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            logger.LogWarning("AWS Secrets Manager {Operation} on {SecretName} did not reach {Endpoint}: {Reason}", operation, secretName, endpoint, e.Message);
            var reason = e is TaskCanceledException ? $"no answer within {http.Timeout.TotalSeconds:0} seconds" : e.Message;
            throw new SecretStoreException(SecretStoreFailure.Unreachable,
                $"AWS Secrets Manager could not be reached at {endpoint} (region '{Region}'): {reason}. {NothingDone(operation)} " +
                $"Check {SecretsOptions.Section}:{nameof(SecretsOptions.Region)} (is the region right and enabled for the account?), {SecretsOptions.Section}:{nameof(SecretsOptions.ServiceUrl)} if set, and the network path to AWS.");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode)
            {
                return JsonSerializer.Deserialize<TResponse>(text, Json)
                    ?? throw new SecretStoreException(SecretStoreFailure.Rejected, $"AWS Secrets Manager answered {operation} with an empty body. {NothingDone(operation)} Try again.");
            }

            var (code, message) = ParseError(response, text);
            logger.LogWarning("AWS Secrets Manager {Operation} on {SecretName} failed with HTTP {Status} {ErrorCode}", operation, secretName, (int)response.StatusCode, code);
            throw Translate(operation, secretName, code, message, signingCredentials.SessionToken is not null);
        }
    }

    private SecretStoreException Translate(string operation, string secretName, string code, string? message, bool usedSessionToken)
    {
        var said = string.IsNullOrWhiteSpace(message) ? "" : $" AWS said: \"{message}\".";
        var nothingDone = NothingDone(operation);
        var (failure, text) = code switch
        {
            "ResourceNotFoundException" => (SecretStoreFailure.NotFound,
                $"AWS Secrets Manager has no secret '{secretName}' (or no such version of it) in region '{Region}'. {nothingDone} Check {SecretsOptions.Section}:{nameof(SecretsOptions.Region)} and {SecretsOptions.Section}:{nameof(SecretsOptions.NamePrefix)}."),
            "AccessDeniedException" => (SecretStoreFailure.AccessDenied,
                $"AWS denied secretsmanager:{operation} on '{secretName}' to the credentials from {credentials.Description}.{said} {nothingDone} Grant that IAM identity secretsmanager:{operation} on arn:aws:secretsmanager:{Region}:<account>:secret:{options.Value.NamePrefix}*, or use other credentials."),
            "UnrecognizedClientException" or "InvalidClientTokenId" => (SecretStoreFailure.InvalidCredentials,
                $"AWS does not recognise the access key from {credentials.Description}.{said} {nothingDone} Check that the access key id is right, still active, and belongs to the account and partition of region '{Region}'."),
            "ExpiredTokenException" => (SecretStoreFailure.InvalidCredentials,
                $"The AWS session token from {credentials.Description} has expired.{said} {nothingDone} Refresh the temporary credentials (or configure a role the SDK can refresh by itself)."),
            "InvalidSignatureException" or "SignatureDoesNotMatch" when message?.Contains("expired", StringComparison.OrdinalIgnoreCase) == true => (SecretStoreFailure.ClockSkew,
                $"AWS rejected the request because its time stamp is too far from AWS's clock.{said} {nothingDone} Synchronise this host's clock (NTP) and try again."),
            "InvalidSignatureException" or "SignatureDoesNotMatch" => (SecretStoreFailure.InvalidCredentials,
                $"AWS rejected the request signature made with the credentials from {credentials.Description}.{said} {nothingDone} The secret access key{(usedSessionToken ? " or session token" : "")} does not match the access key id, or {SecretsOptions.Section}:{nameof(SecretsOptions.Region)} is not the region of the endpoint."),
            _ => (SecretStoreFailure.Rejected,
                $"AWS Secrets Manager refused {operation} on '{secretName}' with {code}.{said} {nothingDone}"),
        };
        return new SecretStoreException(failure, text) { ErrorCode = code };
    }

    private static string NothingDone(string operation) => operation is "CreateSecret" or "PutSecretValue"
        ? "Nothing was stored."
        : "Nothing was changed.";

    private static (string Code, string? Message) ParseError(HttpResponseMessage response, string body)
    {
        string? code = null;
        string? message = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in doc.RootElement.EnumerateObject())
                {
                    if (property.Value.ValueKind != JsonValueKind.String)
                    {
                        continue;
                    }

                    if (property.NameEquals("__type") || property.NameEquals("code"))
                    {
                        code = property.Value.GetString();
                    }
                    else if (property.Name.Equals("message", StringComparison.OrdinalIgnoreCase))
                    {
                        message = property.Value.GetString();
                    }
                }
            }
        }
        catch (JsonException)
        {
            message = body.Length > 300 ? body[..300] : body;
        }

        if (code is null && response.Headers.TryGetValues("x-amzn-ErrorType", out var values))
        {
            code = values.FirstOrDefault();
        }

        // "com.amazonaws.secretsmanager#AccessDeniedException" and "AccessDeniedException:http://…" both occur.
        code ??= $"HTTP {(int)response.StatusCode}";
        code = code[(code.LastIndexOf('#') + 1)..];
        var colon = code.IndexOf(':');
        if (colon > 0)
        {
            code = code[..colon];
        }

        return (code, message);
    }
}

public sealed record CreateSecretRequest(string Name, string SecretString, string ClientRequestToken)
{
    public override string ToString() => $"CreateSecretRequest {{ Name = {Name}, SecretString = ***, ClientRequestToken = {ClientRequestToken} }}";
}

public sealed record PutSecretValueRequest(string SecretId, string SecretString, string ClientRequestToken)
{
    public override string ToString() => $"PutSecretValueRequest {{ SecretId = {SecretId}, SecretString = ***, ClientRequestToken = {ClientRequestToken} }}";
}

public sealed record GetSecretValueRequest(string SecretId, string? VersionId);

public sealed record DescribeSecretRequest(string SecretId);

public sealed record ListSecretVersionIdsRequest(string SecretId, bool IncludeDeprecated, int MaxResults, string? NextToken);

public sealed record CreateSecretResponse([property: JsonPropertyName("ARN")] string? Arn, string? Name, string? VersionId);

public sealed record PutSecretValueResponse([property: JsonPropertyName("ARN")] string? Arn, string? Name, string? VersionId, IReadOnlyList<string>? VersionStages);

public sealed record GetSecretValueResponse(
    [property: JsonPropertyName("ARN")] string? Arn,
    string? Name,
    string? VersionId,
    string? SecretString,
    IReadOnlyList<string>? VersionStages,
    double? CreatedDate)
{
    public override string ToString() => $"GetSecretValueResponse {{ Name = {Name}, VersionId = {VersionId}, SecretString = *** }}";
}

public sealed record DescribeSecretResponse(
    [property: JsonPropertyName("ARN")] string? Arn,
    string? Name,
    double? CreatedDate,
    double? LastChangedDate,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? VersionIdsToStages);

public sealed record SecretVersionsListEntry(string VersionId, IReadOnlyList<string>? VersionStages, double? CreatedDate);

public sealed record ListSecretVersionIdsResponse(
    [property: JsonPropertyName("ARN")] string? Arn,
    string? Name,
    IReadOnlyList<SecretVersionsListEntry>? Versions,
    string? NextToken);
