using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Recovery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "recovery_runs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Scenario = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Provider = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StartedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    StartedByUserId = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: true),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    EndedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    EndedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    EndReason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    IncidentAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    IncidentSource = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    BackupId = table.Column<Guid>(type: "uuid", nullable: true),
                    BackupFileName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    RecoveryPointAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    BackupServerVersion = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Rpo = table.Column<TimeSpan>(type: "interval", nullable: true),
                    Rto = table.Column<TimeSpan>(type: "interval", nullable: true),
                    ProtectedNewConnection = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    NewDatabaseDisplay = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    NewServerVersion = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    CreateNewDatabase = table.Column<bool>(type: "boolean", nullable: false),
                    NonEmptyConfirmed = table.Column<bool>(type: "boolean", nullable: false),
                    RestoreWritten = table.Column<bool>(type: "boolean", nullable: false),
                    HealthUrl = table.Column<string>(type: "character varying(600)", maxLength: 600, nullable: true),
                    SigningKeyFingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    SigningKeyVersionId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    PointInTimeTarget = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    PointInTimeZone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    ScratchDatabase = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recovery_runs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_recovery_runs_backups_BackupId",
                        column: x => x.BackupId,
                        principalTable: "backups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_recovery_runs_targets_TargetId",
                        column: x => x.TargetId,
                        principalTable: "targets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "recovery_log_lines",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    StepKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Level = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Text = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recovery_log_lines", x => x.Id);
                    table.ForeignKey(
                        name: "FK_recovery_log_lines_recovery_runs_RunId",
                        column: x => x.RunId,
                        principalTable: "recovery_runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "recovery_steps",
                columns: table => new
                {
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    Key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Position = table.Column<int>(type: "integer", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CompletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CompletedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    RequestedByUserId = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: true),
                    MarkedDoneByHand = table.Column<bool>(type: "boolean", nullable: false),
                    Message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    CheckedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    JobId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    RunnerHost = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    RunnerPid = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recovery_steps", x => new { x.RunId, x.Key });
                    table.ForeignKey(
                        name: "FK_recovery_steps_recovery_runs_RunId",
                        column: x => x.RunId,
                        principalTable: "recovery_runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_recovery_log_lines_RunId_Id",
                table: "recovery_log_lines",
                columns: new[] { "RunId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_recovery_runs_BackupId",
                table: "recovery_runs",
                column: "BackupId");

            migrationBuilder.CreateIndex(
                name: "ix_recovery_runs_one_active",
                table: "recovery_runs",
                columns: new[] { "TargetId", "Scenario" },
                unique: true,
                filter: "\"Status\" = 'Active'");

            migrationBuilder.CreateIndex(
                name: "IX_recovery_runs_Scenario_Status_EndedAt",
                table: "recovery_runs",
                columns: new[] { "Scenario", "Status", "EndedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_recovery_runs_StartedAt",
                table: "recovery_runs",
                column: "StartedAt");

            migrationBuilder.CreateIndex(
                name: "IX_recovery_steps_RunId_Position",
                table: "recovery_steps",
                columns: new[] { "RunId", "Position" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_recovery_steps_Status",
                table: "recovery_steps",
                column: "Status");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "recovery_log_lines");

            migrationBuilder.DropTable(
                name: "recovery_steps");

            migrationBuilder.DropTable(
                name: "recovery_runs");
        }
    }
}
