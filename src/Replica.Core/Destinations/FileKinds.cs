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
    const uint StatxMode = 0x2;
    const int ModeOffset = 28;
    const int NoSuchFile = 2;
    const UnixFileMode PermissionBits = (UnixFileMode)0x1FF;

    public static FileKind Of(string path) => Of(path, out _);

    /// <summary>
    /// What <paramref name="path"/> names, links followed, and its permission bits (rwx for user, group and others;
    /// set-id and sticky bits left out); <see cref="UnixFileMode.None"/> when it is missing or on Windows.
    /// </summary>
    public static FileKind Of(string path, out UnixFileMode permissions)
    {
        permissions = UnixFileMode.None;
        if (OperatingSystem.IsLinux())
        {
            Span<byte> status = stackalloc byte[256];
            if (Statx(AtCurrentDirectory, path, 0, StatxType | StatxMode, status) == 0)
            {
                ushort mode = MemoryMarshal.Read<ushort>(status[ModeOffset..]);
                permissions = (UnixFileMode)mode & PermissionBits;
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
        if (Directory.Exists(path))
        {
            return FileKind.Directory;
        }
        if (!File.Exists(path))
        {
            return FileKind.Missing;
        }
        if (!OperatingSystem.IsWindows())
        {
            permissions = File.GetUnixFileMode(path) & PermissionBits;
        }
        return FileKind.Regular;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, Span<byte> status);
}
