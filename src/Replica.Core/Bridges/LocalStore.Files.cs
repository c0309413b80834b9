using System.Diagnostics;

namespace Replica.Bridges;

// The file system mechanics of the local store: link checks, the index lock, durable writes, writer locks and folder removal.
internal sealed partial class LocalStore
{
    /// <summary>
    /// The one check that keeps the bridge inside its directory: throws a <see cref="BridgeException"/> when
    /// <paramref name="path"/> is a symbolic link (or another reparse point, such as a junction). Every file or folder the
    /// bridge writes, renames or deletes is checked first; a link planted in the bridge could otherwise make it overwrite
    /// or delete files anywhere this process may write. Nothing at the path is fine. The bridge root itself may be a link:
    /// the user chose it.
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
        if (IsLink(attributes))
        {
            BridgeThrow.Link(what, path, LinkTargetOf(info));
        }
    }

    /// <summary>True for a link's attributes; false for (FileAttributes)(-1), which stands for "nothing there" and has every flag set.</summary>
    static bool IsLink(FileAttributes attributes) =>
        (int)attributes != -1 && attributes.HasFlag(FileAttributes.ReparsePoint);

    static string? LinkTargetOf(FileSystemInfo info)
    {
        try
        {
            return info.LinkTarget;
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            return null;
        }
    }

    void CreateRoot()
    {
        try
        {
            Directory.CreateDirectory(_root);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("create the bridge directory", _root, ex);
        }
    }

    /// <summary>
    /// Takes the exclusive lock on .index.lock. FileShare.None is an flock(LOCK_EX) on Linux, so it excludes other
    /// processes and other open handles in this process alike; closing the returned stream releases it. The lock file
    /// itself is never deleted: deleting it would let two processes lock two different files.
    /// </summary>
    async Task<FileStream> AcquireIndexLockAsync(CancellationToken cancellationToken)
    {
        string path = Path.Combine(_root, IndexLockFileName);
        RefuseLink(path, "open the index lock");
        long started = Stopwatch.GetTimestamp();
        int delayMs = 2;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            }
            catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                // Held by someone else (EWOULDBLOCK / sharing violation); other I/O errors end up here too and are
                // reported with the timeout, carrying the last reason.
                TimeSpan waited = Stopwatch.GetElapsedTime(started);
                if (waited >= _options.LockTimeout)
                {
                    throw new BridgeException(
                        $"Cannot lock '{path}': still held by another replica process after {waited.TotalSeconds:0.#} s ({ex.Message})", ex);
                }
                // Jitter so that several waiting processes do not retry in lockstep.
                await Task.Delay(delayMs + Random.Shared.Next(delayMs + 1), cancellationToken).ConfigureAwait(false);
                delayMs = Math.Min(delayMs * 2, 100);
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                throw BridgeThrow.Io("open the index lock", path, ex);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="data"/> to <paramref name="tempPath"/>, flushes it to disk, then renames it to
    /// <paramref name="path"/>: readers see the old content or all of the new, never part of it, even after a crash.
    /// The work blocks (fsync), so it runs on the store's own threads (<see cref="StoreThreads"/>), not the thread pool's.
    /// </summary>
    internal static Task WriteFileDurablyAsync(
        string tempPath, string path, ReadOnlyMemory<byte> data, bool overwrite, string what, CancellationToken cancellationToken) =>
        StoreThreads.RunAsync(() =>
        {
            WriteFileDurably(tempPath, path, data.Span, overwrite, what);
            return true;
        }, cancellationToken);

    static void WriteFileDurably(string tempPath, string path, ReadOnlySpan<byte> data, bool overwrite, string what)
    {
        RefuseLink(tempPath, what);
        try
        {
            // A temp file left by a writer that died is removed (unlink never follows a link), then the new one is
            // created exclusively (O_EXCL), which fails on anything planted there in between, a dangling link included.
            File.Delete(tempPath);
            using (var handle = File.OpenHandle(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                       FileOptions.None, preallocationSize: data.Length))
            {
                RandomAccess.Write(handle, data, fileOffset: 0);
                RandomAccess.FlushToDisk(handle);
            }
            File.Move(tempPath, path, overwrite);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io(what, path, ex);
        }
    }

    /// <summary>True when the folder's .writing lock is held, i.e. a writer (in any process) is alive.</summary>
    static bool IsHeldByLiveWriter(string folder)
    {
        string path = Path.Combine(folder, ObjectBridge.MarkerName);
        RefuseLink(folder, "check the writer lock of");
        RefuseLink(path, "check the writer lock");
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            return false;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            // Locked, or unreadable for another reason: either way not provably dead, so never delete it.
            return true;
        }
        catch (UnauthorizedAccessException ex)
        {
            throw BridgeThrow.Io("check the writer lock", path, ex);
        }
    }

    /// <summary>Renames a dump folder out of the way (atomic), to be deleted outside the index lock.</summary>
    string MoveToTrash(string folder, string name)
    {
        RefuseLink(folder, $"delete dump '{name}' at");
        string trash = Path.Combine(_root, $"{DeletedPrefix}{name}-{Guid.NewGuid():N}");
        try
        {
            Directory.Move(folder, trash);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io($"move dump '{name}' aside for deletion to '{trash}', from", folder, ex);
        }
        return trash;
    }

    /// <summary>
    /// Deletes a folder and what it holds, never through a link: a link anywhere in the tree stops the removal with a
    /// <see cref="BridgeException"/> naming it. Things that vanish meanwhile are fine (another process may be removing the
    /// same leftovers); any other failure is reported.
    /// </summary>
    internal static void DeleteTree(string folder)
    {
        RefuseLink(folder, "delete");
        try
        {
            foreach (FileSystemInfo entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
            {
                // The enumeration's attributes come from lstat, so a link is seen as a link, whatever it points at.
                // An entry removed meanwhile by another process reads as -1, not as a link.
                if (IsLink(entry.Attributes))
                {
                    BridgeThrow.Link("delete", entry.FullName, LinkTargetOf(entry));
                }
                if (entry is DirectoryInfo)
                {
                    DeleteTree(entry.FullName);
                }
                else
                {
                    File.Delete(entry.FullName);
                }
            }
            Directory.Delete(folder, recursive: false);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("delete", folder, ex);
        }
    }

    /// <summary>The files of <paramref name="folder"/> as the directory is read; none when it does not exist.</summary>
    static IEnumerator<FileInfo> EnumerateFiles(string folder)
    {
        try
        {
            return Directory.Exists(folder)
                ? new DirectoryInfo(folder).EnumerateFiles().GetEnumerator()
                : Enumerable.Empty<FileInfo>().GetEnumerator();
        }
        catch (DirectoryNotFoundException)
        {
            return Enumerable.Empty<FileInfo>().GetEnumerator();
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("list the files of", folder, ex);
        }
    }

    static List<string> EnumerateDirectories(string root)
    {
        try
        {
            return [.. Directory.EnumerateDirectories(root)];
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("list the folders of", root, ex);
        }
    }

    static bool IsEmptyDirectory(string folder)
    {
        try
        {
            return !Directory.EnumerateFileSystemEntries(folder).Any();
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("list", folder, ex);
        }
    }
}
