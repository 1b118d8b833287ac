using Microsoft.AspNetCore.Identity;

namespace HelloJohn.Console.Core.Security;

/// <summary>The console's password rules, in one place: Identity enforces them, forms explain and pre-check them.</summary>
public static class PasswordPolicy
{
    public const int MinimumLength = 12;
    public const int MaximumLength = 128;

    public const string Description = "At least 12 characters, with upper and lower case letters, a digit and a symbol.";

    /// <summary>What <paramref name="password"/> still lacks, in words; empty when it meets the policy.</summary>
    public static IReadOnlyList<string> Problems(string? password)
    {
        password ??= "";
        var problems = new List<string>();
        if (password.Length < MinimumLength)
        {
            problems.Add($"at least {MinimumLength} characters");
        }

        if (password.Length > MaximumLength)
        {
            problems.Add($"at most {MaximumLength} characters");
        }

        if (!password.Any(char.IsUpper))
        {
            problems.Add("an upper case letter");
        }

        if (!password.Any(char.IsLower))
        {
            problems.Add("a lower case letter");
        }

        if (!password.Any(char.IsDigit))
        {
            problems.Add("a digit");
        }

        if (password.All(char.IsLetterOrDigit))
        {
            problems.Add("a symbol");
        }

        return problems;
    }

    internal static void Apply(PasswordOptions o)
    {
        o.RequiredLength = MinimumLength;
        o.RequireDigit = true;
        o.RequireLowercase = true;
        o.RequireUppercase = true;
        o.RequireNonAlphanumeric = true;
    }
}

/// <summary>Identity checks a minimum length only; a cap keeps a megabyte "password" from costing a hash per request.</summary>
internal sealed class MaximumLengthPasswordValidator : IPasswordValidator<Data.ConsoleUser>
{
    public Task<IdentityResult> ValidateAsync(UserManager<Data.ConsoleUser> manager, Data.ConsoleUser user, string? password) =>
        Task.FromResult(password is { Length: > PasswordPolicy.MaximumLength }
            ? IdentityResult.Failed(new IdentityError { Code = "PasswordTooLong", Description = $"Passwords must be at most {PasswordPolicy.MaximumLength} characters." })
            : IdentityResult.Success);
}
