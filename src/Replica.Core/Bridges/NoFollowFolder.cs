using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Replica.Bridges;

/// <summary>What is at a name in a folder, the name itself not followed (lstat).</summary>
internal enum EntryKind { None, File, Folder, Link, Other }

/// <summary>
/// A folder of the local bridge, opened without following links, and every file operation <see cref="LocalStore"/> does
/// in it. On 64-bit Linux it holds a directory descriptor and acts relative to it (openat with O_NOFOLLOW, mkdirat,
/// renameat, unlinkat): a folder or file that someone with write access to the bridge (a shared or NFS bridge) swaps for
/// a link between a check and the act makes the act fail, never follow the link, so the bridge cannot read, write or
/// delete outside its directory. Elsewhere (Windows, macOS, 32-bit Linux) it keeps the path and checks every name for a
/// link just before acting on it (<see cref="RefuseLink"/>): a planted link is refused, but a link swapped in between
/// the check and the act is not (see the README's bridge section).
/// </summary>
internal sealed partial class NoFollowFolder : IDisposable
{
    /// <summary>
    /// Where the descriptor calls are used: the flags and struct offsets below are those of 64-bit Linux, and statx and
    /// renameat2 came with glibc 2.28 (2018); an older libc keeps the path checks.
    /// </summary>
    public static bool IsSupported { get; } =
        OperatingSystem.IsLinux() && Environment.Is64BitProcess && !Switches.ForcePathChecks && HasStatx();

