using System.Globalization;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Targets;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The exact commands for each provider. Commands never carry a password: they read it from a variable the
/// engineer sets in their own shell (<c>$NEW_DATABASE_URL</c>) or from the provider's own credentials.</summary>
public static class ProviderInstructions
{
    public static string Name(TargetProvider provider) => provider switch
    {
        TargetProvider.SelfManaged => "self-managed PostgreSQL",
        TargetProvider.DockerCompose => "Docker Compose",
        TargetProvider.Neon => "Neon",
        TargetProvider.Supabase => "Supabase",
        TargetProvider.AmazonRds => "Amazon RDS",
        _ => provider.ToString(),
    };

    public static IReadOnlyList<InstructionBlock> ProvisionDatabase(TargetProvider provider) => provider switch
    {
        TargetProvider.SelfManaged =>
        [
            new("Install PostgreSQL on the new host (the same major version as before, or newer), then create HelloJohn's role and an empty database:"),
            new("", "sudo -u postgres createuser --pwprompt hellojohn\nsudo -u postgres createdb --owner=hellojohn hellojohn"),
            new("Allow this console to connect (listen_addresses and a pg_hba.conf line for its address), then enter the connection below."),
        ],
        TargetProvider.DockerCompose =>
        [
            new("Start a fresh PostgreSQL service with an empty volume (the old volume is gone with the host):"),
            new("", "docker compose up -d postgres\ndocker compose exec postgres pg_isready -U hellojohn"),
            new("If the image did not create the database from POSTGRES_DB, create it:"),
            new("", "docker compose exec postgres createdb -U hellojohn hellojohn"),
            new("Publish the port to the console (ports: \"5432:5432\") or run the console in the same Compose project, then enter the connection below."),
        ],
        TargetProvider.Neon =>
        [
            new("Create a new Neon project (or a new branch of the existing one) in the same region, with a database named hellojohn:"),
            new("", "neon projects create --name hellojohn-recovered --region-id aws-us-east-2\nneon databases create --name hellojohn"),
            new("Copy its direct (not pooled) connection string from the Neon console → Connection details, with sslmode=require, and enter it below."),
        ],
        TargetProvider.Supabase =>
        [
            new("Create a new Supabase project (Dashboard → New project). Its database already holds Supabase's own schemas (auth, storage, realtime…); the console does not count those as data, so the database still checks as empty."),
            new("Copy the direct connection string from Project Settings → Database → Connection string (port 5432, sslmode=require) and enter it below."),
        ],
        TargetProvider.AmazonRds =>
        [
            new("Create a new RDS instance of the same engine version or newer (or restore the latest automated snapshot with restore-db-instance-from-db-snapshot):"),
            new("", "aws rds create-db-instance \\\n  --db-instance-identifier hellojohn-db-recovered \\\n  --engine postgres --engine-version 15 \\\n  --db-instance-class db.t4g.medium --allocated-storage 50 \\\n  --master-username hellojohn --manage-master-user-password \\\n  --db-name hellojohn\naws rds wait db-instance-available --db-instance-identifier hellojohn-db-recovered"),
            new("Allow the console's address in the instance's security group, then enter the endpoint below (sslmode=require)."),
        ],
        _ => [new("Provision an empty PostgreSQL database for HelloJohn and enter its connection below.")],
    };

    /// <summary>What the console runs in the restore step, for the record and for anyone who must do it by hand.</summary>
    public static IReadOnlyList<InstructionBlock> RestoreByHand(TargetProvider provider, string fileName)
    {
        // A zstd backup (.dump.zst) is unpacked first; pg_restore then reads the plain custom-format archive.
        var zstd = fileName.EndsWith(BackupCompression.ZstdExtension, StringComparison.Ordinal);
        var archive = zstd ? fileName[..^BackupCompression.ZstdExtension.Length] : fileName;
        var unpack = zstd ? $"zstd -d --keep {fileName}\n" : "";
        return provider switch
        {
            TargetProvider.DockerCompose =>
            [
                new("The console restores the backup itself. By hand, the same restore is:"),
                new("", zstd
                    ? $"zstd -dc ./backups/{fileName} | docker compose exec -T postgres pg_restore -U hellojohn -d hellojohn --no-owner --exit-on-error"
                    : $"docker compose exec -T postgres pg_restore -U hellojohn -d hellojohn --no-owner --exit-on-error < ./backups/{fileName}"),
            ],
            _ =>
            [
                new("The console restores the backup itself. By hand, the same restore is:"),
                new("", $"{unpack}pg_restore --no-owner --exit-on-error --verbose --dbname=\"$NEW_DATABASE_URL\" {archive}"),
            ],
        };
    }

