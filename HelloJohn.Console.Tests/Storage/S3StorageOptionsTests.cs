using HelloJohn.Console.Core.Storage;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Tests.Storage;

[Trait("Capability", "Storage")]
public class S3StorageOptionsTests
{
    [Fact]
    public void Validate_NothingSet_IsValidAndConfiguresNoStore()
    {
        var options = new S3StorageOptions();

        Assert.True(new S3StorageOptionsValidator().Validate(null, options).Succeeded);
        Assert.Empty(options.Stores());
    }

    [Fact]
    public void Validate_SettingsWithoutBucket_NamesTheBucketKey()
    {
        var result = new S3StorageOptionsValidator().Validate(null, new S3StorageOptions { Region = "eu-central-1" });

        Assert.StartsWith("Storage__S3__Bucket is required", Assert.Single(result.Failures!));
    }

    [Fact]
    public void Validate_SecretWithoutKeyId_NamesTheKeyAndNeverTheSecret()
    {
        var result = new S3StorageOptionsValidator().Validate(null, new S3StorageOptions { Bucket = "backups", SecretAccessKey = "test-secret-value-never-shown" });

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Storage__S3__AccessKeyId is required", failure);
        Assert.DoesNotContain("test-secret-value-never-shown", failure);
    }

    [Theory]
    [InlineData("Bucket", "Storage__S3__Bucket")]
    [InlineData("ServiceUrl", "Storage__S3__ServiceUrl")]
    [InlineData("StorageClass", "Storage__S3__StorageClass")]
    [InlineData("ServerSideEncryption", "Storage__S3__ServerSideEncryption")]
    [InlineData("KmsKeyId", "Storage__S3__KmsKeyId")]
    [InlineData("Region", "Storage__S3__Region")]
    public void Validate_BadValue_NamesTheKey(string property, string key)
    {
        var options = new S3StorageOptions { Bucket = "backups" };
        switch (property)
        {
            case "Bucket": options.Bucket = "Not_A_Bucket"; break;
            case "ServiceUrl": options.ServiceUrl = "minio:9000"; break;
            case "StorageClass": options.StorageClass = "COLD"; break;
            case "ServerSideEncryption": options.ServerSideEncryption = "rot13"; break;
            case "KmsKeyId": options.KmsKeyId = "alias/backups"; break;
            default: options.Region = "Frankfurt"; break;
        }

        var result = new S3StorageOptionsValidator().Validate(null, options);

        Assert.StartsWith(key, Assert.Single(result.Failures!));
    }

    [Theory]
    [InlineData(0, null, "Storage__S3__TimeoutSeconds: 0 is out of range")]
    [InlineData(null, 0, "Storage__S3__PartTimeoutSeconds: 0 is out of range")]
    [InlineData(3601, null, "Storage__S3__TimeoutSeconds: 3601 is out of range")]
    public void Validate_TimeoutOutOfRange_NamesTheKey(int? timeout, int? partTimeout, string expected)
    {
        var result = new S3StorageOptionsValidator().Validate(null, new S3StorageOptions { Bucket = "backups", TimeoutSeconds = timeout, PartTimeoutSeconds = partTimeout });

        Assert.StartsWith(expected, Assert.Single(result.Failures!));
    }

    [Fact]
    public void Stores_TimeoutsUnset_GetTheDefaultsAndATierInheritsTheMainSections()
    {
        var stores = new S3StorageOptions { Bucket = "backups", PartTimeoutSeconds = 900, Weekly = new S3StoreSettings { Prefix = "weekly" } }.Stores();

        Assert.All(stores, s => Assert.Equal((TimeSpan.FromSeconds(S3StorageOptions.DefaultTimeoutSeconds), TimeSpan.FromSeconds(900)), (s.RequestTimeout, s.PartTimeout)));
    }

    [Fact]
    public void Validate_TierStoreSharingTheDailyPrefix_IsRefused()
    {
        var options = new S3StorageOptions { Bucket = "backups", Prefix = "hellojohn", Monthly = { Prefix = "hellojohn/monthly" } };

        var failure = Assert.Single(new S3StorageOptionsValidator().Validate(null, options).Failures!);

        Assert.StartsWith("Storage__S3__Monthly__Prefix", failure);
    }

