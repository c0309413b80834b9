using System.Text.Json;

namespace Replica.Bridges;

/// <summary>
/// A bridge in a local directory:
/// <code>
/// root/index.json              complete dumps: {"version":1,"dumps":[...]}
/// root/.index.lock             held exclusively (flock on Linux) while index.json or the set of dump folders changes
/// root/dump-1/000000.chunk ... chunks, zero-padded so that name order is restore order
/// root/dump-1/manifest.json    written after the last chunk; the source of truth for the chunks
/// root/dump-1/.writing         exists while a writer works on the folder, held open exclusively by that writer
/// root/.deleted-*              folders being removed (renamed first so that removal is atomic for readers)
/// </code>
/// Several processes may use one root: every change to index.json or to which dump folders exist happens under the
/// index lock, and every file is written to a temporary name, flushed to disk and renamed into place.
/// </summary>
public sealed partial class LocalBridge : IBridge, IIndexRebuild, IAbandonedCleanup
{
    internal const string IndexFileName = "index.json";
    internal const string ManifestFileName = "manifest.json";
    internal const string WritingLockFileName = ".writing";
    internal const string IndexLockFileName = ".index.lock";
    const string IndexTempFileName = ".index.json.tmp";
    const string DeletedPrefix = ".deleted-";

    /// <summary>Six digits keep name order equal to chunk order; 1,000,000 chunks of 32 MiB is 32 TiB.</summary>
    internal const int MaxChunkCount = 1_000_000;

    readonly string _root;
    readonly LocalBridgeOptions _options;

    public LocalBridge(string rootPath, LocalBridgeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        _root = Path.GetFullPath(rootPath);
        _options = options ?? new LocalBridgeOptions();
    }

    /// <summary>The absolute path of the bridge's root directory.</summary>
    public string RootPath => _root;

    public string Description => $"local directory {_root}";

    internal TimeProvider TimeProvider => _options.TimeProvider;

    internal TimeSpan MarkerRefreshInterval => _options.MarkerRefreshInterval;

    /// <summary>The object key (file name inside the dump folder) of chunk <paramref name="index"/>.</summary>
    public static string ChunkKey(int index) => $"{index:D6}.chunk";

    public async Task<IDumpWriter> BeginDumpAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        CreateRoot();

        // Folders of writers that died (SIGKILL, power loss) would otherwise block their name and waste space forever.
        await CleanupAbandonedAsync(cancellationToken).ConfigureAwait(false);

