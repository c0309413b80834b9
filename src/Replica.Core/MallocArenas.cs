using System.Runtime.InteropServices;

namespace Replica;

/// <summary>
/// glibc's malloc gives each thread that allocates natively (OpenSSL's AES-GCM and SHA-256, libzstd, the runtime) an
/// arena of its own, up to 8 per core, and a thread that the pool adds late in a dump touches a new one: the resident
/// set grew by 0.3-1.8 MiB at points of a long dump (issue 12). Two arenas bound that from the start, as the
/// MALLOC_ARENA_MAX=2 environment variable does. Set from inside the process, the cap holds for the arenas made after
/// it; the runtime's own few threads made theirs before.
/// </summary>
public static partial class MallocArenas
{
    /// <summary>The cap: the main arena and one more.</summary>
    public const int Limit = 2;

    // malloc.h
    const int M_ARENA_MAX = -8;

    /// <summary>
    /// Caps glibc's malloc arenas at <see cref="Limit"/> unless MALLOC_ARENA_MAX is set (the user's choice wins). Returns
    /// whether the cap was set: false elsewhere than Linux, and on a C library without mallopt (musl has no arenas).
    /// </summary>
    public static bool TryLimit()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
        {
            return false;
        }
        try
        {
            return Mallopt(M_ARENA_MAX, Limit) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
