using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using HelloJohn.Console.Core.Security.ApiTokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Web.Api;

/// <summary>Settings of the REST API (section <c>Api</c>, environment <c>Api__…</c>).</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Api__BadTokensPerMinute: refused tokens one client address may present per minute; past that, every
    /// token request from it is answered 429 until the minute ends, good tokens included, so guessing gains nothing.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000, ErrorMessage = "Api__BadTokensPerMinute must be between 1 and 100000.")]
    public int BadTokensPerMinute { get; set; } = 10;
}

/// <summary>Counts refused tokens per client address with ASP.NET Core's fixed-window rate limiter.</summary>
public sealed class BadTokenLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public BadTokenLimiter(IOptions<ApiOptions> options) =>
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.BadTokensPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public bool IsLimited(string address) => _limiter.GetStatistics(address)?.CurrentAvailablePermits == 0;

    public void CountRefusal(string address)
    {
        using var lease = _limiter.AttemptAcquire(address);
    }

    public void Dispose() => _limiter.Dispose();
}

public sealed class ApiTokenAuthenticationOptions : AuthenticationSchemeOptions;

/// <summary>Authenticates <c>Authorization: Bearer hjc_…</c>. The owner's account is read at every request: their
/// current role, and refusal when they are disabled or locked. Cookies never open the API.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<ApiTokenAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiTokenService tokens,
    BadTokenLimiter limiter)
    : AuthenticationHandler<ApiTokenAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";
    public const string TokenIdClaim = "hjc:token_id";
    public const string TokenPrefixClaim = "hjc:token_prefix";
    public const string TokenNameClaim = "hjc:token_name";
    private const string LimitedKey = "hjc:api-limited";
    private const string RefusalKey = "hjc:api-refusal";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (limiter.IsLimited(address))
        {
            // Checked before the token: while limited, a good token is refused too and guessing learns nothing.
            Context.Items[LimitedKey] = true;
            return AuthenticateResult.Fail("too many refused tokens from this address");
        }

        var check = await tokens.CheckAsync(header["Bearer ".Length..].Trim(), address, Context.RequestAborted);
        if (!check.Succeeded)
        {
            limiter.CountRefusal(address);
            Context.Items[RefusalKey] = check.Refusal;
            Logger.LogInformation("API token refused from {Address}: {Reason}", address, check.Refusal);
            return AuthenticateResult.Fail(check.Refusal!);
        }

        var actor = check.Actor!;
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, actor.UserId!),
            new(ClaimTypes.Name, actor.Name),
            new(TokenIdClaim, check.TokenId!.Value.ToString()),
            new(TokenPrefixClaim, check.Prefix!),
            new(TokenNameClaim, check.TokenName!),
        };
        claims.AddRange(actor.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.ContainsKey(LimitedKey))
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = "60";
            await Problem("Too many refused API tokens", "This address presented too many tokens that were refused. Every token request from it is refused for up to a minute; nothing was run.");
            return;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        var why = Context.Items[RefusalKey] as string;
        Response.Headers.WWWAuthenticate = why is null ? "Bearer realm=\"HelloJohn Console\"" : $"Bearer realm=\"HelloJohn Console\", error=\"invalid_token\", error_description=\"{why}\"";
        await Problem("API token required", why is null
            ? "Send a personal API token as 'Authorization: Bearer hjc_…'. Create one under API tokens in the console. Nothing was run."
            : $"The API token was refused: {why}. Nothing was run.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Problem("Not allowed", "The token's account has no console role. Nothing was run.");
    }

    private Task Problem(string title, string detail) =>
        Results.Problem(detail, statusCode: Response.StatusCode, title: title).ExecuteAsync(Context);
}
