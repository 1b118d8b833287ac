namespace HelloJohn.Console.Bench;

// A named entry point rather than top-level statements: the test project references this and the web project, and
// both would otherwise define a global Program class.
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        try
        {
            if (args is ["sets", .. var rest])
            {
                return await Sets.SetsBench.RunAsync(rest, System.Console.Out, System.Console.Error);
            }

            if (args.Length > 0 && args[0] == "pitr")
            {
                return await Cases.PitrBench.RunAsync(args[1..], System.Console.Out, System.Console.Error);
            }

            return await BenchProgram.RunAsync(BenchCommand.Parse(args), System.Console.Out, System.Console.Error);
        }
        catch (BenchUsageException e)
        {
            await System.Console.Error.WriteLineAsync($"{e.Message} Nothing was run.\n\n{BenchCommand.Usage}\n{Sets.SetsBenchCommand.Usage}");
            return 2;
        }
    }
}
