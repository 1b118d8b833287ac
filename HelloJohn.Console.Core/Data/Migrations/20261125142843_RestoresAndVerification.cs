using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class RestoresAndVerification : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "restore_runs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    BackupId = table.Column<Guid>(type: "uuid", nullable: true),
                    BackupFileName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Mode = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DatabaseName = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Server = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    ReplaceExisting = table.Column<bool>(type: "boolean", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Phase = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    RequestedByUserId = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RestoreStartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ChecksDuration = table.Column<TimeSpan>(type: "interval", nullable: true),
                    SafetyBackupDuration = table.Column<TimeSpan>(type: "interval", nullable: true),
                    RestoreDuration = table.Column<TimeSpan>(type: "interval", nullable: true),
                    CountDuration = table.Column<TimeSpan>(type: "interval", nullable: true),
                    SafetyBackupId = table.Column<Guid>(type: "uuid", nullable: true),
                    Jobs = table.Column<int>(type: "integer", nullable: false),
                    CountsMatch = table.Column<bool>(type: "boolean", nullable: true),
                    RowsRestored = table.Column<long>(type: "bigint", nullable: true),
                    FailedCheck = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    JobId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_restore_runs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_restore_runs_backups_BackupId",
                        column: x => x.BackupId,
                        principalTable: "backups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_restore_runs_backups_SafetyBackupId",
                        column: x => x.SafetyBackupId,
                        principalTable: "backups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_restore_runs_targets_TargetId",
                        column: x => x.TargetId,
                        principalTable: "targets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "verification_runs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    BackupId = table.Column<Guid>(type: "uuid", nullable: true),
                    BackupFileName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    DatabaseName = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: true),
                    Server = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Phase = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    RequestedByUserId = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ChecksDuration = table.Column<TimeSpan>(type: "interval", nullable: true),
                    RestoreDuration = table.Column<TimeSpan>(type: "interval", nullable: true),
                    CountDuration = table.Column<TimeSpan>(type: "interval", nullable: true),
                    Jobs = table.Column<int>(type: "integer", nullable: false),
                    RowsCounted = table.Column<long>(type: "bigint", nullable: true),
                    FailedCheck = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    DatabaseDropped = table.Column<bool>(type: "boolean", nullable: true),
                    Leftovers = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    JobId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_verification_runs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_verification_runs_backups_BackupId",
                        column: x => x.BackupId,
                        principalTable: "backups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_verification_runs_targets_TargetId",
                        column: x => x.TargetId,
                        principalTable: "targets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "restore_table_counts",
                columns: table => new
                {
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    Schema = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Table = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Expected = table.Column<long>(type: "bigint", nullable: true),
                    Actual = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_restore_table_counts", x => new { x.RunId, x.Schema, x.Table });
                    table.ForeignKey(
                        name: "FK_restore_table_counts_restore_runs_RunId",
                        column: x => x.RunId,
                        principalTable: "restore_runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "verification_table_counts",
                columns: table => new
                {
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    Schema = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Table = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Expected = table.Column<long>(type: "bigint", nullable: true),
                    Actual = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_verification_table_counts", x => new { x.RunId, x.Schema, x.Table });
                    table.ForeignKey(
                        name: "FK_verification_table_counts_verification_runs_RunId",
                        column: x => x.RunId,
                        principalTable: "verification_runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_restore_runs_BackupId",
                table: "restore_runs",
                column: "BackupId");

            migrationBuilder.CreateIndex(
                name: "IX_restore_runs_CreatedAt",
                table: "restore_runs",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_restore_runs_SafetyBackupId",
                table: "restore_runs",
                column: "SafetyBackupId");

            migrationBuilder.CreateIndex(
                name: "IX_restore_runs_TargetId_DatabaseName_Status",
                table: "restore_runs",
                columns: new[] { "TargetId", "DatabaseName", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_BackupId_CreatedAt",
                table: "verification_runs",
                columns: new[] { "BackupId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_CreatedAt",
                table: "verification_runs",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_DatabaseName",
                table: "verification_runs",
                column: "DatabaseName");

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_Status",
                table: "verification_runs",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_verification_runs_TargetId",
                table: "verification_runs",
                column: "TargetId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "restore_table_counts");

            migrationBuilder.DropTable(
                name: "verification_table_counts");

            migrationBuilder.DropTable(
                name: "restore_runs");

            migrationBuilder.DropTable(
                name: "verification_runs");
        }
    }
}
