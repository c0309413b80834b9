using System.Security.Cryptography;

namespace Replica.Bridges;

// The local directory as an IObjectStore: a key is a path under the root, a write goes to a temporary name, is flushed
// and renamed into place, put-if-match compares under the index lock, and the writer lease is the flock on .writing.
public sealed partial class LocalBridge
{
    sealed class Store : IObjectStore
    {
        public LocalBridge Bridge { get; set; } = null!;

        public string Description => $"local directory {Bridge._root}";

        string PathOf(string key) => Path.Combine(Bridge._root, key.Replace('/', Path.DirectorySeparatorChar));

        /// <summary>".name.tmp" beside the file: the name a durable write goes through (".index.json.tmp" for the index).</summary>
        static string TempOf(string path) => Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");

        public string Show(string key) => $"'{PathOf(key)}'";

        public async Task<StoredObject?> GetAsync(string key, string what, Action<long>? checkLength, CancellationToken cancellationToken)
        {
            string path = PathOf(key);
            try
            {
                // FileShare.Delete so that a writer's rename over index.json is not blocked by this reader on Windows.
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
                    FileOptions.Asynchronous);
                long length = RandomAccess.GetLength(handle);
                checkLength?.Invoke(length);
                if (length > Array.MaxLength)
                {
                    throw new BridgeException($"Cannot {what} '{path}': {length} bytes do not fit in memory.");
                }
                byte[] data = GC.AllocateUninitializedArray<byte>((int)length);
                int filled = 0;
                while (filled < data.Length)
                {
                    int read = await RandomAccess.ReadAsync(handle, data.AsMemory(filled), filled, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        throw new BridgeException($"Cannot {what} '{path}': it ended after {filled} of {length} bytes.");
                    }
                    filled += read;
                }
                // Only index.json is ever written conditionally; its ETag is its content's hash (files have no version).
                return new StoredObject(data, key == IndexKey ? Convert.ToHexString(SHA256.HashData(data)) : "");
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
            string path = PathOf(key);
            return WriteFileDurablyAsync(TempOf(path), path, data, overwrite: false, $"write {what} to", cancellationToken);
        }

        public async Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken)
        {
            string path = PathOf(key);
            // The writer's lease keeps others out of its folder; the rename below refuses to replace a file in any case.
            if (File.Exists(path))
            {
                return false;
            }
            await WriteFileDurablyAsync(TempOf(path), path, data, overwrite: false, what, cancellationToken).ConfigureAwait(false);
            return true;
        }

