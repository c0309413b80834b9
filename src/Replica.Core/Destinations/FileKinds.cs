using System.Runtime.InteropServices;

namespace Replica.Destinations;

/// <summary>What a path names, links followed: nothing, a regular file, a directory, or something else (a device, a FIFO, a socket).</summary>
internal enum FileKind
{
    Missing,
    Regular,
    Directory,
    Other,
}

/// <summary>
/// Tells a regular file from a device, FIFO or socket, which .NET's file APIs do not (/dev/null's attributes are
/// "Normal"): statx(2), whose struct has one layout on every Linux architecture
/// (https://man7.org/linux/man-pages/man2/statx.2.html). Elsewhere only what .NET can tell: a directory, or a file
/// taken as regular.
/// </summary>
internal static partial class FileKinds
{
    const int AtCurrentDirectory = -100;
    const uint StatxType = 0x1;
    const int ModeOffset = 28;
    const int NoSuchFile = 2;

    public static FileKind Of(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            Span<byte> status = stackalloc byte[256];
            if (Statx(AtCurrentDirectory, path, 0, StatxType, status) == 0)
            {
                ushort mode = MemoryMarshal.Read<ushort>(status[ModeOffset..]);
                return (mode & 0xF000) switch
                {
                    0x8000 => FileKind.Regular,
                    0x4000 => FileKind.Directory,
                    _ => FileKind.Other,
                };
            }
            if (Marshal.GetLastPInvokeError() == NoSuchFile)
            {
                return FileKind.Missing;
            }
        }
        return Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, Span<byte> status);
}
