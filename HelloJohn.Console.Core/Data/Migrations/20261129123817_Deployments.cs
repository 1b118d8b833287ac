using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Deployments : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<List<string>>(
                name: "Databases",
                table: "targets",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'");

            migrationBuilder.AddColumn<List<string>>(
                name: "Patterns",
                table: "targets",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'");

            // Each existing target becomes a deployment of its one database, the one its address names; its backups
            // stay its own. A target without an address (re-created by a rebuild) is given its database with its connection.
            migrationBuilder.Sql("""
                UPDATE targets SET "Databases" = ARRAY[substring("DisplayAddress" from '/([^/]+)$')]
                WHERE "DisplayAddress" IS NOT NULL AND substring("DisplayAddress" from '/([^/]+)$') IS NOT NULL;
                """);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "RetiredAt",
                table: "targets",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ServerIdentity",
                table: "targets",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "deployment_databases",
                columns: table => new
                {
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    SelectedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    SizeBytes = table.Column<long>(type: "bigint", nullable: true),
                    FirstSeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    GoneSince = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_deployment_databases", x => new { x.TargetId, x.Name });
                    table.ForeignKey(
                        name: "FK_deployment_databases_targets_TargetId",
                        column: x => x.TargetId,
                        principalTable: "targets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "deployment_databases");

            migrationBuilder.DropColumn(
                name: "Databases",
                table: "targets");

            migrationBuilder.DropColumn(
                name: "Patterns",
                table: "targets");

            migrationBuilder.DropColumn(
                name: "RetiredAt",
                table: "targets");

            migrationBuilder.DropColumn(
                name: "ServerIdentity",
                table: "targets");
        }
    }
}
