namespace Replica.Bridges;

/// <summary>
/// The object storage under an <see cref="ObjectBridge"/>: a flat set of keys relative to the bridge's root
/// ("index.json", "dump-1/p000000-000000.chunk" (part 0, chunk 0), "dump-1/manifest.json", "dump-1/.writing"). The
/// bridge holds the whole dump protocol (parts and chunk numbering, manifest, index.json and its compare-and-swap, the writer marker's refresh, delete,
/// `delete --abandoned`, `index rebuild`); a store only moves bytes. A new backend (Azure Blob, GCS) implements this
/// interface and <see cref="IWriterLease"/>, and passes the store to <c>new ObjectBridge(store)</c>:
/// <list type="bullet">
/// <item>get, put, put-if-absent, put-if-match (an ETag the store itself handed out), list by prefix (and the folders at
/// the root), delete;</item>
/// <item>a writer lease: an exclusive claim on a dump's name, refreshed while its writer works.</item>
/// </list>
/// That is all an object store implements (Azure Blob's If-Match / If-None-Match and GCS's generation preconditions give
/// the conditional puts). A store on a file system, which can lock, tell a dead writer at once and rename a folder
/// atomically, implements <see cref="IDirectoryStore"/> as well, and the bridge then uses those instead.
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
    /// Reads a whole object; null when there is no such key. <paramref name="buffer"/>, when given, sees the length
    /// before anything is allocated, may throw, and returns where the bytes go: exactly that many bytes (a reused
    /// buffer, so that reading chunk after chunk leaves no garbage); without it they go into a new array. The returned
    /// ETag is what <see cref="PutIfMatchAsync"/> expects for this version of the object (a store may leave it empty for
    /// objects that are never written conditionally).
    /// </summary>
    Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a new chunk; <paramref name="sha256"/> is its hash, for stores that can have the server check it.
    /// <paramref name="what"/> names the chunk for messages ("chunk 3 of dump 'dump-1'"); the other methods take what
    /// is being done ("read the index").
    /// </summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a new object of a dump being written (a chunk, a chunk list) only if there is no object at
    /// <paramref name="key"/>; false when there is. Such a key is written once per dump, so an object already there is
    /// either the writer's own earlier try whose answer was lost, or another writer's that claimed the name after this
    /// one lost its lease, which must never be overwritten; the caller reads it back to tell which.
    /// <paramref name="sha256"/> and <paramref name="what"/> as for <see cref="PutAsync"/>. An object store makes the write
    /// itself conditional (S3: If-None-Match: *, no extra request). The default suits a store whose writers cannot lose
    /// their lease (<see cref="IDirectoryStore"/>) and whose <see cref="PutIfAbsentAsync"/> stores any object.
    /// </summary>
    Task<bool> PutNewAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken) =>
        PutIfAbsentAsync(key, data, $"write {what} to", cancellationToken);

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
    /// <paramref name="owner"/>, which no other writer's marker holds) so that no other writer, and no cleanup, takes the
    /// name while the lease is held. <see cref="BridgeException"/> when another writer holds it; a marker that holds
    /// <paramref name="owner"/> already is this writer's own claim whose answer was lost, and it holds the lease.
    /// </summary>
    Task<IWriterLease> AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken);
}

/// <summary>A writer's claim on a dump name (see <see cref="IObjectStore.AcquireLeaseAsync"/>).</summary>
public interface IWriterLease : IAsyncDisposable
{
    /// <summary>
    /// Shows that the writer is alive (a marker's age tells a dead writer); called every minute or so. False when the
    /// lease is lost: the marker is gone or is no longer the one this writer wrote (`delete --abandoned` took the writer
    /// for dead and removed its folder). A lost lease is never taken back: the refresh must not bring the marker back
    /// (an object store rewrites it only if it is still the version it wrote last), and the writer must not complete.
    /// </summary>
    Task<bool> RefreshAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Gives the name up and removes the marker: the dump is listed, or (<paramref name="abandoned"/>) everything else
    /// it stored was removed. Then <see cref="IAsyncDisposable.DisposeAsync"/>.
    /// </summary>
    Task ReleaseAsync(bool abandoned, CancellationToken cancellationToken);

    // DisposeAsync: lets go of what the lease holds in this process (a lock, a handle) without removing the marker, as a
    // writer that died would.
}

