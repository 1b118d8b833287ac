using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class PitrRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Base backups and point-in-time restores become runs, under the same ids: every one gets its run, with who
            // asked (a base backup's reason named them), when, and how it ended. Those still running belonged to a
            // console before this version: their run is owned by a stopped instance, so the first sweep ends them with
            // the reason and cleans up what it can. An expired base backup's run succeeded; the catalog keeps "Expired".
            migrationBuilder.Sql(LegacyRuns.InstanceSql("pitr_base_backups"));
            migrationBuilder.Sql(LegacyRuns.InstanceSql("pitr_restores"));
            migrationBuilder.Sql($"""
                INSERT INTO runs ("Id", "Kind", "TargetId", "Status", "Phase", "RequestedBy", "CreatedAt", "StartedAt", "FinishedAt",
                                  "Error", "FailureKind", "OwnerInstanceId", "OwnerHost", "HeartbeatAt", "ProgressDone")
                SELECT b."Id", 'BaseBackup', t."Id",
                       CASE b."Status" WHEN 'Expired' THEN 'Succeeded' ELSE b."Status" END,
                       CASE b."Status" WHEN 'Queued' THEN 'Queued' WHEN 'Running' THEN 'Copying' ELSE 'Done' END,
                       CASE WHEN b."Reason" LIKE 'requested by %' THEN left(substr(b."Reason", 14), 256) ELSE 'system' END,
                       b."StartedAt", CASE WHEN b."Status" <> 'Queued' THEN b."StartedAt" END, b."FinishedAt",
                       CASE WHEN b."Status" IN ('Failed', 'Cancelled') THEN left(b."Error", 4000) END,
                       CASE WHEN b."Status" = 'Failed' THEN 'Unexpected' END,
                       CASE WHEN b."Status" = 'Running' THEN '{LegacyRuns.InstanceId}'::uuid END,
                       CASE WHEN b."Status" = 'Running' THEN 'a console before this version' END,
                       CASE WHEN b."Status" = 'Running' THEN b."StartedAt" END, 0
                FROM pitr_base_backups b LEFT JOIN targets t ON t."Id" = b."TargetId"
                ON CONFLICT ("Id") DO NOTHING
                """);
            migrationBuilder.Sql($"""
                INSERT INTO runs ("Id", "Kind", "TargetId", "Status", "Phase", "RequestedBy", "CreatedAt", "StartedAt", "FinishedAt",
                                  "Error", "FailureKind", "OwnerInstanceId", "OwnerHost", "HeartbeatAt", "ProgressDone")
                SELECT p."Id", 'PitrRestore', t."Id", p."Status", left(coalesce(p."Phase", p."Status"), 64), p."RequestedBy",
                       p."RequestedAt", CASE WHEN p."Status" <> 'Queued' THEN p."RequestedAt" END, p."FinishedAt",
                       CASE WHEN p."Status" <> 'Succeeded' THEN left(p."Error", 4000) END,
                       CASE WHEN p."Status" = 'Failed' THEN 'Unexpected' END,
                       CASE WHEN p."Status" = 'Running' THEN '{LegacyRuns.InstanceId}'::uuid END,
                       CASE WHEN p."Status" = 'Running' THEN 'a console before this version' END,
                       CASE WHEN p."Status" = 'Running' THEN p."RequestedAt" END, 0
                FROM pitr_restores p LEFT JOIN targets t ON t."Id" = p."TargetId"
                ON CONFLICT ("Id") DO NOTHING
                """);

            migrationBuilder.DropIndex(
                name: "IX_pitr_restores_TargetId_RequestedAt",
                table: "pitr_restores");

            migrationBuilder.DropColumn(
                name: "Error",
                table: "pitr_restores");

            migrationBuilder.DropColumn(
                name: "FinishedAt",
                table: "pitr_restores");

            migrationBuilder.DropColumn(
                name: "Phase",
                table: "pitr_restores");

            migrationBuilder.DropColumn(
                name: "RequestedAt",
                table: "pitr_restores");

            migrationBuilder.DropColumn(
                name: "RequestedBy",
                table: "pitr_restores");

            migrationBuilder.DropColumn(
                name: "Status",
                table: "pitr_restores");

            migrationBuilder.AddColumn<bool>(
                name: "DataDirectoryCreated",
                table: "pitr_restores",
                type: "boolean",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_pitr_restores_TargetId",
                table: "pitr_restores",
                column: "TargetId");

            migrationBuilder.AddForeignKey(
                name: "FK_pitr_restores_runs_Id",
                table: "pitr_restores",
                column: "Id",
                principalTable: "runs",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_pitr_restores_runs_Id",
                table: "pitr_restores");

            migrationBuilder.DropIndex(
                name: "IX_pitr_restores_TargetId",
                table: "pitr_restores");

            migrationBuilder.DropColumn(
                name: "DataDirectoryCreated",
                table: "pitr_restores");

            migrationBuilder.AddColumn<string>(
                name: "Error",
                table: "pitr_restores",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "FinishedAt",
                table: "pitr_restores",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Phase",
                table: "pitr_restores",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "RequestedAt",
                table: "pitr_restores",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.AddColumn<string>(
                name: "RequestedBy",
                table: "pitr_restores",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Status",
                table: "pitr_restores",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.Sql("""
                UPDATE pitr_restores p SET "RequestedBy" = left(coalesce(r."RequestedBy", 'system'), 256), "RequestedAt" = r."CreatedAt",
                       "Status" = CASE r."Status" WHEN 'Cancelled' THEN 'Failed' ELSE r."Status" END, "Phase" = r."Phase",
                       "Error" = r."Error", "FinishedAt" = r."FinishedAt"
                FROM runs r WHERE r."Id" = p."Id"
                """);
            migrationBuilder.Sql("""UPDATE pitr_base_backups SET "Status" = 'Failed' WHERE "Status" = 'Cancelled'""");
            migrationBuilder.Sql("""DELETE FROM runs WHERE "Kind" IN ('BaseBackup', 'PitrRestore')""");

            migrationBuilder.CreateIndex(
                name: "IX_pitr_restores_TargetId_RequestedAt",
                table: "pitr_restores",
                columns: new[] { "TargetId", "RequestedAt" });
        }
    }
}
