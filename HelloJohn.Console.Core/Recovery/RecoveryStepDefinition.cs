using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>One step of a wizard as people see it: what to do by hand (with the exact commands), what they type in,
/// whether the console acts and checks itself, and what a check proves before the next step opens. What the console
/// does is the step's <see cref="Handler"/>, an <see cref="IRecoveryStep"/> with its own dependencies.</summary>
public sealed class RecoveryStepDefinition
{
    public required string Key { get; init; }
    public required string Title { get; init; }

    /// <summary>Text and copyable commands for the run's provider.</summary>
    public required Func<RecoveryInstructionContext, IReadOnlyList<InstructionBlock>> Instructions { get; init; }

    /// <summary>What the engineer types in for this step (a connection, a time, a choice).</summary>
    public IReadOnlyList<InputField> Inputs { get; init; } = [];

    /// <summary>The handler validates and keeps inputs (<see cref="IRecoveryStep.ApplyInputAsync"/>).</summary>
    public bool TakesInput { get; init; }

    /// <summary>The work the console does itself, run as a background job with a live log.</summary>
    public RecoveryStepAction? Action { get; init; }

    /// <summary>What must hold before the next step opens. Null only where nothing can be checked from here; then the
    /// step is marked done by hand and who did it is recorded.</summary>
    public RecoveryStepCheck? Check { get; init; }

    /// <summary>The <see cref="IRecoveryStep"/> that applies the inputs, acts and checks; null for a step done by hand.</summary>
    public Type? Handler { get; init; }

    /// <summary>Why a person has to confirm this step (shown beside "Mark done").</summary>
    public string? ManualReason { get; init; }

    /// <summary>Beyond <see cref="ConsolePermission.RunRecoveryWizard"/>, what pressing this step's button needs.</summary>
    public ConsolePermission? ExtraPermission { get; init; }

    /// <summary>Whether the recovery time runs until this step passes (clean-up after a drill does not count).</summary>
    public bool CountsForRto { get; init; } = true;

    public string? ActionLabel => Action?.Label;
    /// <summary>The check waits for something outside (HelloJohn coming up): it runs as a job and polls.</summary>
    public bool CheckPolls => Check?.Polls == true;
    public bool IsManual => Check is null;
    public bool RunsAsJob => Action is not null || CheckPolls;
}

/// <summary>The console acts in this step; <paramref name="Label"/> is its button.</summary>
public sealed record RecoveryStepAction(string Label);

/// <summary>The console checks this step; <paramref name="Polls"/> when the check waits for something outside.</summary>
public sealed record RecoveryStepCheck(bool Polls = false);

/// <summary>What the console does in a step: keep its inputs, act, check. Constructed per execution with its own
/// dependencies; changes to <see cref="RecoveryStepContext.Run"/> are saved by the engine.</summary>
public interface IRecoveryStep
{
    /// <summary>Validates and keeps the inputs on the run; throws <see cref="RecoveryInputException"/> for bad input.</summary>
    Task ApplyInputAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct) => Task.CompletedTask;

    /// <summary>The step's own work (restore, generate a key); its failures throw <see cref="RecoveryStepFailedException"/>.</summary>
    Task ActAsync(RecoveryStepContext ctx, CancellationToken ct) => Task.CompletedTask;

    Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct);
}

/// <summary>A paragraph of instructions, optionally with a command to copy. When <see cref="CopiesSecret"/> is set, the
/// command shown is masked and the copy button fetches the real value (audited).</summary>
public sealed record InstructionBlock(string Text, string? Command = null, bool CopiesSecret = false);

public enum InputKind
{
    Text,
    /// <summary>Holds a password: never echoed back, never logged.</summary>
    Secret,
    /// <summary>A date and time without zone; paired with a <see cref="TimeZone"/> field.</summary>
    DateTime,
    TimeZone,
    Boolean,
    /// <summary>One of the target's finished backups.</summary>
    Backup,
    Url,
}

public sealed record InputField(string Name, string Label, InputKind Kind, bool Required, string? Help = null);

/// <summary>A check's verdict and the sentence that explains it.</summary>
public sealed record CheckOutcome(bool Passed, string Message)
{
    public static CheckOutcome Pass(string message) => new(true, message);

    public static CheckOutcome Fail(string message) => new(false, message);
}

/// <summary>What instructions are written from. Holds no secret: the new database URL is masked.</summary>
public sealed record RecoveryInstructionContext(RecoveryRun Run, TargetSummary Target, string? MaskedNewDatabaseUrl)
{
    public TargetProvider Provider => Run.Provider;
}

/// <summary>What a step's input, action and check work with. Changes to <see cref="Run"/> are saved by the engine.</summary>
public sealed class RecoveryStepContext(
    RecoveryRun run,
    TargetSummary target,
    Actor actor,
    RecoveryConnectionVault vault,
    Func<RecoveryLogLevel, string, Task> log,
    Action<long, long?>? progress = null)
{
    public RecoveryRun Run => run;
    public TargetSummary Target => target;
    public Actor Actor => actor;

    /// <summary>Appends a line to the step's live log. Never pass a secret.</summary>
    public Task LogAsync(string text, RecoveryLogLevel level = RecoveryLogLevel.Info) => log(level, text);

    /// <summary>Live progress of the step's work, shown beside it (tables loaded of the archive's).</summary>
    public void ReportProgress(long done, long? total) => progress?.Invoke(done, total);

    public Npgsql.NpgsqlConnectionStringBuilder NewConnection() => vault.Unprotect(run)
        ?? throw new RecoveryStepFailedException("No new database connection is recorded for this run. Go back to the first step's input.");

    public void SetNewConnection(Npgsql.NpgsqlConnectionStringBuilder connection) => vault.Protect(run, connection);
}

/// <summary>Bad input to a step: nothing was stored or run; the message says what to fix.</summary>
public sealed class RecoveryInputException(string message) : Exception(message);

/// <summary>A step's action could not finish; the message is for people and holds no secret.</summary>
public sealed class RecoveryStepFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A request the engine refuses (order, state, permission of the run); nothing changed.</summary>
public sealed class RecoveryRefusedException(string message) : Exception(message)
{
    public Guid? ExistingRunId { get; init; }
}

internal static partial class RecoveryLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Recovery run {RunId} ({Scenario}): step {Step} {Outcome}")]
    public static partial void StepEnded(ILogger logger, Guid runId, RecoveryScenario scenario, string step, string outcome);
}
