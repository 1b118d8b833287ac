using System.Net.Http.Headers;
using System.Text;

namespace HelloJohn.Console.Core.Notifications.Senders;

/// <summary>Posts a JSON body. Redirects are not followed (a moved webhook is a configuration to fix, and a redirect
/// would resend the body elsewhere); any status other than 2xx fails the attempt.</summary>
internal static class WebhookPost
{
    public const string HttpClientName = "HelloJohn.Console.Notifications";

    public static async Task<string> PostJsonAsync(IHttpClientFactory clients, string url, byte[] body, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken ct)
    {
        var http = clients.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("HelloJohn-Console", "1.0"));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            // HttpClient names host and port at most, never the path that holds a chat webhook's token.
            throw new NotificationSendException($"Could not reach {request.RequestUri!.Host}: {e.Message}", e);
        }

        using (response)
        {
            var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            if (response.IsSuccessStatusCode)
            {
                return status;
            }

            var said = await ReadSomeAsync(response, ct);
            throw new NotificationSendException($"{request.RequestUri!.Host} answered {status}{(said.Length == 0 ? "" : ": " + said)}");
        }
    }

    private static async Task<string> ReadSomeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new char[300];
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
        var read = await reader.ReadBlockAsync(buffer, ct);
        return new string(buffer, 0, read).ReplaceLineEndings(" ").Trim();
    }
}
