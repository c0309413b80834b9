using System.Diagnostics;

namespace Replica.Clients;

/// <summary>
/// What a run must not leave behind when it ends before its owners clean up: the database tools it started (with their
/// children) and the option files that hold a password. Owners dispose them as usual; this is the backstop for an exit
/// that comes first (an interrupt whose cleanup outlives the CLI's termination timeout, a SIGTERM, an unhandled error).
/// At process exit every tool still tracked is killed and every file still tracked deleted. Found by review: after
/// Ctrl-C during a MySQL restore's swap, the mysql client went on as an orphan, finished the swap once a lock was freed
/// (the destination replaced after "interrupted") and its option file, with the password, stayed in /tmp.
/// </summary>
internal static class ExitCleanup
{
    static readonly Lock s_lock = new();
    static readonly HashSet<Process> s_processes = [];
    static readonly HashSet<string> s_files = new(StringComparer.Ordinal);

    static readonly object s_criticalGate = new();
    static int s_critical;

    /// <summary>How long the exit waits for a critical section (<see cref="Critical"/>) before it kills what is left.</summary>
    static readonly TimeSpan s_criticalWait = TimeSpan.FromMinutes(10);

    static ExitCleanup() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        WaitForCriticalSections(s_criticalWait);
        RunAll(static _ => true, static _ => true);
    };

    /// <summary>
    /// Marks a step that must not be cut once it began (a MySQL restore's swap: killed midway it would leave the destination
    /// half replaced): until the result is disposed, the exit waits for it before it kills the tracked tools. The step
    /// bounds its own time (lock_wait_timeout per statement); the exit waits at most ten minutes.
    /// </summary>
    public static IDisposable Critical()
    {
        lock (s_criticalGate)
        {
            s_critical++;
        }
        return new CriticalSection();
    }

    sealed class CriticalSection : IDisposable
    {
        int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (s_criticalGate)
                {
                    s_critical--;
                    Monitor.PulseAll(s_criticalGate);
                }
            }
        }
    }

    /// <summary>Waits until no critical section is open, or <paramref name="timeout"/> passed; whether none is open.</summary>
    internal static bool WaitForCriticalSections(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (s_criticalGate)
        {
            while (s_critical > 0)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(s_criticalGate, left))
                {
                    return s_critical == 0;
                }
            }
            return true;
        }
    }

    public static void Track(Process process)
    {
        lock (s_lock)
        {
            s_processes.Add(process);
        }
    }

    public static void Untrack(Process process)
    {
        lock (s_lock)
        {
            s_processes.Remove(process);
        }
    }

    public static void TrackFile(string path)
    {
        lock (s_lock)
        {
            s_files.Add(path);
        }
    }

    public static void UntrackFile(string path)
    {
        lock (s_lock)
        {
            s_files.Remove(path);
        }
    }

    /// <summary>
    /// Kills the tracked tools and deletes the tracked files that the predicates select (at process exit all of them;
    /// tests select their own, other tests' tools run in the same process).
    /// </summary>
    internal static void RunAll(Predicate<Process> processSelected, Predicate<string> fileSelected)
    {
        Process[] processes;
        string[] files;
        lock (s_lock)
        {
            processes = [.. s_processes.Where(p => processSelected(p))];
            files = [.. s_files.Where(f => fileSelected(f))];
            s_processes.ExceptWith(processes);
            s_files.ExceptWith(files);
        }
        // Each on its own: one that fails (gone already, or disposed by its owner meanwhile) stops none of the others.
        foreach (var process in processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception)
            {
                // already gone
            }
        }
        foreach (var file in files)
        {
            try
            {
                File.Delete(file);
            }
            catch (Exception)
            {
                // best effort: the file is 0600 in the temp directory
            }
        }
    }
}
