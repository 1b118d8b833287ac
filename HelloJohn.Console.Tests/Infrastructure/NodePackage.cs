using System.Diagnostics;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>The npm packages test servers run from (s3rver, smtp-server): installed with npm the first time a test
/// needs one, when the test script has not done it already.</summary>
public static class NodePackage
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    /// <summary>Runs <c>npm install</c> in <paramref name="directory"/> unless <paramref name="module"/> is there already.</summary>
    public static async Task EnsureInstalledAsync(string directory, string module)
    {
        await InstallLock.WaitAsync();
        try
        {
            if (File.Exists(Path.Combine(directory, "node_modules", module, "package.json")))
            {
                return;
            }

            using var npm = Process.Start(new ProcessStartInfo("npm", ["install", "--no-audit", "--no-fund"])
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            }) ?? throw new InvalidOperationException("npm did not start.");
            var stderr = npm.StandardError.ReadToEndAsync();
            await npm.StandardOutput.ReadToEndAsync();
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0)
            {
                throw new InvalidOperationException($"npm install in {directory} failed: {await stderr}");
            }
        }
        finally
        {
            InstallLock.Release();
        }
    }
}
