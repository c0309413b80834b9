namespace Replica.Bridges;

/// <summary>
/// A store that holds one dump to read and refuses every change: a dump archive (<see cref="ArchiveStore"/>) or a
/// shared dump (<see cref="ShareStore"/>) under an <see cref="ObjectBridge"/>, so that a restore from them makes every
/// check a restore from a bridge makes. Every write is a <see cref="BridgeException"/> saying the store is read-only.
/// </summary>
internal abstract class ReadOnlyObjectStore : IObjectStore
{
    public abstract string Description { get; }

    /// <summary>What the read-only message adds: where a dump that should be written goes instead.</summary>
    protected virtual string Instead => "";

    public abstract string Show(string key);

    public abstract Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken);

    public abstract IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken);

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken) =>
        throw ReadOnly($"write {what}");

    public Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken) =>
        throw ReadOnly(what);

    public Task<bool> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string? etag, string what, CancellationToken cancellationToken) =>
        throw ReadOnly(what);

    public Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) => throw ReadOnly("delete from it");

    public Task<IWriterLease> AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken) =>
        throw ReadOnly($"write dump '{name}' into it");

    BridgeException ReadOnly(string what) => new($"Cannot {what}: {Description} is read-only.{Instead}");
}
