using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class RestoreAndVerificationRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The lifecycle of every restore and verification moves to its run record, under the same id; what they
            // learned stays in their own tables. Runs still running belonged to a console before this version.
            migrationBuilder.Sql(LegacyRuns.InstanceSql("restore_runs"));
            migrationBuilder.Sql(LegacyRuns.InstanceSql("verification_runs"));
            foreach (var (table, kind) in new[] { ("restore_runs", "Restore"), ("verification_runs", "Verification") })
            {
                migrationBuilder.Sql($"""
                    INSERT INTO runs ("Id", "Kind", "TargetId", "Status", "Phase", "RequestedBy", "RequestedByUserId", "CreatedAt", "StartedAt", "FinishedAt",
                                      "JobId", "Error", "FailureKind", "OwnerInstanceId", "OwnerHost", "HeartbeatAt", "ProgressDone")
                    SELECT r."Id", '{kind}', r."TargetId", CASE r."Status" WHEN 'Passed' THEN 'Succeeded' ELSE r."Status" END, r."Phase",
                           r."RequestedBy", r."RequestedByUserId", r."CreatedAt", r."StartedAt", r."FinishedAt", r."JobId",
                           CASE WHEN r."Status" <> 'Passed' AND r."Status" <> 'Succeeded' THEN r."Error" END,
                           CASE WHEN r."Status" = 'Failed' THEN CASE WHEN r."FailedCheck" IS NOT NULL THEN 'ArchiveCheck' ELSE 'Unexpected' END END,
                           CASE WHEN r."Status" = 'Running' THEN '{LegacyRuns.InstanceId}'::uuid END,
                           CASE WHEN r."Status" = 'Running' THEN 'unknown host' END,
                           CASE WHEN r."Status" = 'Running' THEN coalesce(r."StartedAt", r."CreatedAt") END, 0
                    FROM {table} r
                    """);
            }

            migrationBuilder.DropForeignKey(
                name: "FK_restore_runs_targets_TargetId",
                table: "restore_runs");

            migrationBuilder.DropForeignKey(
                name: "FK_verification_runs_targets_TargetId",
                table: "verification_runs");

            migrationBuilder.DropIndex(
                name: "IX_verification_runs_BackupId_CreatedAt",
                table: "verification_runs");

            migrationBuilder.DropIndex(
                name: "IX_verification_runs_CreatedAt",
                table: "verification_runs");

            migrationBuilder.DropIndex(
                name: "IX_verification_runs_Status",
                table: "verification_runs");

            migrationBuilder.DropIndex(
                name: "IX_verification_runs_TargetId",
                table: "verification_runs");

            migrationBuilder.DropIndex(
                name: "IX_restore_runs_CreatedAt",
                table: "restore_runs");

            migrationBuilder.DropIndex(
                name: "IX_restore_runs_TargetId_DatabaseName_Status",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "CreatedAt",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "Error",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "FinishedAt",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "JobId",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "Phase",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "RequestedBy",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "RequestedByUserId",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "StartedAt",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "Status",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "TargetId",
                table: "verification_runs");

            migrationBuilder.DropColumn(
                name: "CreatedAt",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "Error",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "FinishedAt",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "JobId",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "Phase",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "RequestedBy",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "RequestedByUserId",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "StartedAt",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "Status",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "TargetId",
                table: "restore_runs");

            migrationBuilder.AddColumn<bool>(
                name: "DatabaseCreated",
                table: "restore_runs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            // A restore into a new database that had reached pg_restore had created it: the sweep may drop it.
            migrationBuilder.Sql("""
                UPDATE restore_runs r SET "DatabaseCreated" = true
                FROM runs x WHERE x."Id" = r."Id" AND r."Mode" = 'NewDatabase' AND x."Phase" IN ('Restoring', 'Counting') AND x."Status" = 'Running'
                """);

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_BackupId",
                table: "verification_runs",
                column: "BackupId");

            migrationBuilder.CreateIndex(
                name: "IX_restore_runs_DatabaseName",
                table: "restore_runs",
                column: "DatabaseName");

            migrationBuilder.AddForeignKey(
                name: "FK_restore_runs_runs_Id",
                table: "restore_runs",
                column: "Id",
                principalTable: "runs",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_verification_runs_runs_Id",
                table: "verification_runs",
                column: "Id",
                principalTable: "runs",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_restore_runs_runs_Id",
                table: "restore_runs");

            migrationBuilder.DropForeignKey(
                name: "FK_verification_runs_runs_Id",
                table: "verification_runs");

            migrationBuilder.DropIndex(
                name: "IX_verification_runs_BackupId",
                table: "verification_runs");

            migrationBuilder.DropIndex(
                name: "IX_restore_runs_DatabaseName",
                table: "restore_runs");

            migrationBuilder.DropColumn(
                name: "DatabaseCreated",
                table: "restore_runs");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "CreatedAt",
                table: "verification_runs",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.AddColumn<string>(
                name: "Error",
                table: "verification_runs",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "FinishedAt",
                table: "verification_runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "JobId",
                table: "verification_runs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Phase",
                table: "verification_runs",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "RequestedBy",
                table: "verification_runs",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RequestedByUserId",
                table: "verification_runs",
                type: "character varying(450)",
                maxLength: 450,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "StartedAt",
                table: "verification_runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Status",
                table: "verification_runs",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<Guid>(
                name: "TargetId",
                table: "verification_runs",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "CreatedAt",
                table: "restore_runs",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.AddColumn<string>(
                name: "Error",
                table: "restore_runs",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "FinishedAt",
                table: "restore_runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "JobId",
                table: "restore_runs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Phase",
                table: "restore_runs",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "RequestedBy",
                table: "restore_runs",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RequestedByUserId",
                table: "restore_runs",
                type: "character varying(450)",
                maxLength: 450,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "StartedAt",
                table: "restore_runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Status",
                table: "restore_runs",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<Guid>(
                name: "TargetId",
                table: "restore_runs",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_BackupId_CreatedAt",
                table: "verification_runs",
                columns: new[] { "BackupId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_CreatedAt",
                table: "verification_runs",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_Status",
                table: "verification_runs",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_TargetId",
                table: "verification_runs",
                column: "TargetId");

            migrationBuilder.CreateIndex(
                name: "IX_restore_runs_CreatedAt",
                table: "restore_runs",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_restore_runs_TargetId_DatabaseName_Status",
                table: "restore_runs",
                columns: new[] { "TargetId", "DatabaseName", "Status" });

            migrationBuilder.AddForeignKey(
                name: "FK_restore_runs_targets_TargetId",
                table: "restore_runs",
                column: "TargetId",
                principalTable: "targets",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_verification_runs_targets_TargetId",
                table: "verification_runs",
                column: "TargetId",
                principalTable: "targets",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }
    }
}