        string folder = DumpFolder(name);
        long createdAt = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using (await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            BridgeIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            if (index.Find(name) is not null)
            {
                throw new BridgeException($"A dump named '{name}' already exists in {Description}.");
            }
            RefuseLink(folder, $"create the folder of dump '{name}' at");
            if (Directory.Exists(folder))
            {
                throw new BridgeException(File.Exists(Path.Combine(folder, WritingLockFileName))
                    ? $"A dump named '{name}' is being written to {Description} by another process."
                    : $"The name '{name}' is taken: folder '{folder}' exists but is not listed in {IndexFileName}; remove it or choose another name.");
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
                byte[] owner = System.Text.Encoding.UTF8.GetBytes(
                    $"pid {Environment.ProcessId} on {Environment.MachineName} since {DateTimeOffset.FromUnixTimeMilliseconds(createdAt):O}\n");
                writingLock.Write(owner);
                writingLock.Flush();
                // Marker ages are read on the bridge's clock, so they are stamped with it too.
                File.SetLastWriteTimeUtc(writingLock.SafeFileHandle, _options.TimeProvider.GetUtcNow().UtcDateTime);
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                writingLock.Dispose();
                throw BridgeThrow.Io("write lock file", lockPath, ex);
            }
            return new LocalDumpWriter(this, name, folder, writingLock, createdAt);
        }
    }

    public async Task<IReadOnlyList<DumpEntry>> ListAsync(CancellationToken cancellationToken)
    {
        BridgeIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        var complete = new List<DumpEntry>(index.Dumps.Count);
        foreach (DumpEntry entry in index.Dumps)
        {
            if (entry.Status == DumpEntry.Complete)
            {
                complete.Add(entry);
            }
        }
        complete.Sort(DumpOrdering.OldestFirst);
        return complete;
    }

    public async Task<DumpManifest> ReadManifestAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        BridgeIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index.Find(name) is not { Status: DumpEntry.Complete })
        {
            throw new BridgeException($"There is no complete dump named '{name}' in {Description}.");
        }

        string path = Path.Combine(DumpFolder(name), ManifestFileName);
        byte[] json;
        try
        {
            json = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IntegrityException($"Dump '{name}' is listed in {IndexFileName} but its manifest '{path}' is missing.", ex);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("read manifest", path, ex);
        }

        return BridgeJson.ReadManifest(json, name, $"'{path}'");
    }

    public async Task<byte[]> ReadChunkAsync(string name, ChunkInfo chunk, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        ArgumentNullException.ThrowIfNull(chunk);
        string folder = DumpFolder(name);
        if (!IsPlainFileName(chunk.Key))
        {
            // The key comes from a file someone could edit; it must not lead outside the dump folder.
            BridgeThrow.ChunkIntegrity(name, chunk, "the key is not a plain file name");
        }
        if (!Directory.Exists(folder))
        {
            throw new BridgeException($"There is no dump named '{name}' in {Description} (folder '{folder}' does not exist).");
        }

        string path = Path.Combine(folder, chunk.Key);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
            long length = RandomAccess.GetLength(handle);
            // Checked before allocating, so a damaged file can never make us allocate more than the manifest promised.
            if (length != chunk.Size)
            {
                BridgeThrow.ChunkIntegrity(name, chunk, $"the stored file '{path}' has {length} bytes, the manifest says {chunk.Size}");
            }
            if (length > Array.MaxLength)
            {
                BridgeThrow.ChunkIntegrity(name, chunk, $"{length} bytes is larger than one chunk can be");
            }
            byte[] data = GC.AllocateUninitializedArray<byte>((int)length);
            int filled = 0;
            while (filled < data.Length)
            {
                int read = await RandomAccess.ReadAsync(handle, data.AsMemory(filled), filled, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    BridgeThrow.ChunkIntegrity(name, chunk, $"the stored file '{path}' ended after {filled} of {length} bytes");
                }
                filled += read;
            }
            return data;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IntegrityException($"Dump '{name}', chunk {chunk.Index} ({chunk.Key}): the chunk is missing ('{path}' does not exist).", ex);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io($"read chunk {chunk.Index} of dump '{name}' from", path, ex);
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        if (!Directory.Exists(_root))
        {
            throw new BridgeException($"There is no dump named '{name}' in {Description} (the directory does not exist).");
        }

        string folder = DumpFolder(name);
        string? trash = null;
        await using (await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            BridgeIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            bool listed = index.Find(name) is not null;
            bool exists = Directory.Exists(folder);
            if (!listed && !exists)
            {
                throw new BridgeException($"There is no dump named '{name}' in {Description}.");
            }
            if (exists)
            {
                if (!listed && IsHeldByLiveWriter(folder))
                {
                    throw new BridgeException($"Dump '{name}' in {Description} is being written; it cannot be deleted now.");
                }
                // Folder first: if we die before the index is written, the entry points at nothing and a second delete
                // removes it; the other order would leave an unlisted folder that blocks the name.
                trash = MoveToTrash(folder, name);
            }
            if (listed)
            {
                index.Remove(name);
                await WriteIndexAsync(index, cancellationToken).ConfigureAwait(false);
            }
        }
        if (trash is not null)
        {
            DeleteTree(trash);
        }
    }

    /// <summary>
    /// Removes the folders of writers that died before completing (their .writing lock can be taken) and leftovers of
    /// interrupted deletes. Never touches listed dumps, live writers, or folders this bridge did not create.
    /// Returns the names of the abandoned dumps it removed. <see cref="BeginDumpAsync"/> runs it too.
    /// </summary>
    public async Task<IReadOnlyList<string>> CleanupAbandonedAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_root))
        {
            return [];
        }

        var removed = new List<string>();
        await using (await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            BridgeIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            foreach (string folder in EnumerateDirectories(_root))
            {
                string name = Path.GetFileName(folder);
                if (!DumpName.IsValid(name, out _) || index.Find(name) is not null)
                {
                    continue;
                }
                bool hasWritingLock = File.Exists(Path.Combine(folder, WritingLockFileName));
                if (!hasWritingLock && !IsEmptyDirectory(folder))
                {
                    continue;
                }
                // Only now, about to act on it: a link that nothing touches (say latest -> a listed dump) stays.
                RefuseLink(folder, $"clean up the abandoned folder of dump '{name}' at");
                if (hasWritingLock)
                {
                    if (IsHeldByLiveWriter(folder))
                    {
                        continue;
                    }
                    MoveToTrash(folder, name);
                    removed.Add(name);
                }
                else
                {
                    // A writer that was removing its own folder died between deleting .writing and the folder.
                    DeleteTree(folder);
                }
            }
        }

        foreach (string folder in EnumerateDirectories(_root))
        {
            if (Path.GetFileName(folder).StartsWith(DeletedPrefix, StringComparison.Ordinal))
            {
                DeleteTree(folder);
            }
        }
        return removed;
    }

    /// <summary>
    /// Removes the folders of dumps that are not listed and whose writer is gone: nobody holds the .writing lock and the
    /// marker was last refreshed longer than <paramref name="staleAfter"/> ago (the age matters where locks cannot be
    /// trusted, such as some network file systems). Listed dumps, live writers and folders without a marker stay.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteAbandonedAsync(TimeSpan staleAfter, bool dryRun, CancellationToken cancellationToken)
    {
        MarkerRefresher.RequireStaleAfter(staleAfter, _options.MarkerRefreshInterval);
        if (!Directory.Exists(_root))
        {
            return [];
        }

        var abandoned = new List<string>();
        var trash = new List<string>();
        await using (await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            BridgeIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            DateTimeOffset now = _options.TimeProvider.GetUtcNow();
            foreach (string folder in EnumerateDirectories(_root))
            {
                string name = Path.GetFileName(folder);
                string marker = Path.Combine(folder, WritingLockFileName);
                if (!DumpName.IsValid(name, out _) || index.Find(name) is not null || !File.Exists(marker))
                {
                    continue;
                }
                if (IsHeldByLiveWriter(folder) || now - MarkerTime(marker) <= staleAfter)
                {
                    continue;
                }
                abandoned.Add(name);
                if (!dryRun)
                {
                    trash.Add(MoveToTrash(folder, name));
                }
            }
        }
        foreach (string folder in trash)
        {
            DeleteTree(folder);
        }
        return abandoned;
    }

    static DateTimeOffset MarkerTime(string marker)
    {
        try
        {
            return new DateTimeOffset(File.GetLastWriteTimeUtc(marker), TimeSpan.Zero);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io("read the age of the writer marker", marker, ex);
        }
    }

    internal string DumpFolder(string name) => Path.Combine(_root, name);

    /// <summary>
    /// Recreates index.json from the manifests on disk, under the index lock: every folder with a valid manifest is a
    /// complete dump (its manifest is written only after its last chunk). A manifest that does not parse is an error.
    /// </summary>
    public async Task<IReadOnlyList<DumpEntry>> RebuildIndexAsync(CancellationToken cancellationToken)
    {
        await using (await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = new BridgeIndex();
            foreach (string folder in Directory.EnumerateDirectories(_root))
            {
                string name = Path.GetFileName(folder);
                string path = Path.Combine(folder, ManifestFileName);
                if (!DumpName.IsValid(name, out _) || !File.Exists(path))
                {
                    continue;
                }
                DumpManifest manifest = BridgeJson.ReadManifest(
                    await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), name, $"'{path}'");
                index.Dumps.Add(new DumpEntry(name, DumpEntry.Complete, manifest.SizeIn, manifest.SizeOut, manifest.CreatedAt,
                    manifest.Compressed, manifest.Encrypted, manifest.Chunks.Count));
            }
            index.Dumps.Sort(DumpOrdering.OldestFirst);
            await WriteIndexAsync(index, cancellationToken).ConfigureAwait(false);
            return index.Dumps;
        }
    }

    /// <summary>Adds a completed dump to index.json; called by the writer after its manifest is on disk.</summary>
    internal async Task AddToIndexAsync(DumpEntry entry, CancellationToken cancellationToken)
    {
        await using (await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            BridgeIndex index = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            if (index.Find(entry.Name) is not null)
            {
                throw new BridgeException($"A dump named '{entry.Name}' is already listed in {IndexPath}.");
            }
            index.Dumps.Add(entry);
            await WriteIndexAsync(index, cancellationToken).ConfigureAwait(false);
        }
    }

    static bool IsPlainFileName(string key) =>
        key.Length > 0 && key[0] != '.' && key.IndexOfAny(['/', '\\', ':']) < 0 && Path.GetFileName(key) == key;
}