    public static IReadOnlyList<InstructionBlock> SetDatabaseUrl(TargetProvider provider) => provider switch
    {
        TargetProvider.DockerCompose =>
        [
            new("Put the new URL in the .env file next to docker-compose.yml (HelloJohn's service reads HELLOJOHN_DATABASE_URL from it):"),
            new("", "HELLOJOHN_DATABASE_URL='<paste the copied URL>'"),
        ],
        TargetProvider.SelfManaged =>
        [
            new("Set the new URL where HelloJohn's service reads its environment, for example a systemd drop-in:"),
            new("", "sudo systemctl edit hellojohn\n# [Service]\n# Environment=\"HELLOJOHN_DATABASE_URL=<paste the copied URL>\""),
            new("On Kubernetes, update the secret instead:"),
            new("", "kubectl create secret generic hellojohn-env --from-literal=HELLOJOHN_DATABASE_URL=\"$NEW_DATABASE_URL\" --dry-run=client -o yaml | kubectl apply -f -"),
        ],
        _ =>
        [
            new($"Set HELLOJOHN_DATABASE_URL on every HelloJohn instance (your platform's environment settings or secrets manager). Keep sslmode=require for {Name(provider)}."),
            new("With AWS Secrets Manager:"),
            new("", "aws secretsmanager put-secret-value --secret-id hellojohn/database-url --secret-string \"$NEW_DATABASE_URL\""),
        ],
    };

    public static IReadOnlyList<InstructionBlock> RestartInstances(TargetProvider provider) => provider switch
    {
        TargetProvider.DockerCompose =>
        [
            new("Recreate HelloJohn's containers so they read the new environment:"),
            new("", "docker compose up -d --force-recreate hellojohn"),
        ],
        TargetProvider.SelfManaged =>
        [
            new("Restart every HelloJohn instance:"),
            new("", "sudo systemctl restart hellojohn"),
            new("On Kubernetes:"),
            new("", "kubectl rollout restart deployment/hellojohn && kubectl rollout status deployment/hellojohn"),
        ],
        TargetProvider.AmazonRds =>
        [
            new("Restart HelloJohn where it runs. On ECS:"),
            new("", "aws ecs update-service --cluster hellojohn --service hellojohn --force-new-deployment\naws ecs wait services-stable --cluster hellojohn --services hellojohn"),
            new("On EC2 or Kubernetes, restart the service or roll the deployment."),
        ],
        _ =>
        [
            new($"The database is on {Name(provider)}; HelloJohn runs on your own platform. Restart every instance so it reads the new environment, for example:"),
            new("", "kubectl rollout restart deployment/hellojohn && kubectl rollout status deployment/hellojohn"),
        ],
    };

    public static IReadOnlyList<InstructionBlock> SetSigningKey(TargetProvider provider) => provider switch
    {
        TargetProvider.DockerCompose =>
        [
            new("Put the downloaded PEM in the .env file beside docker-compose.yml (line breaks written as \\n), then keep the file out of Git:"),
            new("", "HELLOJOHN_JWT_SIGNING_KEY=\"$(awk 'BEGIN{ORS=\"\\\\n\"}1' signing_key.pem)\""),
        ],
        TargetProvider.SelfManaged =>
        [
            new("Store the downloaded PEM in your secrets manager and point HELLOJOHN_JWT_SIGNING_KEY at it:"),
            new("", "aws secretsmanager put-secret-value --secret-id hellojohn/jwt-signing-key --secret-string \"$(cat signing_key.pem)\""),
            new("Or for systemd, a drop-in with Environment=\"HELLOJOHN_JWT_SIGNING_KEY=…\" (sudo systemctl edit hellojohn)."),
        ],
        _ =>
        [
            new("Set HELLOJOHN_JWT_SIGNING_KEY on every HelloJohn instance to the downloaded PEM (your platform's secrets):"),
            new("", "aws secretsmanager put-secret-value --secret-id hellojohn/jwt-signing-key --secret-string \"$(cat signing_key.pem)\""),
        ],
    };

