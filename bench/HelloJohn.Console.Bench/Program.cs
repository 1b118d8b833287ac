using HelloJohn.Console.Bench;

try
{
    return await BenchProgram.RunAsync(BenchCommand.Parse(args), Console.Out, Console.Error);
}
catch (BenchUsageException e)
{
    await Console.Error.WriteLineAsync($"{e.Message} Nothing was run.\n\n{BenchCommand.Usage}");
    return 2;
}
