using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Replica.Bridges;

// The file system mechanics of the local store (through NoFollowFolder, which refuses links): the index lock, durable writes, writer locks and folder removal.
internal sealed partial class LocalStore
{
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
        NoFollowFolder root;
        try
        {
            root = NoFollowFolder.OpenRoot(_root);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("open the index lock", path, ex);
        }
        using (root)
        {
            long started = Stopwatch.GetTimestamp();
            int delayMs = 2;
            while (true)
            {
                try
                {
                    return new FileStream(root.OpenExclusive(IndexLockFileName, create: true, "open the index lock"), FileAccess.ReadWrite, bufferSize: 0);
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
    }

    /// <summary>
    /// Writes <paramref name="data"/> to ".name.tmp" beside <paramref name="key"/>'s file (".index.json.tmp" for the
    /// index), flushes it to disk, renames it to the file's name and flushes the folder: readers see the old content or
    /// all of the new, never part of it, and after a crash a file that was written is there under its name (without the
    /// folder's flush, index.json could list a dump whose chunks are still under their temporary names). All four act in
    /// the file's folder as opened once, never through a link.
    /// The work blocks (fsync), so it runs on the store's own threads (<see cref="StoreThreads"/>), not the thread pool's.
    /// </summary>
    internal Task WriteFileDurablyAsync(string key, ReadOnlyMemory<byte> data, bool overwrite, string what, CancellationToken cancellationToken) =>
        StoreThreads.RunAsync(() =>
        {
            WriteFileDurably(key, data.Span, overwrite, what);
            return true;
        }, cancellationToken);

    void WriteFileDurably(string key, ReadOnlySpan<byte> data, bool overwrite, string what)
    {
        try
        {
            using NoFollowFolder folder = OpenFolderOf(key, what, out string name);
            string temp = "." + name + ".tmp";
            // A temp file left by a writer that died is removed (a link there is refused), then the new one is created
            // exclusively (O_EXCL), which fails on anything planted there in between, a dangling link included.
            folder.DeleteFile(temp, what);
            using (SafeFileHandle handle = folder.CreateNew(temp, FileAccess.Write, what))
            {
                RandomAccess.Write(handle, data, fileOffset: 0);
                RandomAccess.FlushToDisk(handle);
            }
            folder.Move(temp, name, overwrite);
            folder.FlushToDisk();
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io(what, PathOf(key), ex);
        }
    }

    /// <summary>True when dump <paramref name="name"/>'s .writing lock is held, i.e. a writer (in any process) is alive.</summary>
    bool IsHeldByLiveWriter(string name)
    {
        string path = Path.Combine(DumpFolder(name), ObjectBridge.MarkerName);
        try
        {
            using NoFollowFolder root = NoFollowFolder.OpenRoot(_root);
            using NoFollowFolder folder = root.OpenFolder(name, "check the writer lock of");
            using SafeFileHandle probe = folder.OpenExclusive(ObjectBridge.MarkerName, create: false, "check the writer lock");
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

    /// <summary>Renames dump <paramref name="name"/>'s folder out of the way (atomic), to be deleted outside the index lock; null when there is none.</summary>
    string? MoveToTrash(string name)
    {
        string folder = DumpFolder(name);
        string trash = $"{DeletedPrefix}{name}-{Guid.NewGuid():N}";
        try
        {
            using NoFollowFolder root = NoFollowFolder.OpenRoot(_root);
            switch (root.KindOf(name))
            {
                case EntryKind.Link:
                    NoFollowFolder.ThrowLink(folder, $"delete dump '{name}' at");
                    break;
                case not EntryKind.Folder:
                    return null;
            }
            // A rename moves the name itself: a link swapped in meanwhile is moved, not followed, and DeleteTree refuses it.
            // The trash name holds a fresh GUID, so a plain rename cannot replace anything (NFS takes no RENAME_NOREPLACE).
            root.MoveFolderToFreshName(name, trash);
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io($"move dump '{name}' aside for deletion to '{Path.Combine(_root, trash)}', from", folder, ex);
        }
        return Path.Combine(_root, trash);
    }

    /// <summary>
    /// Deletes the root's folder <paramref name="name"/> and what it holds, never through a link: a link anywhere in the
    /// tree stops the removal with a <see cref="BridgeException"/> naming it (the folder itself as about to
    /// <paramref name="what"/>). Things that vanish meanwhile are fine (another process may be removing the same
    /// leftovers); any other failure is reported.
    /// </summary>
    void DeleteTree(string name, string what)
    {
        try
        {
            using NoFollowFolder root = NoFollowFolder.OpenRoot(_root);
            DeleteTree(root, name, what);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("delete", Path.Combine(_root, name), ex);
        }
    }

    /// <summary>
    /// How deep <see cref="DeleteTree(string, string)"/> goes below the folder it deletes: a dump's folder holds files and a
    /// folder or two, so anything deeper was planted, and is refused rather than walked (each level holds a descriptor).
    /// </summary>
    internal const int MaxTreeDepth = 256;

    /// <summary>A folder being deleted: its descriptor, its name in the level above, and the names not yet removed.</summary>
    sealed record TreeLevel(NoFollowFolder Folder, string Name, Queue<string> Pending);

    /// <summary>
    /// Deletes <paramref name="name"/> in <paramref name="root"/> level by level with an explicit stack (a recursion as deep
    /// as a planted tree would overflow the thread's stack, which no catch survives), at most <see cref="MaxTreeDepth"/> deep.
    /// </summary>
    static void DeleteTree(NoFollowFolder root, string name, string what)
    {
        var levels = new Stack<TreeLevel>();
        try
        {
            if (OpenLevel(root, name, what) is not { } top)
            {
                return;
            }
            levels.Push(top);
            while (levels.TryPeek(out TreeLevel? level))
            {
                if (level.Pending.TryDequeue(out string? entry))
                {
                    // An entry removed meanwhile by another process is None, not a link.
                    switch (level.Folder.KindOf(entry))
                    {
                        case EntryKind.Link:
                            NoFollowFolder.ThrowLink(level.Folder.PathOf(entry), "delete");
                            break;
                        case EntryKind.Folder:
                            if (levels.Count >= MaxTreeDepth)
                            {
                                throw new BridgeException(
                                    $"Cannot delete '{root.PathOf(name)}': it holds folders nested more than {MaxTreeDepth} deep " +
                                    $"(at '{level.Folder.PathOf(entry)}'), which replica never makes; nothing below that depth was " +
                                    "deleted. Check who put them there, then remove them by hand.");
                            }
                            if (OpenLevel(level.Folder, entry, "delete") is { } child)
                            {
                                levels.Push(child);
                            }
                            break;
                        case EntryKind.None:
                            break;
                        default:
                            level.Folder.DeleteFile(entry, "delete");
                            break;
                    }
                    continue;
                }
                levels.Pop();
                level.Folder.Dispose();
                try
                {
                    (levels.TryPeek(out TreeLevel? above) ? above.Folder : root).DeleteEmptyFolder(level.Name);
                }
                catch (DirectoryNotFoundException)
                {
                }
            }
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("delete", levels.TryPeek(out TreeLevel? level) ? level.Folder.Path : root.PathOf(name), ex);
        }
        finally
        {
            while (levels.TryPop(out TreeLevel? level))
            {
                level.Folder.Dispose();
            }
        }
    }

    /// <summary>Opens the folder <paramref name="name"/> and reads its names; null when it is gone.</summary>
    static TreeLevel? OpenLevel(NoFollowFolder parent, string name, string what)
    {
        NoFollowFolder folder;
        try
        {
            folder = parent.OpenFolder(name, what);
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            // Read whole before anything is removed, so the level holds one descriptor, not a directory stream too.
            return new TreeLevel(folder, name, new Queue<string>(folder.Names()));
        }
        catch
        {
            folder.Dispose();
            throw;
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
