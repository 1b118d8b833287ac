using System.ComponentModel.DataAnnotations;

namespace HelloJohn.Console.Core.Targets;

/// <summary>The HelloJohn deployment the console protects, as configured by environment variables.</summary>
public sealed class TargetOptions
{
    /// <summary>HELLOJOHN_DATABASE_URL: <c>postgres://user:pass@host:5432/hellojohn</c> or Npgsql keyword form.</summary>
    [Required(ErrorMessage = "HELLOJOHN_DATABASE_URL is not set: give the HelloJohn database to protect (postgres://user:password@host:5432/hellojohn), or unset ConnectionStrings__Console too to run on the embedded default.")]
    public string? DatabaseUrl { get; set; }

    /// <summary>HELLOJOHN_DATABASE_PATTERNS: more databases of the same server to protect, by name pattern, comma-separated
    /// (<c>hellojohn_tenant_*</c>). Evaluated again at every backup, so a new tenant is protected from its first night.</summary>
    public string? DatabasePatterns { get; set; }

    /// <summary>HELLOJOHN_BASE_URL: HelloJohn's public URL, for /health and JWKS checks. Optional.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>HELLOJOHN_TARGET_NAME: how the console names this deployment. Defaults to "production".</summary>
    public string Name { get; set; } = "production";

    /// <summary>HELLOJOHN_PROVIDER: SelfManaged, DockerCompose, Neon, Supabase or AmazonRds.</summary>
    public TargetProvider Provider { get; set; } = TargetProvider.SelfManaged;

    /// <summary>Whether HELLOJOHN_TARGET_NAME is set; otherwise the name an administrator gave in Settings is used.</summary>
    public bool NameSet { get; set; }

    /// <summary>Whether HELLOJOHN_PROVIDER is set; otherwise the provider an administrator chose in Settings is used.</summary>
    public bool ProviderSet { get; set; }
}
