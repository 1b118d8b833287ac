using System.Net.Security;
using System.Security.Cryptography;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace HelloJohn.Console.Core.Notifications.Senders;

/// <summary>E-mail over SMTP with MailKit: STARTTLS or TLS, optional authentication, certificates checked against the
/// system's authorities or, for a private server, against a pinned SHA-256 fingerprint.</summary>
internal sealed class EmailSender : INotificationSender
{
    public bool Handles(NotificationChannelKind kind) => kind == NotificationChannelKind.Email;

    public async Task<string> SendAsync(NotificationChannelKind kind, ChannelSettings settings, ChannelSecrets secrets, NotificationMessage message, CancellationToken ct)
    {
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(settings.From!));
        foreach (var to in settings.To)
        {
            mail.To.Add(MailboxAddress.Parse(to));
        }

        mail.Subject = message.Subject;
        mail.Headers.Add("X-HelloJohn-Event", message.EventCode);
        mail.Body = new TextPart("plain") { Text = message.PlainText() };

        using var client = new SmtpClient();
        var pinned = settings.TrustedCertificateSha256;
        client.ServerCertificateValidationCallback = (_, certificate, _, errors) =>
            errors == SslPolicyErrors.None ||
            (pinned is not null && certificate is not null &&
             string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), pinned, StringComparison.OrdinalIgnoreCase));
        var where = $"{settings.SmtpHost}:{settings.SmtpPort}";
        try
        {
            await client.ConnectAsync(settings.SmtpHost ?? "", settings.SmtpPort, settings.SmtpSecurity switch
            {
                SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
                SmtpSecurity.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTls,
            }, ct);
            if (!string.IsNullOrEmpty(settings.SmtpUserName))
            {
                await client.AuthenticateAsync(settings.SmtpUserName, secrets.Password ?? "", ct);
            }

            var reply = await client.SendAsync(mail, ct);
            await client.DisconnectAsync(quit: true, ct);
            return $"{where} accepted it: {reply}".Trim();
        }
        catch (AuthenticationException e)
        {
            throw new NotificationSendException($"{where} refused the user name or password ({e.Message}).", e);
        }
        catch (SslHandshakeException e)
        {
            throw new NotificationSendException($"TLS with {where} failed: its certificate is not trusted by this machine (pin its SHA-256 fingerprint for a private server) or the port does not speak {settings.SmtpSecurity}.", e);
        }
        catch (SmtpCommandException e)
        {
            throw new NotificationSendException($"{where} refused the message: {(int)e.StatusCode} {e.Message}", e);
        }
        catch (Exception e) when (e is SmtpProtocolException or System.Net.Sockets.SocketException or IOException or NotSupportedException)
        {
            throw new NotificationSendException($"Could not talk to {where}: {e.Message}", e);
        }
    }
}
