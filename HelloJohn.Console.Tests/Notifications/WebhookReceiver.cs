using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using HelloJohn.Console.Tests.Secrets.Fixtures;
using Microsoft.AspNetCore.Http;

namespace HelloJohn.Console.Tests.Notifications;

/// <summary>One request as the receiver got it.</summary>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>Checks X-HelloJohn-Signature-256 the way the README tells a receiver to: HMAC-SHA256 of the exact body
    /// under the shared secret, compared in constant time.</summary>
    public bool SignatureValid(string secret)
    {
        var expected = Encoding.ASCII.GetBytes("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Body)));
        var presented = Encoding.ASCII.GetBytes(Headers.GetValueOrDefault("X-HelloJohn-Signature-256") ?? "");
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }
}

/// <summary>Chat services and webhook receivers on loopback: records every request by path and answers 200, except under
/// <c>/hang</c>, where it holds the request open and never answers (a dead receiver).</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly CancellationTokenSource _stop = new();
    private LoopbackHttpServer? _server;
    private int _hanging;

    public Uri BaseAddress => _server!.BaseAddress;
    public int Hanging => Volatile.Read(ref _hanging);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        receiver._server = await LoopbackHttpServer.StartAsync(receiver.HandleAsync);
        return receiver;
    }

    public string Url(string path) => new Uri(BaseAddress, path.TrimStart('/')).ToString();

    public IReadOnlyList<ReceivedRequest> At(string path) => [.. _received.Where(r => r.Path == path)];

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var path = context.Request.Path.Value ?? "";
        _received.Enqueue(new ReceivedRequest(path, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body.ToArray()));
        if (path.StartsWith("/hang", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _hanging);
            try
            {
                await Task.Delay(Timeout.Infinite, CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stop.Token).Token);
            }
            catch (OperationCanceledException)
            {
                // The console gave up on the attempt, or the test ended.
            }
            finally
            {
                Interlocked.Decrement(ref _hanging);
            }

            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.WriteAsync("ok");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _stop.Dispose();
    }
}
