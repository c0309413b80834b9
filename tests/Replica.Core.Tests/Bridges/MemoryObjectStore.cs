using Replica.Bridges;

namespace Replica.Core.Tests.Bridges;

/// <summary>
/// A whole backend in one small file: an <see cref="IObjectStore"/> in memory, so that <see cref="ObjectBridge"/>'s
/// protocol is tested apart from both real stores. Objects carry a version number as their ETag and the clock's time
/// as their LastModified; one lock makes every operation atomic, as S3's conditional writes are.
/// </summary>
internal sealed class MemoryObjectStore(TimeProvider clock) : IObjectStore
{
    sealed record Entry(byte[] Data, long Version, DateTimeOffset Modified);

    readonly Lock _lock = new();
    readonly SortedDictionary<string, Entry> _objects = new(StringComparer.Ordinal);
    long _version;

    public string Description => "memory store";

    public string Show(string key) => $"'memory:{key}'";

    /// <summary>The keys stored, in key order (for the tests' own checks).</summary>
    public IReadOnlyList<string> Keys
    {
        get
        {
            lock (_lock)
            {
                return [.. _objects.Keys];
            }
        }
    }

    public Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken)
    {
        Entry? entry;
        lock (_lock)
        {
            _objects.TryGetValue(key, out entry);
        }
        if (entry is null)
        {
            return Task.FromResult<StoredObject?>(null);
        }
        Memory<byte> data = StoredObject.Target(entry.Data.Length, buffer, () => $"{what} {Show(key)}");
        entry.Data.AsSpan().CopyTo(data.Span);
        return Task.FromResult<StoredObject?>(new StoredObject(data, ETag(entry)));
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Store(key, data);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs before a dump's new object (<see cref="PutNewAsync"/>) is created: a test's way to have another writer store
    /// it first, or to store it itself as a try whose answer was lost would have.
    /// </summary>
    public Func<string, ReadOnlyMemory<byte>, Task>? BeforePutNew { get; set; }

    /// <summary>Creates the object only if absent, as the S3 store's If-None-Match: * does.</summary>
    public async Task<bool> PutNewAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken)
    {
        if (BeforePutNew is { } before)
        {
            await before(key, data);
        }
        return PutIfMatch(key, data, etag: null);
    }

    public Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken) =>
        PutIfMatchAsync(key, data, etag: null, what, cancellationToken);

    /// <summary>Runs before a conditional write is compared (once per write): a test's way to act between a read and its write.</summary>
    public Func<string, Task>? BeforeConditionalWrite { get; set; }

    public async Task<bool> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string? etag, string what, CancellationToken cancellationToken)
    {
        if (BeforeConditionalWrite is { } before)
        {
            await before(key);
        }
        return PutIfMatch(key, data, etag);
    }

    bool PutIfMatch(string key, ReadOnlyMemory<byte> data, string? etag)
    {
        lock (_lock)
        {
            string? current = _objects.TryGetValue(key, out Entry? entry) ? ETag(entry) : null;
            if (current != etag)
            {
                return false;
            }
            Store(key, data);
        }
        return true;
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<ObjectInfo> found;
        lock (_lock)
        {
            found = [.. _objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(o => new ObjectInfo(o.Key, o.Value.Modified))];
        }
        foreach (ObjectInfo item in found)
        {
            await Task.Yield();
            yield return item;
        }
    }

    public Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<string> folders = [.. _objects.Keys.Where(k => k.Contains('/', StringComparison.Ordinal)).Select(k => k[..k.IndexOf('/', StringComparison.Ordinal)]).Distinct()];
            return Task.FromResult(folders);
        }
    }

    public Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (string key in keys)
            {
                _objects.Remove(key);
            }
        }
        return Task.CompletedTask;
    }

    public async Task<IWriterLease> AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken)
    {
        string marker = ObjectBridge.MarkerKey(name);
        if (!await PutIfAbsentAsync(marker, owner, $"claim dump '{name}' with", cancellationToken).ConfigureAwait(false))
        {
            throw new BridgeException($"A dump named '{name}' is being written to {Description} by another process ({Show(marker)} exists).");
        }
        return new Lease(this, marker, owner.ToArray());
    }

    void Store(string key, ReadOnlyMemory<byte> data) =>
        _objects[key] = new Entry(data.ToArray(), ++_version, clock.GetUtcNow());

    static string ETag(Entry entry) => entry.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The marker is the lease: its LastModified is the writer's last sign of life.</summary>
    sealed class Lease(MemoryObjectStore store, string marker, byte[] owner) : IWriterLease
    {
        /// <summary>Rewrites the marker only while it is still the one this writer wrote, as the S3 store's If-Match does.</summary>
        public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
        {
            StoredObject? current = await store.GetAsync(marker, "refresh", null, cancellationToken).ConfigureAwait(false);
            return current is not null && current.Data.Span.SequenceEqual(owner)
                && await store.PutIfMatchAsync(marker, owner, current.ETag, "refresh", cancellationToken).ConfigureAwait(false);
        }

        public async Task ReleaseAsync(bool abandoned, CancellationToken cancellationToken)
        {
            await store.DeleteAsync([marker], cancellationToken).ConfigureAwait(false);
            await DisposeAsync().ConfigureAwait(false);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
