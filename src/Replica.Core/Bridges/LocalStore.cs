using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Replica.Bridges;

/// <summary>
/// The local directory as <see cref="LocalBridge"/>'s store. A key is a path under the root; every file is written to a
/// temporary name, flushed to disk and renamed into place. As an <see cref="IDirectoryStore"/> it has the index lock
/// (.index.lock, an flock) that the bridge holds around every change of index.json and of the set of dump folders, so
/// put-if-match compares and replaces index.json under it; the writer lease is the flock on the folder's .writing, which
/// tells a dead writer at once; a folder is removed by renaming it to .deleted-* first, atomically for readers. Every
/// file or folder it reads, writes, renames or deletes is reached through <see cref="NoFollowFolder"/>, one folder of
/// the key at a time and never through a link: a link planted in the bridge never makes it touch anything outside its
/// directory, nor (on Linux, where it acts on directory descriptors) does a folder or file swapped for a link while it works.
/// </summary>
internal sealed partial class LocalStore : IObjectStore, IDirectoryStore
{
    const string IndexLockFileName = ".index.lock";
    const string DeletedPrefix = ".deleted-";

    readonly string _root;
    readonly LocalBridgeOptions _options;

    public LocalStore(string root, LocalBridgeOptions options)
    {
        _root = root;
        _options = options;
    }

    /// <summary>The absolute path of the root directory.</summary>
    public string Root => _root;

    public LocalBridgeOptions Options => _options;

    public string Description => $"local directory {_root}";

