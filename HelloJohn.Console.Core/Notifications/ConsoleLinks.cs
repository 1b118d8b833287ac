namespace HelloJohn.Console.Core.Notifications;

/// <summary>Paths of the console's pages that show one thing, for the links notifications carry (the console base URL,
/// <see cref="NotificationOptions.ConsoleBaseUrl"/>, is put in front when a message is sent).</summary>
public static class ConsoleLinks
{
    /// <summary>The Backups page showing this one backup file, with its details.</summary>
    public static string Backup(Guid backupId) => $"/backups?backup={backupId}";

    /// <summary>The Backups page showing this one set, with its members.</summary>
    public static string Set(Guid setId) => $"/backups?set={setId}";

    /// <summary>The Point-in-time page of this server.</summary>
    public static string PointInTime(Guid serverId) => $"/pitr/{serverId}";
}
