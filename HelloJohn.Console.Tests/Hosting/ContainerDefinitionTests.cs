using System.Diagnostics;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Backups;
using YamlDotNet.RepresentationModel;

namespace HelloJohn.Console.Tests.Hosting;

/// <summary>The container image and the compose file, checked without a Docker engine: nothing else in the project
/// builds the image, so a package that the base image's distribution does not carry would go unnoticed until someone
/// deploys.</summary>
[Trait("Capability", "Security")]
public sealed partial class ContainerDefinitionTests
{
    private static readonly string Root = Infrastructure.RepositoryPaths.Root;

    /// <summary>What the runtime image's tag stands on, as Microsoft publishes it, and the PostgreSQL client that
    /// distribution's own archive carries.</summary>
    private static readonly Dictionary<string, (string Codename, int OwnClient)> BaseImages = new(StringComparer.Ordinal)
    {
        ["mcr.microsoft.com/dotnet/aspnet:10.0"] = ("noble", 16),
        ["mcr.microsoft.com/dotnet/aspnet:9.0"] = ("bookworm", 15),
        ["mcr.microsoft.com/dotnet/aspnet:8.0"] = ("bookworm", 15),
    };

    /// <summary>The majors apt.postgresql.org publishes for its supported Ubuntu and Debian suites.</summary>
    private static readonly int[] PgdgMajors = [13, 14, 15, 16, 17, 18];

