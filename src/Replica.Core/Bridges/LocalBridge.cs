namespace Replica.Bridges;

/// <summary>
/// A bridge in a local directory: <see cref="ObjectBridge"/>'s protocol over <see cref="LocalStore"/>, laid out as
/// <code>
/// root/index.json              complete dumps: {"version":1,"dumps":[...]}
/// root/.index.lock             held exclusively (flock on Linux) while index.json or the set of dump folders changes
/// root/dump-1/p000000-000000.chunk ... chunk 0 of part 0, zero-padded so that name order is restore order
/// root/dump-1/p000000-list000000.json  chunk list 0 of part 0 (format v3, parts of more than 1024 chunks)
/// root/dump-1/manifest.json    written after the last chunk; the source of truth for the parts and chunks
/// root/dump-1/.writing         exists while a writer works on the folder, held open exclusively by that writer
/// root/.deleted-*              folders being removed (renamed first so that removal is atomic for readers)
/// </code>
/// What only a directory can do (the lock, telling a dead writer at once, moving a folder aside) is the store's, as an
/// <see cref="IDirectoryStore"/>; the protocol uses it. Several processes may use one root.
/// </summary>
public sealed class LocalBridge : ObjectBridge
{
    public LocalBridge(string rootPath, LocalBridgeOptions? options = null)
        : this(new LocalStore(FullPath(rootPath), options ?? new LocalBridgeOptions()))
    {
    }

    LocalBridge(LocalStore store)
        : base(store, new ObjectBridgeOptions
        {
            TimeProvider = store.Options.TimeProvider,
            MarkerRefreshInterval = store.Options.MarkerRefreshInterval,
            ChunkListLength = store.Options.ChunkListLength,
        })
    {
        RootPath = store.Root;
    }

    static string FullPath(string rootPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        return Path.GetFullPath(rootPath);
    }

    /// <summary>The absolute path of the bridge's root directory.</summary>
    public string RootPath { get; }
}
