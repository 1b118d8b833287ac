using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <summary>The run lifecycle: one <c>runs</c> record per backup, verification, restore and recovery run (under the kind's
    /// own id) and the console instances that own them. Existing rows are copied into <c>runs</c> before the kinds'
    /// lifecycle columns are dropped; nothing a catalog holds is lost.</summary>
    public partial class RunLifecycle : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "console_instances",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    LockKey = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    Host = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    ProcessId = table.Column<int>(type: "integer", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StoppedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_console_instances", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "runs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Phase = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    RequestedByUserId = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    JobId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    FailureKind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    OwnerInstanceId = table.Column<Guid>(type: "uuid", nullable: true),
                    OwnerHost = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    OwnerProcessId = table.Column<int>(type: "integer", nullable: true),
                    HeartbeatAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CancelRequestedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CancelRequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    ProgressDone = table.Column<long>(type: "bigint", nullable: false),
                    ProgressTotal = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_runs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_runs_console_instances_OwnerInstanceId",
                        column: x => x.OwnerInstanceId,
                        principalTable: "console_instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_runs_targets_TargetId",
                        column: x => x.TargetId,
                        principalTable: "targets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_console_instances_LockKey",
                table: "console_instances",
                column: "LockKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_console_instances_StoppedAt",
                table: "console_instances",
                column: "StoppedAt");

            migrationBuilder.CreateIndex(
                name: "IX_runs_Kind_CreatedAt",
                table: "runs",
                columns: new[] { "Kind", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_runs_OwnerInstanceId",
                table: "runs",
                column: "OwnerInstanceId");

            migrationBuilder.CreateIndex(
                name: "IX_runs_Status_OwnerInstanceId",
                table: "runs",
                columns: new[] { "Status", "OwnerInstanceId" });

            migrationBuilder.CreateIndex(
                name: "IX_runs_TargetId_Kind_Status",
                table: "runs",
                columns: new[] { "TargetId", "Kind", "Status" });

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

            // Every recovery run gets its lifecycle run. A step still running belonged to a console before this
            // version: the run's owner is then a stopped instance, so the first sweep fails that step (it can be run
            // again) and ends a drill.
            migrationBuilder.Sql(LegacyRuns.InstanceSql("recovery_steps"));
            migrationBuilder.Sql($"""
                INSERT INTO runs ("Id", "Kind", "TargetId", "Status", "Phase", "RequestedBy", "RequestedByUserId", "CreatedAt", "StartedAt", "FinishedAt",
                                  "Error", "FailureKind", "OwnerInstanceId", "OwnerHost", "OwnerProcessId", "HeartbeatAt", "ProgressDone")
                SELECT r."Id", 'Recovery', r."TargetId",
                       CASE r."Status" WHEN 'Active' THEN 'Running' WHEN 'Completed' THEN 'Succeeded' WHEN 'Abandoned' THEN 'Cancelled' ELSE 'Failed' END,
                       coalesce((SELECT s."Key" FROM recovery_steps s WHERE s."RunId" = r."Id" AND s."Status" <> 'Passed' ORDER BY s."Position" LIMIT 1), 'Done'),
                       r."StartedBy", r."StartedByUserId", r."StartedAt", r."StartedAt", r."EndedAt",
                       CASE WHEN r."Status" <> 'Completed' THEN r."EndReason" END,
                       CASE WHEN r."Status" = 'Failed' THEN 'Unexpected' END,
                       CASE WHEN running."RunId" IS NOT NULL AND r."Status" = 'Active' THEN '{LegacyRuns.InstanceId}'::uuid END,
                       running."RunnerHost", running."RunnerPid", running."StartedAt", 0
                FROM recovery_runs r
                LEFT JOIN LATERAL (SELECT s."RunId", s."RunnerHost", s."RunnerPid", s."StartedAt" FROM recovery_steps s
                                   WHERE s."RunId" = r."Id" AND s."Status" = 'Running' LIMIT 1) running ON true
                """);

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

            migrationBuilder.DropColumn(
                name: "RunnerHost",
                table: "recovery_steps");

            migrationBuilder.DropColumn(
                name: "RunnerPid",
                table: "recovery_steps");

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
                name: "FK_recovery_runs_runs_Id",
                table: "recovery_runs",
                column: "Id",
                principalTable: "runs",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

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
                name: "FK_recovery_runs_runs_Id",
                table: "recovery_runs");

            migrationBuilder.DropForeignKey(
                name: "FK_restore_runs_runs_Id",
                table: "restore_runs");

            migrationBuilder.DropForeignKey(
                name: "FK_verification_runs_runs_Id",
                table: "verification_runs");

            migrationBuilder.DropTable(
                name: "runs");

            migrationBuilder.DropTable(
                name: "console_instances");

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

            migrationBuilder.AddColumn<string>(
                name: "RunnerHost",
                table: "recovery_steps",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "RunnerPid",
                table: "recovery_steps",
                type: "integer",
                nullable: true);

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
