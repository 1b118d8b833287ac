using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class PointInTimeRecovery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "pitr_base_backups",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Reason = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Timeline = table.Column<int>(type: "integer", nullable: false),
                    StartLsn = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    EndLsn = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    ConsistentAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    SizeBytes = table.Column<long>(type: "bigint", nullable: false),
                    KeyPrefix = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    Stores = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    Files = table.Column<string>(type: "text", nullable: true),
                    Verification = table.Column<string>(type: "text", nullable: true),
                    Error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_pitr_base_backups", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "pitr_restores",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    RequestedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    TargetTime = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Zone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Mode = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DataDirectory = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    Port = table.Column<int>(type: "integer", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Phase = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    BaseBackupId = table.Column<Guid>(type: "uuid", nullable: true),
                    StoppedAt = table.Column<string>(type: "text", nullable: true),
                    NextSteps = table.Column<string>(type: "text", nullable: true),
                    RowCounts = table.Column<string>(type: "text", nullable: true),
                    Error = table.Column<string>(type: "text", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_pitr_restores", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "pitr_servers",
                columns: table => new
                {
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    SlotName = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    SystemIdentifier = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    Timeline = table.Column<int>(type: "integer", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Reason = table.Column<string>(type: "text", nullable: true),
                    Instance = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    ProcessId = table.Column<int>(type: "integer", nullable: true),
                    LastReceivedLsn = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    LastReceivedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    NewestCommitAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    NewestCommitLsn = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    WindowRestartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    WindowRestartReason = table.Column<string>(type: "text", nullable: true),
                    Paused = table.Column<bool>(type: "boolean", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_pitr_servers", x => x.TargetId);
                });

            migrationBuilder.CreateTable(
                name: "pitr_wal_files",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Timeline = table.Column<int>(type: "integer", nullable: false),
                    Segment = table.Column<long>(type: "bigint", nullable: false),
                    Key = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    SizeBytes = table.Column<long>(type: "bigint", nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    FirstCommitAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastCommitAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    EndLsn = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    Content = table.Column<string>(type: "text", nullable: true),
                    ArchivedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_pitr_wal_files", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_pitr_base_backups_TargetId_StartedAt",
                table: "pitr_base_backups",
                columns: new[] { "TargetId", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_pitr_restores_TargetId_RequestedAt",
                table: "pitr_restores",
                columns: new[] { "TargetId", "RequestedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_pitr_wal_files_TargetId_Kind_Timeline_Segment",
                table: "pitr_wal_files",
                columns: new[] { "TargetId", "Kind", "Timeline", "Segment" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "pitr_base_backups");

            migrationBuilder.DropTable(
                name: "pitr_restores");

            migrationBuilder.DropTable(
                name: "pitr_servers");

            migrationBuilder.DropTable(
                name: "pitr_wal_files");
        }
    }
}