    public static IReadOnlyList<InstructionBlock> HealthCheck(string? url) =>
    [
        new("The console polls HelloJohn's health endpoint until it answers healthy. By hand:"),
        new("", $"curl -fsS {url ?? "https://auth.example.com/health"}"),
    ];

    /// <summary>How to bring each provider's database back to <paramref name="utc"/>. Times are written in UTC with
    /// the zone named, so nobody restores to the wrong hour.</summary>
    public static IReadOnlyList<InstructionBlock> PointInTimeRestore(TargetProvider provider, DateTimeOffset? utc, string? zone)
    {
        var iso = utc?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "<time in UTC>";
        var pg = utc?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
        var given = utc is null ? "" : $" ({iso}, given as {zone})";
        return provider switch
        {
            TargetProvider.Neon =>
            [
                new($"Neon keeps the history of every branch. Restore the main branch to the time{given} (Neon console → Branches → main → Restore), or with the CLI, keeping the current state as a backup branch:"),
                new("", $"neon branches restore main ^self@{iso} --preserve-under-name main_before_restore"),
                new("The connection string of main does not change after an in-place branch restore."),
            ],
            TargetProvider.Supabase =>
            [
                new($"Supabase restores to a point in time from its dashboard (Team plan and above with the PITR add-on): Dashboard → Database → Backups → Point in time → pick {iso} → Restore."),
                new("The project is unavailable while it restores; its connection string stays the same."),
            ],
            TargetProvider.AmazonRds =>
            [
                new($"RDS restores to a time into a new instance{given}:"),
                new("", $"aws rds restore-db-instance-to-point-in-time \\\n  --source-db-instance-identifier hellojohn-db \\\n  --target-db-instance-identifier hellojohn-db-pitr \\\n  --restore-time {iso}\naws rds wait db-instance-available --db-instance-identifier hellojohn-db-pitr\naws rds describe-db-instances --db-instance-identifier hellojohn-db-pitr --query 'DBInstances[0].Endpoint'"),
            ],
            TargetProvider.DockerCompose =>
            [
                new($"With WAL archiving enabled, restore the newest base backup taken before the time into a new volume, then set the recovery target{given}:"),
                new("", $"docker compose stop hellojohn postgres\ndocker compose run --rm postgres bash -c 'rm -rf /var/lib/postgresql/data/* && tar -xzf /backups/base.tar.gz -C /var/lib/postgresql/data && touch /var/lib/postgresql/data/recovery.signal'\ndocker compose run --rm postgres bash -c \"cat >> /var/lib/postgresql/data/postgresql.auto.conf <<'EOF'\nrestore_command = 'aws s3 cp s3://your-bucket/wal/%f %p'\nrecovery_target_time = '{pg}'\nrecovery_target_action = 'promote'\nEOF\"\ndocker compose up -d postgres\ndocker compose exec postgres psql -U hellojohn -c 'SELECT pg_is_in_recovery()'"),
            ],
            _ =>
            [
                new($"With WAL archiving enabled (wal_level = replica, archive_mode = on), restore the newest base backup taken before the time into an empty data directory, then recover to the time{given}:"),
                new("", $"sudo systemctl stop hellojohn postgresql\nsudo -u postgres tar -xzf /backups/base.tar.gz -C /var/lib/postgresql/15/recovered\nsudo -u postgres tee -a /var/lib/postgresql/15/recovered/postgresql.auto.conf <<'EOF'\nrestore_command = 'aws s3 cp s3://your-bucket/wal/%f %p'\nrecovery_target_time = '{pg}'\nrecovery_target_action = 'promote'\nEOF\nsudo -u postgres touch /var/lib/postgresql/15/recovered/recovery.signal\nsudo -u postgres pg_ctl -D /var/lib/postgresql/15/recovered -o '-p 5433' start"),
                new("The time is written with its zone (UTC): a recovery_target_time without one is read in the server's TimeZone setting. If the server logs that the recovery target was not reached, the WAL archive does not reach that far: stop and pick an earlier time."),
            ],
        };
    }
}
