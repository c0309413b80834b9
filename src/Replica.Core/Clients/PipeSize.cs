using System.Runtime.InteropServices;

namespace Replica.Clients;

/// <summary>
/// Linux pipes hold 64 KiB by default; F_SETPIPE_SZ (fcntl(2)) enlarges one, so a fast writer fills it while the reader
/// works and each read brings more. Best effort: elsewhere, or above /proc/sys/fs/pipe-max-size, the pipe stays as it is.
/// </summary>
internal static partial class PipeSize
{
    const int F_SETPIPE_SZ = 1031;

    /// <summary>Enlarges <paramref name="stream"/>'s pipe when it is one (a child process's stdin or stdout).</summary>
    public static void TryEnlarge(Stream stream, int bytes)
    {
        if (stream is System.IO.Pipes.PipeStream pipe)
        {
            TryEnlarge(pipe.SafePipeHandle, bytes);
        }
    }

    static void TryEnlarge(SafeHandle pipe, int bytes)
    {
        if (OperatingSystem.IsLinux())
        {
            _ = Fcntl(pipe, F_SETPIPE_SZ, bytes);
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl")]
    private static partial int Fcntl(SafeHandle fd, int command, int argument);
}
