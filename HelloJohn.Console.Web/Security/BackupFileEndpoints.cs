using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Security;

namespace HelloJohn.Console.Web.Security;

/// <summary>A backup file downloaded from the Backups page by a signed-in administrator: streamed from a store that holds
/// it (never read into memory), audited by <see cref="BackupDownloadService"/>. The API's token-authenticated download is
/// <c>/api/v1/backups/{id}/download</c>.</summary>
public static class BackupFileEndpoints
{
    public static string DownloadUrl(Guid backupId) => $"/backups/{backupId}/download";

    public static IEndpointRouteBuilder MapBackupFileEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/backups/{id:guid}/download", DownloadAsync).RequireAuthorization(ConsolePolicies.For(ConsolePermission.DownloadBackup));
        return app;
    }

    private static async Task<IResult> DownloadAsync(Guid id, HttpContext http, BackupDownloadService downloads)
    {
        BackupDownload download;
        try
        {
            download = await downloads.OpenAsync(CurrentActor.FromPrincipal(http.User), id, "Backups page", http.RequestAborted);
        }
        catch (KeyNotFoundException e)
        {
            return Results.Text(e.Message, "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound);
        }
        catch (InvalidOperationException e)
        {
            return Results.Text(e.Message, "text/plain; charset=utf-8", statusCode: StatusCodes.Status409Conflict);
        }
        catch (PermissionDeniedException e)
        {
            return Results.Text(e.Message, "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }

        return Stream(http, download);
    }

    /// <summary>The response that streams an opened backup file, its SHA-256 in <c>X-HelloJohn-Sha256</c>.</summary>
    internal static IResult Stream(HttpContext http, BackupDownload download)
    {
        http.Response.RegisterForDisposeAsync(download);
        http.Response.Headers.CacheControl = "no-store";
        if (download.Sha256 is not null)
        {
            http.Response.Headers["X-HelloJohn-Sha256"] = download.Sha256;
        }

        if (download.SizeBytes is { } size)
        {
            http.Response.ContentLength = size;
        }

        return Results.Stream(download.Content, "application/octet-stream", download.FileName);
    }
}
