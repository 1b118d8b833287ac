using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class BackupSets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DatabaseName",
                table: "backups",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SetId",
                table: "backups",
                type: "uuid",
                nullable: true);

            // A backup taken before deployments had several databases is of the one its target's address names.
            migrationBuilder.Sql("""
                UPDATE backups b SET "DatabaseName" = substring(t."DisplayAddress" from '/([^/]+)$')
                FROM targets t WHERE b."TargetId" = t."Id" AND b."DatabaseName" IS NULL AND t."DisplayAddress" IS NOT NULL;
                """);

            migrationBuilder.CreateTable(
                name: "backup_sets",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Trigger = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CurrentRunId = table.Column<Guid>(type: "uuid", nullable: false),
                    Pinned = table.Column<bool>(type: "boolean", nullable: false),
                    ExpiredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RolesFileName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    RolesSizeBytes = table.Column<long>(type: "bigint", nullable: true),
                    RolesSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    RolesWithPasswords = table.Column<bool>(type: "boolean", nullable: false),
                    RolesNote = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    RolesFailed = table.Column<bool>(type: "boolean", nullable: false),
                    GoneDatabases = table.Column<List<string>>(type: "text[]", nullable: false),
                    MemberCount = table.Column<int>(type: "integer", nullable: false),
                    MembersSucceeded = table.Column<int>(type: "integer", nullable: false),
                    SizeBytes = table.Column<long>(type: "bigint", nullable: true),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    CancelledBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_backup_sets", x => x.Id);
                    table.ForeignKey(
                        name: "FK_backup_sets_targets_TargetId",
                        column: x => x.TargetId,
                        principalTable: "targets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "backup_set_verifications",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    SetId = table.Column<Guid>(type: "uuid", nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RunIds = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    Passed = table.Column<int>(type: "integer", nullable: false),
                    Failed = table.Column<int>(type: "integer", nullable: false),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_backup_set_verifications", x => x.Id);
                    table.ForeignKey(
                        name: "FK_backup_set_verifications_backup_sets_SetId",
                        column: x => x.SetId,
                        principalTable: "backup_sets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_backup_set_verifications_targets_TargetId",
                        column: x => x.TargetId,
                        principalTable: "targets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_backups_SetId",
                table: "backups",
                column: "SetId");

            migrationBuilder.CreateIndex(
                name: "IX_backups_TargetId_DatabaseName_Status",
                table: "backups",
                columns: new[] { "TargetId", "DatabaseName", "Status" })
                .Annotation("Npgsql:IndexInclude", new[] { "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_backup_set_verifications_SetId_CreatedAt",
                table: "backup_set_verifications",
                columns: new[] { "SetId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_backup_set_verifications_Status",
                table: "backup_set_verifications",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_backup_set_verifications_TargetId",
                table: "backup_set_verifications",
                column: "TargetId");

            migrationBuilder.CreateIndex(
                name: "IX_backup_sets_CurrentRunId",
                table: "backup_sets",
                column: "CurrentRunId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_backup_sets_Name",
                table: "backup_sets",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_backup_sets_TargetId_CreatedAt",
                table: "backup_sets",
                columns: new[] { "TargetId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_backup_sets_TargetId_Status_StartedAt",
                table: "backup_sets",
                columns: new[] { "TargetId", "Status", "StartedAt" });

            migrationBuilder.AddForeignKey(
                name: "FK_backups_backup_sets_SetId",
                table: "backups",
                column: "SetId",
                principalTable: "backup_sets",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_backups_backup_sets_SetId",
                table: "backups");

            migrationBuilder.DropTable(
                name: "backup_set_verifications");

            migrationBuilder.DropTable(
                name: "backup_sets");

            migrationBuilder.DropIndex(
                name: "IX_backups_SetId",
                table: "backups");

            migrationBuilder.DropIndex(
                name: "IX_backups_TargetId_DatabaseName_Status",
                table: "backups");

            migrationBuilder.DropColumn(
                name: "DatabaseName",
                table: "backups");

            migrationBuilder.DropColumn(
                name: "SetId",
                table: "backups");
        }
    }
}
