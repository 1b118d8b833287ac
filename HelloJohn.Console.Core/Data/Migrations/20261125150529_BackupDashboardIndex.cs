using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class BackupDashboardIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_backups_TargetId_Status_StartedAt",
                table: "backups",
                columns: new[] { "TargetId", "Status", "StartedAt" })
                .Annotation("Npgsql:IndexInclude", new[] { "SizeBytes" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_backups_TargetId_Status_StartedAt",
                table: "backups");
        }
    }
}