    [Fact]
    public void Validate_TierSectionWithoutBucketOrPrefix_IsRefused()
    {
        var options = new S3StorageOptions { Bucket = "backups", Weekly = { Region = "eu-west-1" } };

        Assert.StartsWith("Storage__S3__Weekly__Bucket or Storage__S3__Weekly__Prefix", Assert.Single(new S3StorageOptionsValidator().Validate(null, options).Failures!));
    }

    [Fact]
    public void Stores_RecommendedLayout_InheritsConnectionAndDefaultsMonthlyToGlacier()
    {
        var options = new S3StorageOptions
        {
            Bucket = "hj-backups",
            Prefix = "/prod/",
            Region = "eu-central-1",
            AccessKeyId = "AKIDEXAMPLE",
            SecretAccessKey = "secret",
            ServerSideEncryption = "AES256",
            StorageClass = "STANDARD_IA",
            Weekly = { Bucket = "hj-backups-dr", Region = "eu-west-1" },
            Monthly = { Prefix = "prod-monthly" },
        };

        Assert.True(new S3StorageOptionsValidator().Validate(null, options).Succeeded);
        var stores = options.Stores().ToDictionary(s => s.Name);

        Assert.Equal(["s3", "s3-monthly", "s3-weekly"], stores.Keys.Order());
        Assert.Equal(("hj-backups", "prod/", "eu-central-1", "STANDARD_IA"), (stores["s3"].Bucket, stores["s3"].Prefix, stores["s3"].Region, stores["s3"].StorageClass));
        Assert.Equal(("hj-backups-dr", "", "eu-west-1", "STANDARD", "AKIDEXAMPLE", "AES256"),
            (stores["s3-weekly"].Bucket, stores["s3-weekly"].Prefix, stores["s3-weekly"].Region, stores["s3-weekly"].StorageClass, stores["s3-weekly"].AccessKeyId, stores["s3-weekly"].ServerSideEncryption));
        Assert.Equal(("hj-backups", "prod-monthly/", "GLACIER"), (stores["s3-monthly"].Bucket, stores["s3-monthly"].Prefix, stores["s3-monthly"].StorageClass));
        Assert.DoesNotContain("secret", stores["s3"].ToString());
    }

    [Fact]
    public void Registry_DefaultLayout_PutsDailyOnLocalAndS3AndTiersOnTheirStores()
    {
        var local = new LocalDiskBackupStore("local", Path.GetTempPath());
        var stores = new S3StorageOptions { Bucket = "backups", Region = "eu-central-1", Prefix = "daily", Weekly = { Prefix = "weekly" }, Monthly = { Prefix = "monthly" } }
            .Stores().Select(d => (IBackupStore)new S3BackupStore(d, Microsoft.Extensions.Logging.Abstractions.NullLogger<S3BackupStore>.Instance)).Prepend(local).ToList();

        var registry = new BackupStoreRegistry(stores, Options.Create(new StorageTierOptions()));

        Assert.Equal(["local", "s3"], registry.Layout[BackupTier.Daily]);
        Assert.Equal(["s3-weekly"], registry.Layout[BackupTier.Weekly]);
        Assert.Equal(["s3-monthly"], registry.Layout[BackupTier.Monthly]);
        Assert.Contains("Configured stores: local, s3, s3-monthly, s3-weekly", Assert.Throws<KeyNotFoundException>(() => registry.Get("glacier")).Message);
    }

    [Fact]
    public void Registry_LocalOnly_KeepsEveryTierOnLocalDisk()
    {
        var registry = new BackupStoreRegistry([new LocalDiskBackupStore("local", Path.GetTempPath())], Options.Create(new StorageTierOptions()));

        Assert.All(BackupTiers.All, tier => Assert.Equal(["local"], registry.Layout[tier]));
    }

    [Fact]
    public void TierValidator_UnknownStore_NamesTheTierKeyAndTheKnownStores()
    {
        var validator = new StorageTierOptionsValidator([new LocalDiskBackupStore("local", Path.GetTempPath())]);

        var failure = Assert.Single(validator.Validate(null, new StorageTierOptions { Monthly = ["s3-glacier"] }).Failures!);

        Assert.Equal("Storage__Tiers__Monthly: there is no store named 's3-glacier'. Configured stores: local.", failure);
    }
}
