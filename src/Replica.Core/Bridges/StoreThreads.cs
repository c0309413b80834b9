using System.Collections.Concurrent;

namespace Replica.Bridges;

/// <summary>
/// A few threads of the local store's own for its blocking file work (create, write, fsync, rename). A durable write
/// blocks its thread in fsync for milliseconds to seconds; on thread-pool threads that made the pool inject threads to
/// keep its work going and retire them when idle, 13-21 threads over a bridge dump, and every thread that came and went
/// left native memory behind (stacks, malloc arenas: ~2 MB of RSS per 9 GiB, issue 12) and emptied the array pool's
/// per-thread slots. These threads start when the work first needs them, at most <see cref="MaxThreads"/>, and never
/// retire (background threads: they do not keep the process alive). Work waits its turn when all are busy, which the
/// local disk imposes anyway.
/// </summary>
internal static class StoreThreads
{
    /// <summary>At most this many threads: a dump stores one chunk at a time per part, `dump --jobs` a few parts at once.</summary>
    public const int MaxThreads = 4;

    static readonly BlockingCollection<Action> s_work = [];
    static readonly Lock s_lock = new();
    static int s_started;
    // Work queued or running: a new thread starts when it exceeds the threads there are.
    static int s_pending;

    /// <summary>Threads started so far in this process (never more than <see cref="MaxThreads"/>; a test hook).</summary>
    public static int Started => Volatile.Read(ref s_started);

    /// <summary>Runs <paramref name="work"/> on a store thread; the task completes (on the thread pool) with its result or exception.</summary>
    public static Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        // Continuations off the store thread: the caller's code after the await must not run (and block) on it.
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (s_lock)
        {
            s_work.Add(() =>
            {
                try
                {
                    done.SetResult(work());
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            }, CancellationToken.None); // the queue is unbounded: adding never waits
            s_pending++;
            if (s_pending > s_started && s_started < MaxThreads)
            {
                new Thread(Serve) { IsBackground = true, Name = $"replica store {s_started + 1}" }.Start();
                s_started++;
            }
        }
        return done.Task;
    }

    static void Serve()
    {
        foreach (Action work in s_work.GetConsumingEnumerable())
        {
            work();
            lock (s_lock)
            {
                s_pending--;
            }
        }
    }
}
