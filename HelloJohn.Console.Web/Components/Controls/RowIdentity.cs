using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Verification;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Grid rows are the same row when they are the same run, even after a reload brings a newer copy of it (a
/// status, a duration): an expanded row stays open while its run finishes.</summary>
public sealed class RowIdentity<T>(Func<T, Guid> id) : IEqualityComparer<T>
{
    public bool Equals(T? x, T? y) => x is null || y is null ? x is null && y is null : id(x) == id(y);

    public int GetHashCode(T obj) => id(obj).GetHashCode();
}

public static class RowIdentities
{
    public static IEqualityComparer<BackupListItem> Backups { get; } = new RowIdentity<BackupListItem>(b => b.Id);
    public static IEqualityComparer<RestoreRunItem> Restores { get; } = new RowIdentity<RestoreRunItem>(r => r.Id);
    public static IEqualityComparer<VerificationRunItem> Verifications { get; } = new RowIdentity<VerificationRunItem>(v => v.Id);
}