    string PathOf(string key) => Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));

    string DumpFolder(string name) => Path.Combine(_root, name);

    /// <summary>
    /// Opens the folder that holds <paramref name="key"/>'s file, from the root down one folder at a time, none of them
    /// through a link (refused as about to <paramref name="what"/>); <paramref name="name"/> is the file's name in it.
    /// <see cref="DirectoryNotFoundException"/> when a folder is missing.
    /// </summary>
    NoFollowFolder OpenFolderOf(string key, string what, out string name)
    {
        NoFollowFolder folder = NoFollowFolder.OpenRoot(_root);
        int start = 0;
        for (int slash = key.IndexOf('/'); slash >= 0; slash = key.IndexOf('/', start))
        {
            // Each folder is closed once the next one is open, or when opening it fails.
            using NoFollowFolder parent = folder;
            folder = parent.OpenFolder(key[start..slash], what);
            start = slash + 1;
        }
        name = key[start..];
        return folder;
    }

    public string Show(string key) => $"'{PathOf(key)}'";

    public async Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken)
    {
        string path = PathOf(key);
        // Reads do not go through links either (found by review: a chunk linked to /etc/shadow made the error message
        // give its size, a linked manifest its first byte, a link to a FIFO made verify hang): every folder of the key
        // and the file itself are opened without following links, and only a regular file is read.
        try
        {
            SafeFileHandle? opened;
            using (NoFollowFolder folder = OpenFolderOf(key, what, out string name))
            {
                opened = folder.OpenToRead(name, what);
            }
            if (opened is null)
            {
                return new StoredObject(Memory<byte>.Empty, key == ObjectBridge.IndexKey ? Convert.ToHexString(SHA256.HashData([])) : "");
            }
            using SafeFileHandle handle = opened;
            long length = RandomAccess.GetLength(handle);
            Memory<byte> data = StoredObject.Target(length, buffer, () => $"{what} '{path}'");
            int filled = 0;
            while (filled < data.Length)
            {
                int read = await RandomAccess.ReadAsync(handle, data[filled..], filled, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new BridgeException($"Cannot {what} '{path}': it ended after {filled} of {length} bytes.");
                }
                filled += read;
            }
            // Only index.json is ever written conditionally; its ETag is its content's hash (files have no version).
            return new StoredObject(data, key == ObjectBridge.IndexKey ? Convert.ToHexString(SHA256.HashData(data.Span)) : "");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io(what, path, ex);
        }
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken)
    {
        return WriteFileDurablyAsync(key, data, overwrite: false, $"write {what} to", cancellationToken);
    }

    public async Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken)
    {
        // The writer's lease keeps others out of its folder; the rename below refuses to replace a file in any case.
        try
        {
            using NoFollowFolder folder = OpenFolderOf(key, what, out string name);
            if (folder.KindOf(name) != EntryKind.None)
            {
                return false;
            }
        }
        catch (DirectoryNotFoundException)
        {
            // The write below says which folder is missing.
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io(what, PathOf(key), ex);
        }
        await WriteFileDurablyAsync(key, data, overwrite: false, what, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Compares and replaces under the index lock, which <see cref="ObjectBridge"/> holds around every write of index.json
    /// (see <see cref="IDirectoryStore.LockAsync"/>); the ETag is the content's hash.
    /// </summary>
    public async Task<bool> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string? etag, string what, CancellationToken cancellationToken)
    {
        StoredObject? current = await GetAsync(key, what, null, cancellationToken).ConfigureAwait(false);
        if (current?.ETag != etag)
        {
            return false;
        }
        await WriteFileDurablyAsync(key, data, overwrite: true, what, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Keys are listed by dump folder ("dump-1/"), the only prefixes the bridge asks for. Listing only reads, so a
        // link is followed (a link nobody acts on, such as latest -> dump-1, must not stop cleanup); whatever acts on a
        // folder checks it first.
        // The files are yielded as the directory is read, not gathered first: a large dump's folder holds tens of
        // thousands of chunks, and a list of them all cost a delete ~20 MiB more than the dump itself (issue 12).
        string folder = PathOf(prefix.TrimEnd('/'));
        using IEnumerator<FileInfo> files = EnumerateFiles(folder);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (!files.MoveNext())
                {
                    break;
                }
            }
            catch (DirectoryNotFoundException)
            {
                break;
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                throw BridgeThrow.Io("list the files of", folder, ex);
            }
            FileInfo file = files.Current;
            yield return new ObjectInfo(prefix + file.Name, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> folders = Directory.Exists(_root)
            ? EnumerateDirectories(_root).ConvertAll(folder => Path.GetFileName(folder))
            : [];
        return Task.FromResult(folders);
    }

    public Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        foreach (string key in keys)
        {
            string path = PathOf(key);
            try
            {
                // The folder too: a file name inside a linked folder is no link itself, yet lies outside the bridge.
                using NoFollowFolder folder = OpenFolderOf(key, "delete the files of", out string name);
                folder.DeleteFile(name, "delete");
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                throw BridgeThrow.Io("delete", path, ex);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>Creates the dump's folder with its .writing lock; the bridge holds the index lock meanwhile.</summary>
    public Task<IWriterLease> AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken)
    {
        string folder = DumpFolder(name);
        string what = $"create the folder of dump '{name}' at";
        // Created under the index lock, together with its .writing lock, so cleanup never sees the folder without it.
        FileStream writingLock;
        NoFollowFolder? created = null;
        string lockPath = Path.Combine(folder, ObjectBridge.MarkerName);
        try
        {
            using NoFollowFolder root = NoFollowFolder.OpenRoot(_root);
            switch (root.KindOf(name))
            {
                case EntryKind.Link:
                    NoFollowFolder.ThrowLink(folder, what);
                    break;
                case EntryKind.Folder:
                    throw new BridgeException(File.Exists(lockPath)
                        ? $"A dump named '{name}' is being written to {Description} by another process."
                        : $"The name '{name}' is taken: folder '{folder}' exists but is not listed in {ObjectBridge.IndexKey}; remove it or choose another name.");
            }
            root.CreateFolder(name);
            // The folder's name is on disk before anything in it is: its chunks are flushed with their folder, the index
            // with the root, and a listed dump's folder must be there after a crash.
            root.FlushToDisk();
            // Opened without following a link: one planted since the folder was made is refused. Kept by the lease.
            created = root.OpenFolder(name, what);
            writingLock = new FileStream(created.CreateNew(ObjectBridge.MarkerName, FileAccess.ReadWrite, what), FileAccess.ReadWrite, bufferSize: 0);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            created?.Dispose();
            throw BridgeThrow.Io("create dump folder", folder, ex);
        }
        try
        {
            // For a person looking at a stuck folder: who is (or was) writing it.
            writingLock.Write(owner.Span);
            writingLock.Flush();
            // Marker ages are read on the bridge's clock, so they are stamped with it too.
            File.SetLastWriteTimeUtc(writingLock.SafeFileHandle, _options.TimeProvider.GetUtcNow().UtcDateTime);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            writingLock.Dispose();
            created.Dispose();
            throw BridgeThrow.Io("write lock file", lockPath, ex);
        }
        return Task.FromResult<IWriterLease>(new Lease(this, name, created, writingLock));
    }

    public async Task<IAsyncDisposable> LockAsync(bool create, CancellationToken cancellationToken)
    {
        if (create)
        {
            CreateRoot();
        }
        else if (!Directory.Exists(_root))
        {
            // Nothing to lock and nothing to change; a delete or cleanup finds nothing there.
            return ObjectBridge.NoLock.Instance;
        }
        return await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> IsWriterAliveAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(IsHeldByLiveWriter(name));

    public Task<string?> MoveAsideAsync(string name, CancellationToken cancellationToken)
    {
        return Task.FromResult(MoveToTrash(name));
    }

    public Task DeleteMovedAsync(string? moved, CancellationToken cancellationToken)
    {
        if (moved is not null)
        {
            DeleteTree(Path.GetFileName(moved), "delete");
        }
        else if (Directory.Exists(_root))
        {
            foreach (string folder in EnumerateDirectories(_root))
            {
                if (Path.GetFileName(folder).StartsWith(DeletedPrefix, StringComparison.Ordinal))
                {
                    DeleteTree(Path.GetFileName(folder), "delete");
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task RemoveIfEmptyAsync(string name, CancellationToken cancellationToken)
    {
        string folder = DumpFolder(name);
        if (IsEmptyDirectory(folder))
        {
            // Only now, about to act on it, is a link refused: a link that nothing touches stays.
            DeleteTree(name, $"clean up the abandoned folder of dump '{name}' at");
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// A writer's hold on its folder: the .writing file, open exclusively (an flock on Linux) for as long as the writer
    /// lives, so that cleanup can tell a dead writer at once; its modification time is the marker's age. The folder is
    /// kept open too (<paramref name="folder"/>, a descriptor on Linux): the marker is removed from the writer's own
    /// folder, never from whatever has the name by then (a listed dump may be deleted and its name taken by a new writer
    /// before this one removes its marker).
    /// </summary>
    sealed class Lease(LocalStore store, string name, NoFollowFolder folder, FileStream writingLock) : IWriterLease
    {
        // Guards _writingLock between the writer and the marker refresher's thread.
        readonly Lock _gate = new();
        FileStream? _writingLock = writingLock;

        /// <summary>
        /// Moves the marker's modification time to now, for `delete --abandoned` where locks are not to be trusted. Always
        /// true: cleanup never removes a folder whose writer holds its lock, so this lease cannot be lost while it is held.
        /// </summary>
        public Task<bool> RefreshAsync(CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                if (_writingLock is { } marker)
                {
                    File.SetLastWriteTimeUtc(marker.SafeFileHandle, store._options.TimeProvider.GetUtcNow().UtcDateTime);
                }
            }
            return Task.FromResult(true);
        }

        /// <summary>
        /// Removes .writing; when <paramref name="abandoned"/>, the (then empty) folder too, which changes which dump folders
        /// exist: the bridge holds the index lock for that, so a BeginDumpAsync of the same name never sees it half removed.
        /// </summary>
        public Task ReleaseAsync(bool abandoned, CancellationToken cancellationToken)
        {
            string path = store.DumpFolder(name);
            string lockPath = Path.Combine(path, ObjectBridge.MarkerName);
            try
            {
                // Once the dump is listed, cleanup ignores the folder whatever happens to .writing. Not under the index
                // lock then: the name may be another writer's folder already, so the marker goes through this one's.
                LetGo();
                folder.DeleteFile(ObjectBridge.MarkerName, "remove the writer lock");
                if (abandoned)
                {
                    // Under the index lock (the bridge holds it): the name is still this writer's folder.
                    using NoFollowFolder root = NoFollowFolder.OpenRoot(store._root);
                    root.DeleteEmptyFolder(name);
                }
            }
            catch (DirectoryNotFoundException)
            {
                // Already gone.
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                throw abandoned ? BridgeThrow.Io("remove the abandoned dump folder", path, ex) : BridgeThrow.Io("remove the writer lock", lockPath, ex);
            }
            finally
            {
                LetGo();
                folder.Dispose();
            }
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            LetGo();
            folder.Dispose();
            return ValueTask.CompletedTask;
        }

        void LetGo()
        {
            lock (_gate)
            {
                _writingLock?.Dispose();
                _writingLock = null;
            }
        }
    }
}
