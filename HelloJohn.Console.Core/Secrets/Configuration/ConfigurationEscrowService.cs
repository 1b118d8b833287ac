using System.Text.Json;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Secrets.Configuration;

/// <summary>Escrow of HelloJohn's environment configuration (HELLOJOHN_DATABASE_URL, SMTP settings, …) as one secret
/// holding a JSON object of name → value. Every change is a new version. Values are shown masked; revealing one is
/// Admin-only and audited with the variable's name, never its value.</summary>
public sealed partial class ConfigurationEscrowService(
    ISecretStore store,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IAuditLog audit,
    CallerGate gate,
    ILogger<ConfigurationEscrowService> logger)
{
    public const string Mask = "••••••••";
    public const int MaxVariables = 200;
    public const int MaxValueLength = 16 * 1024;

    /// <summary>Stores exactly <paramref name="variables"/> as the new version (variables left out are dropped).</summary>
    public Task<ConfigurationEscrowView> ReplaceAsync(Actor actor, Guid targetId, IReadOnlyDictionary<string, string> variables, CancellationToken ct = default) =>
        ChangeAsync(actor, targetId, _ => variables.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal), "Replaced", ct);

    /// <summary>Applies <paramref name="changes"/> to the current version: a value sets the variable, null removes it.
    /// The other variables are kept without anyone seeing them.</summary>
    public Task<ConfigurationEscrowView> MergeAsync(Actor actor, Guid targetId, IReadOnlyDictionary<string, string?> changes, CancellationToken ct = default) =>
        ChangeAsync(actor, targetId, current =>
        {
            foreach (var (name, value) in changes)
            {
                if (value is null)
                {
                    current.Remove(name);
                }
                else
                {
                    current[name] = value;
                }
            }

            return current;
        }, "Updated", ct);

    /// <summary>Names of the escrowed variables with masked values; null when nothing is escrowed yet.</summary>
    public async Task<ConfigurationEscrowView?> GetAsync(Guid targetId, CancellationToken ct = default)
    {
        var target = await dbFactory.RequireTargetAsync(targetId, ct);
        var value = await store.GetAsync(SecretNames.Configuration(target), null, ct);
        return value is null ? null : View(value.VersionId, value.CreatedAt, Deserialize(value));
    }

    /// <summary>The value of one variable. Admin only; audited with the variable's name.</summary>
    public async Task<RevealedVariable> RevealAsync(Actor actor, Guid targetId, string variableName, CancellationToken ct = default)
    {
        var target = await gate.DemandThenRequireTargetAsync(audit, dbFactory, actor, ConsolePermission.RevealSecret, AuditActions.SecretRevealed, targetId, SecretNames.Configuration, ct);
        var secretName = SecretNames.Configuration(target);
        return await audit.AuditedAsync(actor, AuditActions.SecretRevealed, secretName, async () =>
        {
            var value = await store.GetAsync(secretName, null, ct)
                ?? throw new SecretStoreException(SecretStoreFailure.NotFound, $"No configuration is escrowed for '{target.Name}' in {store.Location}. Nothing was revealed.");
            if (!Deserialize(value).TryGetValue(variableName, out var revealed))
            {
                throw new InvalidConfigurationEscrowException($"The escrowed configuration of '{target.Name}' (version {value.VersionId}) has no variable {variableName}. Nothing was revealed.");
            }

            logger.LogInformation("Revealed configuration variable {Variable} of target {TargetId} to {Actor}", variableName, targetId, actor.Name);
            return (new RevealedVariable(variableName, value.VersionId, revealed), $"Revealed variable {variableName} (version {value.VersionId}).");
        }, ct);
    }

    /// <summary>Reads "NAME=value" lines as a .env file writes them: blank lines and # comments are skipped, an
    /// "export " prefix is allowed, and a value in single or double quotes is unquoted (double quotes also undo \n, \"
    /// and \\). A line that is not an assignment is an error that names its number, never its content.</summary>
    public static IReadOnlyDictionary<string, string> ParseDotEnv(string text)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var eq = line.IndexOf('=');
            var name = eq < 0 ? "" : line[..eq].Trim();
            if (eq < 0 || !VariableNamePattern().IsMatch(name))
            {
                throw new InvalidConfigurationEscrowException($"Line {i + 1} is not a NAME=value assignment (names are letters, digits and _, not starting with a digit). Nothing was stored.");
            }

            variables[name] = Unquote(line[(eq + 1)..].Trim());
        }

        return variables;
    }

    private async Task<ConfigurationEscrowView> ChangeAsync(Actor actor, Guid targetId, Func<Dictionary<string, string>, Dictionary<string, string>> change, string verb, CancellationToken ct)
    {
        var target = await gate.DemandThenRequireTargetAsync(audit, dbFactory, actor, ConsolePermission.ManageSecrets, AuditActions.SecretStored, targetId, SecretNames.Configuration, ct);
        var secretName = SecretNames.Configuration(target);
        return await audit.AuditedAsync(actor, AuditActions.SecretStored, secretName, async () =>
        {
            var current = await store.GetAsync(secretName, null, ct);
            var variables = change(current is null ? new Dictionary<string, string>(StringComparer.Ordinal) : Deserialize(current));
            Validate(variables);
            var json = JsonSerializer.Serialize(new SortedDictionary<string, string>(variables, StringComparer.Ordinal));
            var version = await store.PutAsync(secretName, json, ct);
            logger.LogInformation("Escrowed {Count} configuration variables of target {TargetId} as version {VersionId}", variables.Count, targetId, version.VersionId);
            return (View(version.VersionId, version.CreatedAt, variables),
                $"{verb} configuration: {variables.Count} variable(s) ({string.Join(", ", variables.Keys.Order(StringComparer.Ordinal))}) as version {version.VersionId}.");
        }, ct);
    }

    private static void Validate(Dictionary<string, string> variables)
    {
        if (variables.Count == 0)
        {
            throw new InvalidConfigurationEscrowException("There are no variables to store. Add at least one NAME=value. Nothing was stored.");
        }

        if (variables.Count > MaxVariables)
        {
            throw new InvalidConfigurationEscrowException($"{variables.Count} variables are more than the {MaxVariables} the escrow takes. Nothing was stored.");
        }

        var badNames = variables.Keys.Where(n => !VariableNamePattern().IsMatch(n)).ToList();
        if (badNames.Count > 0)
        {
            throw new InvalidConfigurationEscrowException($"{string.Join(", ", badNames.Select(n => $"'{n}'"))} {(badNames.Count == 1 ? "is not a valid environment variable name" : "are not valid environment variable names")}: use letters, digits and _, not starting with a digit. Nothing was stored.");
        }

        var tooLong = variables.Where(v => v.Value.Length > MaxValueLength).Select(v => v.Key).ToList();
        if (tooLong.Count > 0)
        {
            throw new InvalidConfigurationEscrowException($"The value of {string.Join(", ", tooLong)} is longer than {MaxValueLength / 1024} KiB. Nothing was stored.");
        }
    }

    private static Dictionary<string, string> Deserialize(SecretValue value)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(value.Value) is { } parsed
                ? new Dictionary<string, string>(parsed, StringComparer.Ordinal)
                : throw new JsonException();
        }
        catch (JsonException)
        {
            // JsonException messages can quote the payload: none of it is passed on.
            throw new SecretStoreException(SecretStoreFailure.Rejected,
                $"Version {value.VersionId} of '{value.Name}' is not a JSON object of variables: it was written outside the console. Nothing was changed. Store the configuration again from the console.");
        }
    }

    private static ConfigurationEscrowView View(string versionId, DateTimeOffset? storedAt, IReadOnlyDictionary<string, string> variables) =>
        new(versionId, storedAt, variables.Keys.Order(StringComparer.Ordinal).Select(n => new MaskedVariable(n, Mask)).ToList());

    private static string Unquote(string value)
    {
        if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
        {
            return value[1..^1];
        }

        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            return value[1..^1].Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        }

        var comment = value.IndexOf(" #", StringComparison.Ordinal);
        return comment >= 0 ? value[..comment].TrimEnd() : value;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableNamePattern();
}

/// <summary>The escrowed configuration as anyone may see it: names, and a mask in place of every value.</summary>
public sealed record ConfigurationEscrowView(string VersionId, DateTimeOffset? StoredAt, IReadOnlyList<MaskedVariable> Variables);

public sealed record MaskedVariable(string Name, string MaskedValue);

public sealed record RevealedVariable(string Name, string VersionId, string Value)
{
    public override string ToString() => $"RevealedVariable {{ Name = {Name}, VersionId = {VersionId}, Value = *** }}";
}

/// <summary>The configuration to escrow, or the variable asked for, is not acceptable. The message names variables and
/// line numbers, never values.</summary>
public sealed class InvalidConfigurationEscrowException(string message) : Exception(message);
