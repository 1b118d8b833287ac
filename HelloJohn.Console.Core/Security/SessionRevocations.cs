namespace HelloJohn.Console.Core.Security;

/// <summary>Tells open pages in this process that an account's sessions end now (disabled, given another role, new
/// password), so its circuits sign out at once instead of at their next periodic check. Other console instances
/// learn it from that check and, before anything runs, from <see cref="CallerGate"/>.</summary>
public sealed class SessionRevocations
{
    public event Action<string>? Revoked;

    public void Publish(string userId) => Revoked?.Invoke(userId);
}
