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

    static ExitCleanup() => AppDomain.CurrentDomain.ProcessExit += (_, _) => RunAll(static _ => true, static _ => true);

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
