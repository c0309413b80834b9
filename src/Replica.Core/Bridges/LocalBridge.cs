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
/// The dump protocol is <see cref="ObjectBridge"/>'s; this class is its store (LocalBridge.Store.cs) and what only a
/// directory can do better: it tells a dead writer at once (nobody holds its flock), so a dump cleans up after killed
/// writers first, and it moves a folder aside before deleting it, so removal is atomic for readers (hence its own
/// delete, cleanup and rebuild, below). Several processes may use one root: every change to index.json or to which
/// dump folders exist happens under the index lock, and every file is written to a temporary name, flushed to disk and renamed into place.
/// </summary>
public sealed partial class LocalBridge : ObjectBridge
{
    internal const string WritingLockFileName = MarkerName;
    internal const string IndexLockFileName = ".index.lock";
    const string IndexTempFileName = ".index.json.tmp";
    const string DeletedPrefix = ".deleted-";

    readonly string _root;
    readonly LocalBridgeOptions _options;

    public LocalBridge(string rootPath, LocalBridgeOptions? options = null)
        : this(new Store(), FullPath(rootPath), options ?? new LocalBridgeOptions())
    {
    }

    LocalBridge(Store store, string root, LocalBridgeOptions options)
        : base(store, new ObjectBridgeOptions { TimeProvider = options.TimeProvider, MarkerRefreshInterval = options.MarkerRefreshInterval })
    {
        _root = root;
        _options = options;
        store.Bridge = this;
    }

    static string FullPath(string rootPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        return Path.GetFullPath(rootPath);
    }

    /// <summary>The absolute path of the bridge's root directory.</summary>
    public string RootPath => _root;

    internal TimeProvider TimeProvider => _options.TimeProvider;

    internal override ObjectDumpWriter CreateWriter(string name, IWriterLease lease, long createdAt) =>
        new LocalDumpWriter(this, name, lease, createdAt);

    public override async Task DeleteAsync(string name, CancellationToken cancellationToken)
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
            (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
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
            (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
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
    public override async Task<IReadOnlyList<string>> DeleteAbandonedAsync(TimeSpan staleAfter, bool dryRun, CancellationToken cancellationToken)
    {
        MarkerRefresher.RequireStaleAfter(staleAfter, BridgeOptions.MarkerRefreshInterval);
        if (!Directory.Exists(_root))
        {
            return [];
        }

        var abandoned = new List<string>();
        var trash = new List<string>();
        await using (await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
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
    public override async Task<IReadOnlyList<DumpEntry>> RebuildIndexAsync(CancellationToken cancellationToken)
    {
        await using (await AcquireIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = new BridgeIndex();
            foreach (string folder in Directory.EnumerateDirectories(_root))
            {
                string name = Path.GetFileName(folder);
                string path = Path.Combine(folder, ManifestName);
                if (!DumpName.IsValid(name, out _) || !File.Exists(path))
                {
                    continue;
                }
                DumpManifest manifest = BridgeJson.ReadManifest(
                    await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), name, $"'{path}'");
                index.Dumps.Add(EntryOf(manifest));
            }
            index.Dumps.Sort(DumpOrdering.OldestFirst);
            await WriteIndexAsync(index, cancellationToken).ConfigureAwait(false);
            return index.Dumps;
        }
    }
}
