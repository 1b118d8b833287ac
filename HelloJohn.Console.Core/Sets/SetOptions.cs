using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Sets;

public sealed class SetOptions
{
    public const string Section = "Sets";

    /// <summary>Sets__Parallelism: how many databases of a set one console instance dumps (or verifies) at once. Each
    /// member is a job of its own on the <see cref="SetJobs.Queue"/> queue, so instances sharing a console database add
    /// their degrees up. Default: the number of cores.</summary>
    public int Parallelism { get; set; } = Environment.ProcessorCount;
}

/// <summary>Checks Sets__Parallelism at start, naming the variable.</summary>
internal sealed class SetOptionsValidation : IValidateOptions<SetOptions>
{
    public ValidateOptionsResult Validate(string? name, SetOptions options) =>
        options.Parallelism is >= 1 and <= 64
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Sets__Parallelism must be 1 to 64 (databases dumped at once by one console instance), not {options.Parallelism}.");
}
