using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace HelloJohn.Console.Core.Postgres;

/// <summary>How the console starts a program so that it never outlives the console: each child gets a parent-death
/// signal (util-linux <c>setpriv --pdeathsig KILL</c>, which also drops to the server's user when root, re-applying the
/// signal after the credential change) and its own process group (<c>setsid</c>), so a cancellation kills it together
/// with the workers it forked (<c>pg_restore -j</c>). Every child is started from one long-lived thread: Linux sends the
/// parent-death signal when the <em>thread</em> that started the child exits, and the thread pool retires idle threads,
/// which would kill a long pg_dump in the middle.</summary>
internal static class ChildProcesses
{
    private const string SetPriv = "/usr/bin/setpriv";
    private const string SetSid = "/usr/bin/setsid";
    private const int SigKill = 9;

    private static readonly BlockingCollection<Action> Starts = new();
    private static readonly Lazy<Thread> Starter = new(() =>
    {
        var thread = new Thread(() =>
        {
            foreach (var start in Starts.GetConsumingEnumerable())
            {
                start();
            }
        })
        {
            IsBackground = true,
            Name = "hellojohn-console child process starter",
        };
        thread.Start();
        return thread;
    });

    /// <summary>Whether children can be bound to the console's life here (util-linux present).</summary>
    public static bool CanBind { get; } = File.Exists(SetPriv) && File.Exists(SetSid);

    /// <summary>The program and arguments that start <paramref name="program"/> bound to the console's life, as the
    /// server's own user when <paramref name="asServerUser"/> and the console runs as root. Without util-linux the
    /// program is started as it is (and as root it cannot drop to the server's user, which initdb refuses).</summary>
    public static (string Program, string[] Arguments) Command(string program, IReadOnlyList<string> arguments, bool asServerUser)
    {
        if (!CanBind)
        {
            return (program, [.. arguments]);
        }

        List<string> args = ["--pdeathsig", "KILL"];
        if (asServerUser && PgToolRunner.IsRoot)
        {
            args.AddRange(["--reuid", PgToolRunner.ServerUser, "--regid", PgToolRunner.ServerUser, "--init-groups"]);
        }

        args.AddRange(["--", SetSid, "--", program]);
        args.AddRange(arguments);
        return (SetPriv, [.. args]);
    }

    /// <summary>Runs <paramref name="start"/> (which must start the process before it returns) on the starter thread.</summary>
    public static Task<T> StartAsync<T>(Func<T> start)
    {
        _ = Starter.Value;
        var started = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Starts.Add(() =>
        {
            try
            {
                started.SetResult(start());
            }
            catch (Exception e)
            {
                started.SetException(e);
            }
        });
        return started.Task;
    }

    /// <summary>Kills the process group a bound child leads (its pid is the group's id); nothing when it is gone.</summary>
    public static void KillGroup(int leaderPid)
    {
        if (CanBind && leaderPid > 1)
        {
            _ = Kill(-leaderPid, SigKill);
        }
    }

    /// <summary>Gives a file to the server's user (initdb's data folder and password file, a passfile it reads).</summary>
    public static void GiveToServerUser(string path)
    {
        var user = GetPwNam(PgToolRunner.ServerUser);
        if (user == IntPtr.Zero)
        {
            throw new InvalidOperationException($"There is no '{PgToolRunner.ServerUser}' user on this machine to run PostgreSQL's server programs as.");
        }

        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... } on 64-bit glibc.
        var uid = (uint)Marshal.ReadInt32(user, 2 * IntPtr.Size);
        var gid = (uint)Marshal.ReadInt32(user, (2 * IntPtr.Size) + 4);
        if (Chown(path, uid, gid) != 0)
        {
            throw new InvalidOperationException($"Could not hand {path} to the '{PgToolRunner.ServerUser}' user (error {Marshal.GetLastPInvokeError()}).");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "getpwnam", SetLastError = true)]
    private static extern IntPtr GetPwNam([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint uid, uint gid);
}
