namespace Replica.Bridges;

/// <summary>
/// The object storage under an <see cref="ObjectBridge"/>: a flat set of keys relative to the bridge's root
/// ("index.json", "dump-1/000000.chunk", "dump-1/manifest.json", "dump-1/.writing"). The bridge holds the dump protocol
/// (chunk numbering, manifest, index.json and its compare-and-swap, the writer marker's refresh); a store only moves
/// bytes. A new backend (Azure Blob, GCS) implements this interface and <see cref="IWriterLease"/>, and passes the
/// store to <c>new ObjectBridge(store)</c>:
/// <list type="bullet">
/// <item>get, put, put-if-absent, put-if-match (an ETag the store itself handed out), list by prefix (and the folders at
/// the root), delete;</item>
/// <item>a writer lease: an exclusive claim on a dump's name, refreshed while its writer works.</item>
/// </list>
/// Every failure is a <see cref="BridgeException"/> that says what was attempted and names the object (<see cref="Show"/>);
/// a lost condition is a false return, not an exception. Implementations must be safe to use from several threads.
/// </summary>
public interface IObjectStore
{
    /// <summary>A short description for messages, e.g. "local directory /srv/replica-bridge".</summary>
    string Description { get; }

    /// <summary>How messages name the object at <paramref name="key"/>, e.g. "'/srv/replica-bridge/index.json'" or "s3://bucket/prefix/index.json".</summary>
    string Show(string key);

    /// <summary>
    /// Reads a whole object; null when there is no such key. <paramref name="checkLength"/> sees the length before
    /// anything is allocated and may throw. The returned ETag is what <see cref="PutIfMatchAsync"/> expects for this
    /// version of the object (a store may leave it empty for objects that are never written conditionally).
    /// </summary>
    Task<StoredObject?> GetAsync(string key, string what, Action<long>? checkLength, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a new chunk; <paramref name="sha256"/> is its hash, for stores that can have the server check it.
    /// <paramref name="what"/> names the chunk for messages ("chunk 3 of dump 'dump-1'"); the other methods take what
    /// is being done ("read the index").
    /// </summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="data"/> only if there is no object at <paramref name="key"/>; false when there is.</summary>
    Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the object only if it is still the version <paramref name="etag"/> (from <see cref="GetAsync"/>), or
    /// stores it only if absent when <paramref name="etag"/> is null; false when another writer changed it first.
    /// </summary>
    Task<bool> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string? etag, string what, CancellationToken cancellationToken);

    /// <summary>The objects whose keys start with <paramref name="prefix"/> (a dump's folder, "dump-1/").</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>The folders at the root: the first part of every key that has a '/' ("dump-1"), each once.</summary>
    Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken);

    /// <summary>Deletes the given keys, in order; absent ones are fine.</summary>
    Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Claims dump <paramref name="name"/> for one writer: creates its marker ("name/.writing", holding
    /// <paramref name="owner"/>) so that no other writer, and no cleanup, takes the name while the lease is held.
    /// <see cref="BridgeException"/> when another writer holds it.
    /// </summary>
    Task<IWriterLease> AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken);
}

/// <summary>A writer's claim on a dump name (see <see cref="IObjectStore.AcquireLeaseAsync"/>).</summary>
public interface IWriterLease : IAsyncDisposable
{
    /// <summary>Shows that the writer is alive (a marker's age tells a dead writer); called every minute or so.</summary>
    Task RefreshAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Gives the name up and removes the marker: the dump is listed, or (<paramref name="abandoned"/>) everything else
    /// it stored was removed. Then <see cref="IAsyncDisposable.DisposeAsync"/>.
    /// </summary>
    Task ReleaseAsync(bool abandoned, CancellationToken cancellationToken);

    // DisposeAsync: lets go of what the lease holds in this process (a lock, a handle) without removing the marker, as a
    // writer that died would.
}

/// <summary>An object as read back: its bytes and its ETag (see <see cref="IObjectStore.GetAsync"/>).</summary>
public sealed record StoredObject(byte[] Data, string ETag);

/// <summary>A listed object: its key and when it was last written (null when the store cannot say: never provably old).</summary>
public sealed record ObjectInfo(string Key, DateTimeOffset? LastModified);
