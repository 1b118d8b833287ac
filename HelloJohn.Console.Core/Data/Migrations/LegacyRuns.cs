namespace HelloJohn.Console.Core.Data.Migrations;

/// <summary>What the migrations to the run lifecycle share: runs that were running under a console before it are
/// owned by one stopped instance, whose lock nobody holds, so the first sweep ends them with the reason.</summary>
internal static class LegacyRuns
{
    public const string InstanceId = "00000000-0000-0000-0000-00000000c0de";

    /// <summary>The stopped instance, added once, when <paramref name="table"/> has a running row.</summary>
    public static string InstanceSql(string table) => $"""
        INSERT INTO console_instances ("Id", "Host", "ProcessId", "StartedAt", "LastSeenAt", "StoppedAt")
        SELECT '{InstanceId}'::uuid, 'a console before this version', 0, now(), now(), now()
        WHERE EXISTS (SELECT 1 FROM {table} WHERE "Status" = 'Running')
        ON CONFLICT ("Id") DO NOTHING
        """;
}
