namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>Files of the repository itself (the Dockerfile, the compose file, the pages' sources), found from the test
/// binaries' folder.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HelloJohn.Console.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (HelloJohn.Console.sln) was not found above " + AppContext.BaseDirectory);
    }
}
