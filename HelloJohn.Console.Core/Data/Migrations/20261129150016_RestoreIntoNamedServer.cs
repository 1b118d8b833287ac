using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class RestoreIntoNamedServer : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ProtectedServerConnection",
                table: "restore_runs",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ProtectedServerConnection",
                table: "restore_runs");
        }
    }
}
