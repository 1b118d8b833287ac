using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HelloJohn.Console.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class RecoveryRunsOnLifecycle : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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

            migrationBuilder.DropColumn(
                name: "RunnerHost",
                table: "recovery_steps");

            migrationBuilder.DropColumn(
                name: "RunnerPid",
                table: "recovery_steps");

            migrationBuilder.AddForeignKey(
                name: "FK_recovery_runs_runs_Id",
                table: "recovery_runs",
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
        }
    }
}
