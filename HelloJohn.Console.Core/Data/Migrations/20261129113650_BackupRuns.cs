using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class BackupRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Every backup taken by a run gets its run record (an entry rebuilt from storage never had a run). A backup
            // still running belonged to a console before this version: its owner is a stopped instance, so the first
            // sweep ends it with the reason and removes what it left.
            migrationBuilder.Sql(LegacyRuns.InstanceSql("backups"));
            migrationBuilder.Sql($"""
                INSERT INTO runs ("Id", "Kind", "TargetId", "Status", "Phase", "RequestedBy", "CreatedAt", "StartedAt", "FinishedAt", "JobId",
                                  "Error", "FailureKind", "OwnerInstanceId", "OwnerHost", "OwnerProcessId", "HeartbeatAt", "ProgressDone")
                SELECT b."Id", 'Backup', b."TargetId",
                       CASE b."Status" WHEN 'Queued' THEN 'Queued' WHEN 'Running' THEN 'Running' WHEN 'Failed' THEN 'Failed'
                                       WHEN 'Cancelled' THEN 'Cancelled' ELSE 'Succeeded' END,
                       CASE b."Status" WHEN 'Queued' THEN 'Queued' WHEN 'Running' THEN 'Dumping' ELSE 'Done' END,
                       b."RequestedBy", b."CreatedAt", b."StartedAt", b."FinishedAt", b."JobId",
                       CASE WHEN b."Status" IN ('Failed', 'Cancelled') THEN b."Error" END,
                       CASE WHEN b."Status" = 'Failed' THEN CASE WHEN b."Error" LIKE 'Could not reach%' THEN 'TargetUnreachable' ELSE 'Unexpected' END END,
                       CASE WHEN b."Status" = 'Running' THEN '{LegacyRuns.InstanceId}'::uuid END,
                       b."RunnerHost", b."RunnerPid", b."HeartbeatAt", b."BytesWritten"
                FROM backups b
                WHERE b."Trigger" <> 'Imported'
                """);

            migrationBuilder.DropColumn(
                name: "HeartbeatAt",
                table: "backups");

            migrationBuilder.DropColumn(
                name: "JobId",
                table: "backups");

            migrationBuilder.DropColumn(
                name: "RunnerHost",
                table: "backups");

            migrationBuilder.DropColumn(
                name: "RunnerPid",
                table: "backups");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "HeartbeatAt",
                table: "backups",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "JobId",
                table: "backups",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RunnerHost",
                table: "backups",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "RunnerPid",
                table: "backups",
                type: "integer",
                nullable: true);
        }
    }
}
