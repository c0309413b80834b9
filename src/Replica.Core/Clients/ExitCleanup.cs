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
    static readonly List<CriticalSection> s_critical = [];

    static ExitCleanup() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        WaitAtExit();
        RunAll(static _ => true, static _ => true);
    };

    /// <summary>
    /// Marks a step that must not be cut once it began (a restore's swap: killed midway it would leave the destination half
    /// replaced): until the result is disposed, the exit waits for it before it kills the tracked tools, however long it
    /// takes. The step bounds its own time (destination.lock_wait_timeout per statement). The exit says that it waits and,
    /// after, the step's <see cref="CriticalSection.Outcome"/>: the CLI has already said "interrupted" by then (found by
    /// review: the exit waited at most ten minutes, which a swap with several statements waiting on locks can pass, and
    /// the swap's outcome was never shown).
    /// </summary>
    /// <param name="what">The step, for the notice: "the swap into mysql://host:3306/shop".</param>
    /// <param name="why">Why it cannot be cut, for the notice; null: a swap's renames, which each wait at most destination.lock_wait_timeout.</param>
    public static CriticalSection Critical(string what, string? why = null)
    {
        var section = new CriticalSection(what) { Why = why };
        lock (s_criticalGate)
        {
            s_critical.Add(section);
        }
        return section;
    }

    internal sealed class CriticalSection(string what) : IDisposable
    {
        int _disposed;

        public string What { get; } = what;

        public string? Why { get; init; }

        /// <summary>How the step ended, in a sentence, for the exit's notice: set by the step before it is disposed.</summary>
        public string? Outcome { get; set; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (s_criticalGate)
                {
                    s_critical.Remove(this);
                    Monitor.PulseAll(s_criticalGate);
                }
            }
        }
    }

    /// <summary>The exit's wait: the notice, every open critical section to its end, then how each ended.</summary>
    static void WaitAtExit()
    {
        CriticalSection[] open;
        lock (s_criticalGate)
        {
            open = [.. s_critical];
        }
        if (open.Length == 0)
        {
            return;
        }
        foreach (var section in open)
        {
            ExitNotices.Write($"replica: waiting for {section.What} to end: it cannot be cut midway, and "
                + (section.Why ?? "each of its statements waits at most destination.lock_wait_timeout for a lock (killing replica now, with SIGKILL, could leave the destination half replaced)"));
        }
        WaitForCriticalSections(Timeout.InfiniteTimeSpan);
        foreach (var section in open)
        {
            ExitNotices.Write($"replica: {section.What} ended: {section.Outcome ?? "with an unexpected error"}");
        }
    }

    /// <summary>
    /// Waits until no critical section is open, or <paramref name="timeout"/> passed (<see cref="Timeout.InfiniteTimeSpan"/>:
    /// no limit); whether none is open.
    /// </summary>
    internal static bool WaitForCriticalSections(TimeSpan timeout)
    {
        var deadline = timeout == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + timeout;
        lock (s_criticalGate)
        {
            while (s_critical.Count > 0)
            {
                if (timeout == Timeout.InfiniteTimeSpan)
                {
                    Monitor.Wait(s_criticalGate);
                    continue;
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(s_criticalGate, left))
                {
                    return s_critical.Count == 0;
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