    [Fact]
    public void Dockerfile_InstallsPackagesTheBaseImagesDistributionCarries()
    {
        var problems = DockerfileProblems(File.ReadAllText(Path.Combine(Root, "Dockerfile")));

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void DockerfileCheck_TheImageThatCouldNotBuild_IsCaught()
    {
        // The runtime stage as it was: PostgreSQL 15's client on .NET 10's Ubuntu 24.04, which has none.
        const string broken = """
            FROM mcr.microsoft.com/dotnet/aspnet:10.0
            RUN apt-get update \
             && apt-get install -y --no-install-recommends postgresql-client-15 \
             && rm -rf /var/lib/apt/lists/*
            ENV HELLOJOHN_PG_BIN=/usr/lib/postgresql/15/bin
            ENTRYPOINT ["dotnet", "HelloJohn.Console.Web.dll"]
            """;

        var problems = DockerfileProblems(broken);

        Assert.Contains(problems, p => p.Contains("postgresql-client-15 is not in noble's own archive (it has 16)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains($"older than the newest supported server ({PgDumpCompatibility.NewestSupportedServerMajor})", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("zstd", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ASPNETCORE_ENVIRONMENT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ComposeFile_IsValidAndItsServerIsNoNewerThanTheImagesClient()
    {
        var path = Path.Combine(Root, "docker-compose.yml");
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        var services = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
        var console = (YamlMappingNode)services["console"];
        Assert.Equal(".", ((YamlScalarNode)console["build"]).Value);
        var healthcheck = string.Join(' ', ((YamlSequenceNode)((YamlMappingNode)console["healthcheck"])["test"]).Select(n => ((YamlScalarNode)n).Value));
        Assert.Contains("/health", healthcheck, StringComparison.Ordinal);
        var serverImage = ((YamlScalarNode)((YamlMappingNode)services["postgres"])["image"]).Value!;
        var serverMajor = int.Parse(serverImage.Split(':')[1].Split('.')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(serverMajor <= ClientMajor(File.ReadAllText(Path.Combine(Root, "Dockerfile"))), $"{serverImage} is newer than the image's pg_dump.");

        // Debian's docker-compose package (installed for the tests) validates the file as Compose itself reads it.
        if (Which("docker-compose") is not { } compose)
        {
            return;
        }

        var secrets = new Dictionary<string, string>
        {
            ["POSTGRES_PASSWORD"] = "p", ["HELLOJOHN_DB_PASSWORD"] = "h", ["CONSOLE_DB_PASSWORD"] = "c", ["MINIO_ROOT_USER"] = "u", ["MINIO_ROOT_PASSWORD"] = "m",
        };
        var (code, output) = await RunAsync(compose, secrets);
        Assert.True(code == 0, output);
        Assert.Contains("HELLOJOHN_DATABASE_URL: postgres://hellojohn:h@postgres:5432/hellojohn", output, StringComparison.Ordinal);
    }

    /// <summary>What is wrong with the runtime stage of <paramref name="dockerfile"/> for its base image.</summary>
    private static List<string> DockerfileProblems(string dockerfile)
    {
        var problems = new List<string>();
        var text = Regex.Replace(dockerfile, @"\\\r?\n", " ");
        var runtime = text[text.LastIndexOf("FROM ", StringComparison.Ordinal)..];
        var image = runtime[5..runtime.IndexOf('\n', StringComparison.Ordinal)].Trim();
        if (!BaseImages.TryGetValue(image, out var distribution))
        {
            return [$"The runtime image {image} is not one this test knows; add the distribution its tag stands on."];
        }

        var args = ArgDefault().Matches(runtime).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        string Expand(string s) => ArgUse().Replace(s, m => args.GetValueOrDefault(m.Groups[1].Value, m.Value));

        var suites = AptSource().Matches(runtime).Select(m => m.Groups[2].Value).ToList();
        var pgdg = false;
        foreach (var suite in suites)
        {
            if (suite == $"{distribution.Codename}-pgdg")
            {
                pgdg = true;
            }
            else
            {
                problems.Add($"The apt source suite '{suite}' does not match the base image's distribution ({distribution.Codename}): use {distribution.Codename}-pgdg.");
            }
        }

        var packages = AptInstall().Matches(runtime).SelectMany(m => Expand(m.Groups[1].Value).Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(p => !p.StartsWith('-')).ToList();
        var clients = packages.Select(p => ClientPackage().Match(p)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        if (clients.Count != 1)
        {
            problems.Add($"The image should install exactly one postgresql-client-N package; it installs {clients.Count}.");
        }

        foreach (var major in clients)
        {
            if (pgdg && !PgdgMajors.Contains(major))
            {
                problems.Add($"postgresql-client-{major} is not published by apt.postgresql.org for {distribution.Codename}.");
            }
            else if (!pgdg && major != distribution.OwnClient)
            {
                problems.Add($"postgresql-client-{major} is not in {distribution.Codename}'s own archive (it has {distribution.OwnClient}); add PostgreSQL's apt repository ({distribution.Codename}-pgdg) or install postgresql-client-{distribution.OwnClient}.");
            }

            if (major < PgDumpCompatibility.NewestSupportedServerMajor)
            {
                problems.Add($"postgresql-client-{major} is older than the newest supported server ({PgDumpCompatibility.NewestSupportedServerMajor}): pg_dump could not back it up.");
            }

            if (PgBin().Match(runtime) is { Success: true } bin && Expand(bin.Groups[1].Value) != major.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                problems.Add($"HELLOJOHN_PG_BIN points at PostgreSQL {Expand(bin.Groups[1].Value)}'s programs, not the {major} client installed.");
            }
        }

        foreach (var needed in new[] { "zstd", "ca-certificates" }.Where(n => !packages.Contains(n)))
        {
            problems.Add($"{needed} is not installed (zstd: the README's by-hand restore; ca-certificates: the HTTPS apt source and S3).");
        }

        if (runtime.Contains("HEALTHCHECK", StringComparison.Ordinal) && runtime.Contains("curl ", StringComparison.Ordinal) && !packages.Contains("curl"))
        {
            problems.Add("The healthcheck runs curl, which is not installed.");
        }

        if (!runtime.Contains("ASPNETCORE_ENVIRONMENT=Production", StringComparison.Ordinal))
        {
            problems.Add("The image does not say ASPNETCORE_ENVIRONMENT=Production.");
        }

        return problems;
    }

    private static int ClientMajor(string dockerfile)
    {
        var args = ArgDefault().Matches(dockerfile).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var package = ClientPackageIn().Match(ArgUse().Replace(dockerfile, m => args.GetValueOrDefault(m.Groups[1].Value, m.Value)));
        return int.Parse(package.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static async Task<(int Code, string Output)> RunAsync(string compose, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(compose, ["-f", "docker-compose.yml", "config"])
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(hang.Token);
        return (process.ExitCode, await output + await error);
    }

    [GeneratedRegex(@"^ARG\s+(\w+)=(\S+)", RegexOptions.Multiline)]
    private static partial Regex ArgDefault();

    [GeneratedRegex(@"\$\{(\w+)\}")]
    private static partial Regex ArgUse();

    [GeneratedRegex(@"\bdeb\s+(\[[^\]]*\]\s+)?\S+\s+(\S+)\s+main\b")]
    private static partial Regex AptSource();

    [GeneratedRegex(@"apt-get install ((?:-\S+\s+)*[^&;\n]+)")]
    private static partial Regex AptInstall();

    [GeneratedRegex(@"^postgresql-client-(\d+)$")]
    private static partial Regex ClientPackage();

    [GeneratedRegex(@"\bpostgresql-client-(\d+)\b")]
    private static partial Regex ClientPackageIn();

    [GeneratedRegex(@"HELLOJOHN_PG_BIN=/usr/lib/postgresql/(\S+?)/bin")]
    private static partial Regex PgBin();
}