        public async Task<bool> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string? etag, string what, CancellationToken cancellationToken)
        {
            string path = PathOf(key);
            Bridge.CreateRoot();
            // Compare and swap under the index lock, which every process that writes index.json takes.
            await using (await Bridge.AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
            {
                StoredObject? current = await GetAsync(key, what, null, cancellationToken).ConfigureAwait(false);
                if (current?.ETag != etag)
                {
                    return false;
                }
                await WriteFileDurablyAsync(TempOf(path), path, data, overwrite: true, what, cancellationToken).ConfigureAwait(false);
                return true;
            }
        }

        public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // Keys are listed by dump folder ("dump-1/"), the only prefixes the bridge asks for.
            string folder = PathOf(prefix.TrimEnd('/'));
            RefuseLink(folder, "list the files of");
            List<FileInfo> files;
            try
            {
                files = Directory.Exists(folder) ? [.. new DirectoryInfo(folder).EnumerateFiles()] : [];
            }
            catch (DirectoryNotFoundException)
            {
                files = [];
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                throw BridgeThrow.Io("list the files of", folder, ex);
            }
            foreach (FileInfo file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return new ObjectInfo(prefix + file.Name, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));
            }
            await Task.CompletedTask.ConfigureAwait(false);
        }

        public Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken)
        {
            IReadOnlyList<string> folders = Directory.Exists(Bridge._root)
                ? EnumerateDirectories(Bridge._root).ConvertAll(folder => Path.GetFileName(folder))
                : [];
            return Task.FromResult(folders);
        }

        public Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
        {
            foreach (string key in keys)
            {
                string path = PathOf(key);
                RefuseLink(path, "delete");
                try
                {
                    File.Delete(path);
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

        public async Task<IWriterLease> AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken)
        {
            LocalBridge bridge = Bridge;
            bridge.CreateRoot();

            // Folders of writers that died (SIGKILL, power loss) would otherwise block their name and waste space forever.
            await bridge.CleanupAbandonedAsync(cancellationToken).ConfigureAwait(false);

            string folder = bridge.DumpFolder(name);
            await using (await bridge.AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
            {
                RefuseLink(folder, $"create the folder of dump '{name}' at");
                if (Directory.Exists(folder))
                {
                    throw new BridgeException(File.Exists(Path.Combine(folder, WritingLockFileName))
                        ? $"A dump named '{name}' is being written to {Description} by another process."
                        : $"The name '{name}' is taken: folder '{folder}' exists but is not listed in {IndexKey}; remove it or choose another name.");
                }

                // Created under the index lock, together with its .writing lock, so cleanup never sees the folder without it.
                FileStream writingLock;
                string lockPath = Path.Combine(folder, WritingLockFileName);
                try
                {
                    Directory.CreateDirectory(folder);
                    // CreateDirectory succeeds on a link to a directory planted since the check above.
                    RefuseLink(folder, $"create the folder of dump '{name}' at");
                    writingLock = new FileStream(lockPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
                }
                catch (Exception ex) when (BridgeThrow.IsIo(ex))
                {
                    throw BridgeThrow.Io("create dump folder", folder, ex);
                }
                try
                {
                    // For a person looking at a stuck folder: who is (or was) writing it.
                    writingLock.Write(owner.Span);
                    writingLock.Flush();
                    // Marker ages are read on the bridge's clock, so they are stamped with it too.
                    File.SetLastWriteTimeUtc(writingLock.SafeFileHandle, bridge.TimeProvider.GetUtcNow().UtcDateTime);
                }
                catch (Exception ex) when (BridgeThrow.IsIo(ex))
                {
                    writingLock.Dispose();
                    throw BridgeThrow.Io("write lock file", lockPath, ex);
                }
                return new Lease(bridge, folder, writingLock);
            }
        }
    }

    /// <summary>
    /// A writer's hold on its folder: the .writing file, open exclusively (an flock on Linux) for as long as the writer
    /// lives, so that cleanup can tell a dead writer at once; its modification time is the marker's age.
    /// </summary>
    sealed class Lease(LocalBridge bridge, string folder, FileStream writingLock) : IWriterLease
    {
        // Guards _writingLock between the writer and the marker refresher's thread.
        readonly Lock _gate = new();
        FileStream? _writingLock = writingLock;

        /// <summary>Moves the marker's modification time to now, for `delete --abandoned` where locks are not to be trusted.</summary>
        public Task RefreshAsync(CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                if (_writingLock is { } marker)
                {
                    File.SetLastWriteTimeUtc(marker.SafeFileHandle, bridge.TimeProvider.GetUtcNow().UtcDateTime);
                }
            }
            return Task.CompletedTask;
        }

        public async Task ReleaseAsync(bool abandoned, CancellationToken cancellationToken)
        {
            string lockPath = Path.Combine(folder, WritingLockFileName);
            try
            {
                if (!abandoned)
                {
                    // The dump is listed, so cleanup ignores the folder from here on whatever happens to .writing.
                    LetGo();
                    File.Delete(lockPath);
                    return;
                }
                // Removing the lock file and the folder changes which dump folders exist: do it under the index lock so a
                // concurrent BeginDumpAsync of the same name cannot see a half-removed folder.
                await using (await bridge.AcquireIndexLockAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    LetGo();
                    File.Delete(lockPath);
                    Directory.Delete(folder, recursive: false);
                }
            }
            catch (DirectoryNotFoundException)
            {
                // Already gone.
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                throw abandoned ? BridgeThrow.Io("remove the abandoned dump folder", folder, ex) : BridgeThrow.Io("remove the writer lock", lockPath, ex);
            }
            finally
            {
                LetGo();
            }
        }

        public ValueTask DisposeAsync()
        {
            LetGo();
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
