// Retained memory of a v3 dump's manifest as a reader holds it (issue 12): a dump of N one-byte chunks in one part is
// written to an in-memory object store, then read back; the managed heap before and after, both after a full collection.
// Run: dotnet run -c Release --project bench/issue12/manifest-memory -- 262144   (the chunk count of 1 TiB in 4 MiB chunks)
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Replica.Bridges;

int count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 262_144;
var bridge = new ObjectBridge(new MemoryStore());
await using (IDumpWriter writer = await bridge.BeginDumpAsync("probe", default))
{
    for (int i = 0; i < count; i++)
    {
        await writer.WriteChunkAsync(new[] { (byte)i }, default);
    }
    await writer.CompleteAsync(new DumpSummary(count, "probe", Compressed: false, Encrypted: false), default);
}
long before = GC.GetTotalMemory(forceFullCollection: true);
DumpManifest manifest = await bridge.ReadManifestAsync("probe", default);
long after = GC.GetTotalMemory(forceFullCollection: true);
Console.WriteLine($"{manifest.Chunks.Count} chunks: the manifest holds {(after - before) / 1048576.0:F1} MiB ({(double)(after - before) / count:F0} bytes a chunk)");
GC.KeepAlive(manifest);

/// <summary>Objects in a dictionary; a lease is a marker object; ETags are content hashes.</summary>
sealed class MemoryStore : IObjectStore
{
    readonly ConcurrentDictionary<string, byte[]> _objects = new();

    public string Description => "memory";

    public string Show(string key) => key;

    static string ETag(byte[] data) => Convert.ToHexString(SHA256.HashData(data));

    public Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken)
    {
        if (!_objects.TryGetValue(key, out byte[]? data))
        {
            return Task.FromResult<StoredObject?>(null);
        }
        Memory<byte> target = StoredObject.Target(data.Length, buffer, () => what);
        data.CopyTo(target);
        return Task.FromResult<StoredObject?>(new StoredObject(target, ETag(data)));
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken)
    {
        _objects[key] = data.ToArray();
        return Task.CompletedTask;
    }

    public Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken) =>
        Task.FromResult(_objects.TryAdd(key, data.ToArray()));

    public Task<bool> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string? etag, string what, CancellationToken cancellationToken)
    {
        if (etag is null)
        {
            return Task.FromResult(_objects.TryAdd(key, data.ToArray()));
        }
        if (!_objects.TryGetValue(key, out byte[]? current) || ETag(current) != etag)
        {
            return Task.FromResult(false);
        }
        _objects[key] = data.ToArray();
        return Task.FromResult(true);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (string key in _objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            yield return new ObjectInfo(key, null);
        }
    }

    public Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([.. _objects.Keys.Where(k => k.Contains('/')).Select(k => k[..k.IndexOf('/')]).Distinct()]);

    public Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        foreach (string key in keys)
        {
            _objects.TryRemove(key, out _);
        }
        return Task.CompletedTask;
    }

    public Task<IWriterLease> AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken)
    {
        _objects[name + "/.writing"] = owner.ToArray();
        return Task.FromResult<IWriterLease>(new Lease(this, name));
    }

    sealed class Lease(MemoryStore store, string name) : IWriterLease
    {
        public Task RefreshAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ReleaseAsync(bool abandoned, CancellationToken cancellationToken)
        {
            store._objects.TryRemove(name + "/.writing", out _);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