    static bool HasStatx()
    {
        try
        {
            return Libc.ModeAt(Libc.AT_FDCWD, "/", 0) >= 0;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Test hook: when not 0, renameat2 with a flag fails with this errno before reaching the kernel, as the Linux NFS
    /// client (EINVAL for any flag) or an old kernel under a newer glibc (ENOSYS) make it fail, so that the fallbacks run
    /// on the tests' local file system. A rename without flags is not affected, as on NFS.
    /// </summary>
    internal static int RenameFlagsErrnoForTests { get; set; }

    /// <summary>Test hook: when not 0, linkat fails with this errno, as on file systems without hard links (EPERM, ENOTSUP).</summary>
    internal static int LinkErrnoForTests { get; set; }

    const int PathOnly = -1, Closed = -2;

    /// <summary>
    /// The descriptor; <see cref="PathOnly"/> when this folder is only a path (not <see cref="IsSupported"/>), and
    /// <see cref="Closed"/> once disposed, which every libc call then refuses (EBADF).
    /// </summary>
    int _fd;

    NoFollowFolder(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    /// <summary>The folder's path, for messages (and the only handle where descriptors are not used).</summary>
    public string Path { get; }

    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// Opens the bridge's root, following links: the root itself may be a link, the user chose it.
    /// <see cref="DirectoryNotFoundException"/> when it does not exist.
    /// </summary>
    public static NoFollowFolder OpenRoot(string root)
    {
        if (!IsSupported)
        {
            return new NoFollowFolder(root, PathOnly);
        }
        int fd = Libc.Open(root, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        return fd >= 0 ? new NoFollowFolder(root, fd) : throw Error(Marshal.GetLastPInvokeError(), root, folder: true);
    }

    /// <summary>
    /// Opens the folder <paramref name="name"/> in this one; a link there is refused with <see cref="BridgeThrow.Link"/>
    /// (saying it was about to <paramref name="what"/>), nothing there (or a file) is a <see cref="DirectoryNotFoundException"/>.
    /// </summary>
    public NoFollowFolder OpenFolder(string name, string what)
    {
        string path = PathOf(name);
        if (_fd == PathOnly)
        {
            RefuseLink(path, what);
            return new NoFollowFolder(path, PathOnly);
        }
        // O_DIRECTORY|O_NOFOLLOW fails with ENOTDIR on a link (not ELOOP), as on a file: lstat tells them apart. When the
        // name changed in between (a folder swapped back), the open is tried again.
        for (int attempt = 0; attempt < 8; attempt++)
        {
            int fd = Libc.OpenAt(_fd, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            if (fd >= 0)
            {
                return new NoFollowFolder(path, fd);
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno is not (Libc.ENOTDIR or Libc.ELOOP))
            {
                throw Error(errno, path, folder: true);
            }
            switch (KindOf(name))
            {
                case EntryKind.Link:
                    ThrowLink(path, what);
                    break;
                case EntryKind.Folder:
                    continue;
                default:
                    throw Error(Libc.ENOTDIR, path, folder: true);
            }
        }
        throw new IOException($"'{path}' kept changing between a folder and something else while it was being opened.");
    }

    /// <summary>What is at <paramref name="name"/>, not following a link (lstat).</summary>
    public EntryKind KindOf(string name)
    {
        string path = PathOf(name);
        if (_fd == PathOnly)
        {
            FileAttributes attributes = new FileInfo(path).Attributes;
            return (int)attributes == -1 ? EntryKind.None
                : attributes.HasFlag(FileAttributes.ReparsePoint) ? EntryKind.Link
                : attributes.HasFlag(FileAttributes.Directory) ? EntryKind.Folder
                : EntryKind.File;
        }
        int mode = Libc.ModeAt(_fd, name, Libc.AT_SYMLINK_NOFOLLOW);
        return mode >= 0 ? KindOfMode(mode)
            : Marshal.GetLastPInvokeError() is Libc.ENOENT or Libc.ENOTDIR ? EntryKind.None
            : throw Error(Marshal.GetLastPInvokeError(), path, folder: false);
    }

    /// <summary>
    /// Opens the file <paramref name="name"/> to read it; a link is refused, and so is anything but a regular file (a FIFO
    /// or a device is opened without blocking and never read). <see cref="FileNotFoundException"/> when there is nothing.
    /// Null for an empty file where only paths are checked: it is not opened, since a FIFO or a device looks empty there.
    /// </summary>
    public SafeFileHandle? OpenToRead(string name, string what)
    {
        string path = PathOf(name);
        if (_fd == PathOnly)
        {
            RefuseLink(path, what);
            var file = new FileInfo(path);
            // FileShare.Delete so that a writer's rename over index.json is not blocked by this reader on Windows.
            return file.Exists && file.Length == 0 ? null
                : File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        SafeFileHandle handle = OpenAt(name, Libc.O_RDONLY | Libc.O_NONBLOCK, what);
        try
        {
            int mode = Libc.ModeAt((int)handle.DangerousGetHandle(), "", Libc.AT_EMPTY_PATH);
            if (mode < 0)
            {
                throw Error(Marshal.GetLastPInvokeError(), path, folder: false);
            }
            if (KindOfMode(mode) != EntryKind.File)
            {
                BridgeThrow.NotAFile(what, path);
            }
            ClearNonBlocking(handle, path);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates the file <paramref name="name"/>, which must not exist (O_EXCL: a link planted there fails it too, and is
    /// named as a link), and holds it exclusively (FileShare.None: an flock on Linux).
    /// </summary>
    public SafeFileHandle CreateNew(string name, FileAccess access, string what)
    {
        if (_fd == PathOnly)
        {
            return File.OpenHandle(PathOf(name), FileMode.CreateNew, access, FileShare.None);
        }
        SafeFileHandle handle = OpenAt(name, Libc.O_CREAT | Libc.O_EXCL | (access == FileAccess.Write ? Libc.O_WRONLY : Libc.O_RDWR), what);
        Lock(handle, name);
        return handle;
    }

    /// <summary>
    /// Opens (and with <paramref name="create"/>, creates) the file <paramref name="name"/> to read and write it, holding it
    /// exclusively (an flock): an <see cref="IOException"/> while another handle, in any process, holds it. A link is
    /// refused, a dangling one included (nothing is created where it points).
    /// </summary>
    public SafeFileHandle OpenExclusive(string name, bool create, string what)
    {
        if (_fd == PathOnly)
        {
            RefuseLink(PathOf(name), what);
            return File.OpenHandle(PathOf(name), create ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        SafeFileHandle handle = OpenAt(name, Libc.O_RDWR | (create ? Libc.O_CREAT : 0), what);
        Lock(handle, name);
        return handle;
    }

    /// <summary>Deletes the file <paramref name="name"/> (a link there is refused); nothing there is fine.</summary>
    public void DeleteFile(string name, string what)
    {
        if (KindOf(name) == EntryKind.Link)
        {
            ThrowLink(PathOf(name), what);
        }
        if (_fd == PathOnly)
        {
            File.Delete(PathOf(name));
        }
        // unlinkat removes the name itself, whatever it became since the check: a link swapped in is removed, never followed.
        else if (Libc.UnlinkAt(_fd, name, 0) < 0 && Marshal.GetLastPInvokeError() != Libc.ENOENT)
        {
            throw Error(Marshal.GetLastPInvokeError(), PathOf(name), folder: false);
        }
    }

    /// <summary>
    /// Flushes the folder's own entries to disk (fsync on its descriptor): a file renamed or a folder made in it is then
    /// there after a crash, as fsync of a file makes its data so (fsync(2): "calling fsync() on a file descriptor for the
    /// directory is also needed"). Where descriptors are not used (<see cref="IsSupported"/>) it does nothing: .NET opens
    /// no folder as a file.
    /// </summary>
    public void FlushToDisk()
    {
        if (_fd != PathOnly && Libc.Fsync(_fd) < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), Path, folder: true);
        }
    }

    /// <summary>Removes the empty folder <paramref name="name"/>; <see cref="DirectoryNotFoundException"/> when it is not there.</summary>
    public void DeleteEmptyFolder(string name)
    {
        if (_fd == PathOnly)
        {
            Directory.Delete(PathOf(name), recursive: false);
        }
        else if (Libc.UnlinkAt(_fd, name, Libc.AT_REMOVEDIR) < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), PathOf(name), folder: true);
        }
    }

    public void CreateFolder(string name)
    {
        if (_fd == PathOnly)
        {
            Directory.CreateDirectory(PathOf(name));
        }
        else if (Libc.MkdirAt(_fd, name, 0b111_111_111) < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), PathOf(name), folder: false);
        }
    }

    /// <summary>
    /// Renames the file <paramref name="from"/> to <paramref name="to"/> in this folder; without <paramref name="replace"/>,
    /// fails when <paramref name="to"/> exists. A rename acts on the names, never through a link.
    /// </summary>
    public void Move(string from, string to, bool replace)
    {
        if (_fd == PathOnly)
        {
            File.Move(PathOf(from), PathOf(to), replace);
            return;
        }
        if (replace)
        {
            if (Libc.RenameAt(_fd, from, _fd, to) < 0)
            {
                throw Error(Marshal.GetLastPInvokeError(), PathOf(to), folder: false);
            }
            return;
        }
        if (RenameAt2(from, to, Libc.RENAME_NOREPLACE) == 0)
        {
            return;
        }
        int errno = Marshal.GetLastPInvokeError();
        // No RENAME_NOREPLACE here: the Linux NFS client rejects any flag (EINVAL), as do 9p and FUSE without rename2, and
        // an older kernel has no renameat2 (ENOSYS). A hard link fails on an existing name, then the old name goes.
        if (errno is Libc.EINVAL or Libc.ENOSYS)
        {
            if (LinkAt(from, to) == 0)
            {
                if (Libc.UnlinkAt(_fd, from, 0) < 0)
                {
                    throw Error(Marshal.GetLastPInvokeError(), PathOf(from), folder: false);
                }
                return;
            }
            errno = Marshal.GetLastPInvokeError();
            // No hard links either (as .NET's File.Move then does): a plain rename once the name is seen free. A file
            // created at that name between the check and the rename is replaced; the bridge's own writers never race
            // there (a chunk's or the index's name is taken by one writer under its lock), only an outsider could.
            if (errno is Libc.EPERM or Libc.ENOTSUP or Libc.EMLINK or Libc.ENOSYS)
            {
                if (KindOf(to) != EntryKind.None)
                {
                    throw Error(Libc.EEXIST, PathOf(to), folder: false);
                }
                if (Libc.RenameAt(_fd, from, _fd, to) == 0)
                {
                    return;
                }
                errno = Marshal.GetLastPInvokeError();
            }
        }
        throw Error(errno, PathOf(to), folder: false);
    }

    /// <summary>
    /// Renames the folder <paramref name="from"/> to <paramref name="to"/>, a name nobody else uses (it holds a fresh
    /// GUID): a plain rename(2), without RENAME_NOREPLACE, which NFS, 9p and old kernels reject, and which a fresh name
    /// makes unnecessary; a folder cannot be hard-linked, so the files' fallback would not do. Acts on the name, never
    /// through a link.
    /// </summary>
    public void MoveFolderToFreshName(string from, string to)
    {
        if (_fd == PathOnly)
        {
            Directory.Move(PathOf(from), PathOf(to));
        }
        else if (Libc.RenameAt(_fd, from, _fd, to) < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), PathOf(to), folder: true);
        }
    }

    /// <summary>The names in this folder as it is read ("." and ".." left out).</summary>
    public IEnumerable<string> Names()
    {
        if (_fd == PathOnly)
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(Path))
            {
                yield return System.IO.Path.GetFileName(entry);
            }
            yield break;
        }
        // A descriptor of its own for the stream (closedir closes it), so that this folder's stays usable.
        int fd = Libc.OpenAt(_fd, ".", Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        nint stream = fd >= 0 ? Libc.FdOpenDir(fd) : 0;
        if (stream == 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (fd >= 0)
            {
                Libc.Close(fd);
            }
            throw Error(errno, Path, folder: true);
        }
        try
        {
            while (true)
            {
                string? name = Libc.ReadDir(stream, out int errno);
                if (name is null)
                {
                    if (errno != 0)
                    {
                        throw Error(errno, Path, folder: true);
                    }
                    yield break;
                }
                if (name is not ("." or ".."))
                {
                    yield return name;
                }
            }
        }
        finally
        {
            Libc.CloseDir(stream);
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            Libc.Close(_fd);
            _fd = Closed;
        }
    }

    int RenameAt2(string from, string to, uint flags)
    {
        if (flags != 0 && RenameFlagsErrnoForTests != 0)
        {
            Marshal.SetLastPInvokeError(RenameFlagsErrnoForTests);
            return -1;
        }
        return Libc.RenameAt2(_fd, from, _fd, to, flags);
    }

    int LinkAt(string from, string to)
    {
        if (LinkErrnoForTests != 0)
        {
            Marshal.SetLastPInvokeError(LinkErrnoForTests);
            return -1;
        }
        return Libc.LinkAt(_fd, from, _fd, to, 0);
    }

    SafeFileHandle OpenAt(string name, int flags, string what)
    {
        int fd = Libc.OpenAt(_fd, name, flags | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0b110_110_110);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }
        int errno = Marshal.GetLastPInvokeError();
        // O_NOFOLLOW: ELOOP when the name is a link; O_EXCL: EEXIST when anything is there, a link included.
        if (errno == Libc.ELOOP || (errno == Libc.EEXIST && KindOf(name) == EntryKind.Link))
        {
            ThrowLink(PathOf(name), what);
        }
        throw Error(errno, PathOf(name), folder: false);
    }

    /// <summary>flock(LOCK_EX|LOCK_NB), as FileShare.None takes it; only EWOULDBLOCK means held (NFS may not lock at all).</summary>
    void Lock(SafeFileHandle handle, string name)
    {
        if (Libc.Flock((int)handle.DangerousGetHandle(), Libc.LOCK_EX | Libc.LOCK_NB) < 0 && Marshal.GetLastPInvokeError() == Libc.EWOULDBLOCK)
        {
            handle.Dispose();
            throw new IOException($"The process cannot access the file '{PathOf(name)}' because it is being used by another process.");
        }
    }

    /// <summary>O_NONBLOCK only kept a FIFO's open from waiting for a writer; a regular file is read as usual.</summary>
    static void ClearNonBlocking(SafeFileHandle handle, string path)
    {
        int fd = (int)handle.DangerousGetHandle();
        int flags = Libc.Fcntl(fd, Libc.F_GETFL, 0);
        if (flags < 0 || Libc.Fcntl(fd, Libc.F_SETFL, flags & ~Libc.O_NONBLOCK) < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), path, folder: false);
        }
    }

    static EntryKind KindOfMode(int mode) => (mode & Libc.S_IFMT) switch
    {
        Libc.S_IFREG => EntryKind.File,
        Libc.S_IFDIR => EntryKind.Folder,
        Libc.S_IFLNK => EntryKind.Link,
        _ => EntryKind.Other,
    };

    /// <summary>
    /// The check where descriptors are not used: throws a <see cref="BridgeException"/> when <paramref name="path"/> is a
    /// symbolic link (or another reparse point, such as a junction). Nothing at the path is fine.
    /// </summary>
    internal static void RefuseLink(string path, string what)
    {
        FileSystemInfo info = new FileInfo(path);
        FileAttributes attributes;
        try
        {
            // lstat: a link reports ReparsePoint whatever it points at; -1 when nothing is there.
            attributes = info.Attributes;
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io(what, path, ex);
        }
        if ((int)attributes != -1 && attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            ThrowLink(path, what);
        }
    }

    /// <summary>Refuses the link at <paramref name="path"/>, naming where it points (only for the message).</summary>
    [DoesNotReturn]
    internal static void ThrowLink(string path, string what)
    {
        string? target;
        try
        {
            target = new FileInfo(path).LinkTarget;
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            target = null;
        }
        BridgeThrow.Link(what, path, target);
    }

    /// <summary>An errno as the exception the .NET file APIs would throw, so that callers catch one kind of failure.</summary>
    static Exception Error(int errno, string path, bool folder)
    {
        string reason = Marshal.GetPInvokeErrorMessage(errno);
        return errno switch
        {
            Libc.ENOENT or Libc.ENOTDIR when folder => new DirectoryNotFoundException(reason),
            Libc.ENOENT => new FileNotFoundException(reason, path),
            Libc.EACCES or Libc.EPERM => new UnauthorizedAccessException(reason),
            _ => new IOException(reason, errno),
        };
    }

    /// <summary>
    /// The libc calls, with the constants of 64-bit Linux (asm-generic; arm64 and ppc64 differ in O_DIRECTORY and
    /// O_NOFOLLOW). See open(2), statx(2), unlinkat(2), rename(2), flock(2), readdir(3).
    /// </summary>
    static unsafe partial class Libc
    {
        const string Name = "libc";

        public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
        public static readonly int O_DIRECTORY = IsArmOrPower ? 0x4000 : 0x10000;
        public static readonly int O_NOFOLLOW = IsArmOrPower ? 0x8000 : 0x20000;
        public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
        public const uint RENAME_NOREPLACE = 1;
        public const int LOCK_EX = 2, LOCK_NB = 4, F_GETFL = 3, F_SETFL = 4;
        public const int S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFDIR = 0x4000, S_IFLNK = 0xA000;
        public const int EPERM = 1, ENOENT = 2, EWOULDBLOCK = 11, EACCES = 13, EEXIST = 17, ENOTDIR = 20, EINVAL = 22, EMLINK = 31,
            ENOSYS = 38, ELOOP = 40, ENOTSUP = 95;
        const uint STATX_TYPE = 1;

        static bool IsArmOrPower => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm or Architecture.Ppc64le;

        [LibraryImport(Name, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags, int mode);

        [LibraryImport(Name, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int OpenAt(int dirFd, string name, int flags, int mode);

        [LibraryImport(Name, EntryPoint = "close")]
        public static partial void Close(int fd);

        [LibraryImport(Name, EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int fd);

        [LibraryImport(Name, EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int MkdirAt(int dirFd, string name, int mode);

        [LibraryImport(Name, EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int UnlinkAt(int dirFd, string name, int flags);

        [LibraryImport(Name, EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int RenameAt(int fromDirFd, string from, int toDirFd, string to);

        [LibraryImport(Name, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int RenameAt2(int fromDirFd, string from, int toDirFd, string to, uint flags);

        [LibraryImport(Name, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int LinkAt(int fromDirFd, string from, int toDirFd, string to, int flags);

        [LibraryImport(Name, EntryPoint = "flock", SetLastError = true)]
        public static partial int Flock(int fd, int operation);

        [LibraryImport(Name, EntryPoint = "fcntl", SetLastError = true)]
        public static partial int Fcntl(int fd, int command, int argument);

        [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int Statx(int dirFd, string name, int flags, uint mask, byte* statx);

        [LibraryImport(Name, EntryPoint = "fdopendir", SetLastError = true)]
        public static partial nint FdOpenDir(int fd);

        [LibraryImport(Name, EntryPoint = "readdir", SetLastError = true)]
        private static partial nint ReadDir(nint stream);

        [LibraryImport(Name, EntryPoint = "closedir")]
        public static partial void CloseDir(nint stream);

        /// <summary>The st_mode of <paramref name="name"/> (with AT_EMPTY_PATH and "", of the descriptor itself); -1 and errno on failure.</summary>
        public static int ModeAt(int dirFd, string name, int flags)
        {
            // struct statx is 256 bytes on every architecture; stx_mode is the u16 at offset 28.
            byte* buffer = stackalloc byte[256];
            return Statx(dirFd, name, flags, STATX_TYPE, buffer) == 0 ? *(ushort*)(buffer + 28) : -1;
        }

        /// <summary>The next name in the stream, or null at its end (<paramref name="errno"/> 0) or on failure.</summary>
        public static string? ReadDir(nint stream, out int errno)
        {
            // struct dirent on 64-bit Linux: d_ino (8), d_off (8), d_reclen (2), d_type (1), then d_name.
            nint entry = ReadDir(stream);
            errno = entry == 0 ? Marshal.GetLastPInvokeError() : 0;
            return entry == 0 ? null : Marshal.PtrToStringUTF8(entry + 19);
        }
    }
}
