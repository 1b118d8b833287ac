using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class SecretsEscrow : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "jwks_checks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    CheckedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Outcome = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    JwksUrl = table.Column<string>(type: "character varying(600)", maxLength: 600, nullable: true),
                    EscrowedFingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    EscrowedVersionId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    PublishedFingerprints = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    MatchedKeyId = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    Detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_jwks_checks", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "secret_versions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    ProtectedValue = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_secret_versions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "signing_key_versions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TargetId = table.Column<Guid>(type: "uuid", nullable: false),
                    SecretName = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    Store = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    StoreLocation = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    VersionId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Fingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    PublicKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Origin = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StoredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StoredBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_signing_key_versions", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_jwks_checks_TargetId_CheckedAt",
                table: "jwks_checks",
                columns: new[] { "TargetId", "CheckedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_secret_versions_Name_Version",
                table: "secret_versions",
                columns: new[] { "Name", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_signing_key_versions_TargetId_StoredAt",
                table: "signing_key_versions",
                columns: new[] { "TargetId", "StoredAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "jwks_checks");

            migrationBuilder.DropTable(
                name: "secret_versions");

            migrationBuilder.DropTable(
                name: "signing_key_versions");
        }
    }
}
