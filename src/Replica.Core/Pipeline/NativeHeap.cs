using System.Runtime.InteropServices;

namespace Replica.Pipeline;

/// <summary>
/// Gives the native heap's free pages back to the system while a dump or a restore runs. glibc's malloc returns memory
/// only from the top of each heap (arena); what libzstd, OpenSSL and the JIT free in the middle stays resident. The
/// native heap's live size is flat over a dump (heaptrack: ~7-8 MB from the first GiB to the last), yet its arenas'
/// RSS crept up by 4-6 MiB over a 20 GiB dump into the local bridge and 8 MiB over 100 GiB, in steps; malloc_trim(0),
/// called from gdb at 120 s of such a dump, took 4.6 MiB back at once. So, every <see cref="Interval"/> while a job
/// runs, malloc_trim(0) (malloc_trim(3): it releases free pages inside every arena too, with madvise) - a few
/// milliseconds. Elsewhere (not Linux, or a libc without malloc_trim, as musl) it does nothing.
/// </summary>
internal static partial class NativeHeap
{
    /// <summary>How often a running job trims: short against a dump, long against the trim's milliseconds.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    static readonly Lock s_gate = new();
    static int s_users;
    static Timer? s_timer;
    static bool s_unsupported = !OperatingSystem.IsLinux();

    /// <summary>
    /// Trims every <see cref="Interval"/> until the returned handle is disposed; jobs running at once (the parts of a
    /// dump) share one timer.
    /// </summary>
    public static IDisposable KeepTrimmed()
    {
        if (s_unsupported)
        {
            return Nothing.Instance;
        }
        lock (s_gate)
        {
            if (s_users++ == 0)
            {
                s_timer = new Timer(_ => TrimNow(), null, Interval, Interval);
            }
        }
        return new User();
    }

    /// <summary>Whether a job keeps the heap trimmed now (the timer runs).</summary>
    internal static bool IsTrimming
    {
        get
        {
            lock (s_gate)
            {
                return s_timer is not null;
            }
        }
    }

    /// <summary>Trims once; false where it cannot (not glibc).</summary>
    public static bool TrimNow()
    {
        if (s_unsupported)
        {
            return false;
        }
        try
        {
            _ = MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            s_unsupported = true;
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    sealed class User : IDisposable
    {
        int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
            lock (s_gate)
            {
                if (--s_users == 0)
                {
                    s_timer?.Dispose();
                    s_timer = null;
                }
            }
        }
    }

    sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();

        public void Dispose()
        {
        }
    }
}