/// <summary>An object as read back: its bytes and its ETag (see <see cref="IObjectStore.GetAsync"/>).</summary>
public sealed record StoredObject(ReadOnlyMemory<byte> Data, string ETag)
{
    /// <summary>
    /// Where a store reads an object of <paramref name="length"/> bytes: <paramref name="buffer"/>'s memory (which must
    /// hold exactly that many bytes) or, without one, a new array. <paramref name="attempt"/> says what was attempted, for
    /// the error when it cannot fit in memory ("read the index '/srv/bridge/index.json'").
    /// </summary>
    public static Memory<byte> Target(long length, Func<long, Memory<byte>>? buffer, Func<string> attempt)
    {
        if (buffer is not null)
        {
            Memory<byte> into = buffer(length);
            if (into.Length != length)
            {
                throw new InvalidOperationException($"Cannot {attempt()}: the buffer holds {into.Length} bytes, not the object's {length}.");
            }
            return into;
        }
        if (length > Array.MaxLength)
        {
            throw new BridgeException($"Cannot {attempt()}: {length} bytes do not fit in memory.");
        }
        return GC.AllocateUninitializedArray<byte>((int)length);
    }
}

/// <summary>A listed object: its key and when it was last written (null when the store cannot say: never provably old).</summary>
public sealed record ObjectInfo(string Key, DateTimeOffset? LastModified);

/// <summary>
/// What a store on a file system (the local directory) can do better than an object store, and what
/// <see cref="ObjectBridge"/> then uses: a lock instead of compare-and-swap alone, a writer's lock instead of its
/// marker's age, and an atomic rename instead of deleting a dump object by object. Optional: a store implements it only
/// if it keeps every promise below; without it the bridge relies on conditional writes and marker ages.
/// </summary>
public interface IDirectoryStore
{
    /// <summary>
    /// Takes the exclusive lock over index.json and the set of dump folders, across processes, and returns what releases
    /// it. The bridge holds it around every read-change-write of index.json (so <see cref="IObjectStore.PutIfMatchAsync"/>
    /// may compare and write without locking again; the lock is not reentrant), around
    /// <see cref="IObjectStore.AcquireLeaseAsync"/> and an abandoned writer's <see cref="IWriterLease.ReleaseAsync"/>, and
    /// around delete, cleanup and rebuild. With <paramref name="create"/> false and no store yet, nothing is created and
    /// the lock is a no-op: there is nothing to change.
    /// </summary>
    Task<IAsyncDisposable> LockAsync(bool create, CancellationToken cancellationToken);

    /// <summary>
    /// True while a writer holds dump <paramref name="name"/>'s lease (in any process); false when nobody does or there is
    /// no marker. Answered at once: a dead writer is known without waiting for its marker to age.
    /// </summary>
    Task<bool> IsWriterAliveAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Moves dump <paramref name="name"/>'s folder out of the bridge's view in one atomic step, under the lock; returns what
    /// <see cref="DeleteMovedAsync"/> deletes later, outside it. Null when there is no such folder.
    /// </summary>
    Task<string?> MoveAsideAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a folder <see cref="MoveAsideAsync"/> moved aside; with null, every one that removals which died left behind.
    /// </summary>
    Task DeleteMovedAsync(string? moved, CancellationToken cancellationToken);

    /// <summary>
    /// Removes dump <paramref name="name"/>'s folder if nothing at all is in it (a writer died between removing its marker
    /// and its folder), under the lock; anything else stays.
    /// </summary>
    Task RemoveIfEmptyAsync(string name, CancellationToken cancellationToken);
}

/// <summary>
/// What a store that can hand out links to its objects implements (S3: presigned GET URLs), for `replica share`: a link
/// reads one object without the store's credentials until it expires. Optional; a store without it cannot share.
/// </summary>
public interface IPresigningStore
{
    /// <summary>The longest a link may live (SigV4: 7 days).</summary>
    TimeSpan MaxLinkLifetime { get; }

    /// <summary>
    /// Whether the credentials that sign links are temporary (a session token) and, when known, when they expire: a link
    /// stops working with the credentials that signed it, whatever its own expiry says.
    /// </summary>
    Task<(bool Temporary, DateTimeOffset? Expires)> SigningCredentialsAsync(CancellationToken cancellationToken);

    /// <summary>A link that reads the object at <paramref name="key"/> (relative, as the bridge names it) until <paramref name="expires"/>.</summary>
    Task<Uri> PresignGetAsync(string key, DateTimeOffset expires, CancellationToken cancellationToken);
}
