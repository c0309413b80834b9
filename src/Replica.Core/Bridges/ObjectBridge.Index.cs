using System.Text.Json;

namespace Replica.Bridges;

// index.json by compare-and-swap: read it with its ETag, change it, write it back only if it is still the same object
// (under the store's lock as well, where it has one).
public partial class ObjectBridge
{
    const string RebuildHint = " ('replica index rebuild' recreates it from the manifests)";

    int _indexConflicts;

    /// <summary>How many index writes lost a race and were retried; for tests and diagnostics.</summary>
    internal int IndexConflicts => Volatile.Read(ref _indexConflicts);

    /// <summary>Test hook: runs between reading index.json and writing it back, to force a lost race.</summary>
    internal Func<CancellationToken, Task>? BeforeIndexWrite { get; set; }

    /// <summary>index.json and its ETag; a missing index.json is an empty index with a null ETag.</summary>
    internal Task<(BridgeIndex Index, string? ETag)> ReadIndexAsync(CancellationToken cancellationToken) =>
        ReadIndexAsync(damagedIsEmpty: false, cancellationToken);

    /// <summary>
    /// index.json and its ETag. With <paramref name="damagedIsEmpty"/>, an index.json that does not parse reads as empty
    /// (with its ETag, so that it can be replaced): what `index rebuild` needs, which exists for exactly that case.
    /// </summary>
    async Task<(BridgeIndex Index, string? ETag)> ReadIndexAsync(bool damagedIsEmpty, CancellationToken cancellationToken)
    {
        // Capped, except for `index rebuild` (damagedIsEmpty), which replaces an index.json of any size.
        StoredObject? stored = await _store.GetAsync(IndexKey, "read the index",
            damagedIsEmpty ? null : Capped(MaxManifestBytes, () => $"the index {_store.Show(IndexKey)}"), cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return (new BridgeIndex(), null);
        }
        try
        {
            return (BridgeJson.ReadIndex(stored.Data.Span, _store.Show(IndexKey), RebuildHint), stored.ETag);
        }
        catch (BridgeException) when (damagedIsEmpty)
        {
            return (new BridgeIndex(), stored.ETag);
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current index and writes it back if it is still the version read (only
    /// if absent when there is no index yet). When another writer got there first, reads again and reapplies the change,
    /// after a random delay that grows with each lost race. <paramref name="change"/> returns false when there is nothing
    /// to write; it must be safe to run several times. Each try runs under the store's lock (<see cref="LockAsync"/>)
    /// unless the caller holds it already (<paramref name="lockHeld"/>); <paramref name="damagedIsEmpty"/> is for
    /// `index rebuild` (see <see cref="ReadIndexAsync(bool, CancellationToken)"/>).
    /// </summary>
    internal async Task UpdateIndexAsync(Func<BridgeIndex, CancellationToken, ValueTask<bool>> change, bool lockHeld,
        bool damagedIsEmpty, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            bool written;
            await using (lockHeld ? NoLock.Instance : await LockAsync(create: true, cancellationToken).ConfigureAwait(false))
            {
                (BridgeIndex index, string? etag) = await ReadIndexAsync(damagedIsEmpty, cancellationToken).ConfigureAwait(false);
                if (!await change(index, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
                index.Revision++;
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(index, BridgeJsonContext.Default.BridgeIndex);
                if (BeforeIndexWrite is { } hook)
                {
                    await hook(cancellationToken).ConfigureAwait(false);
                }
                written = await _store.PutIfMatchAsync(IndexKey, json, etag, "write the index", cancellationToken).ConfigureAwait(false);
            }
            if (written)
            {
                return;
            }
            Interlocked.Increment(ref _indexConflicts);
            if (attempt >= _options.IndexUpdateAttempts)
            {
                throw new BridgeException(
                    $"Cannot write the index {_store.Show(IndexKey)}: other writers kept changing it (after {attempt} tries); "
                    + "try again, or raise the index update attempts");
            }
            // Full jitter, 20 ms doubling up to 1 s: racing writers spread out instead of colliding again in step.
            double capMs = Math.Min(1000, 20 * Math.Pow(2, Math.Min(attempt - 1, 10)));
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * capMs), _options.TimeProvider, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Lists a completed dump. Finding the very same entry already listed is success: an earlier try whose answer was
    /// lost, or a rebuild that saw the manifest first. A different entry of that name is an error.
    /// <paramref name="beforeListing"/> runs inside the compare-and-swap, after index.json was read and before the entry is
    /// written on that read's ETag (every try): the writer's last lease check (see ObjectDumpWriter.CommitAsync).
    /// </summary>
    internal Task AddToIndexAsync(DumpEntry entry, Func<CancellationToken, Task>? beforeListing, CancellationToken cancellationToken) =>
        UpdateIndexAsync(async (index, ct) =>
        {
            DumpEntry? listed = index.Find(entry.Name);
            if (listed is null)
            {
                if (beforeListing is not null)
                {
                    await beforeListing(ct).ConfigureAwait(false);
                }
                index.Dumps.Add(entry);
                return true;
            }
            if (listed == entry)
            {
                return false;
            }
            throw new BridgeException($"A dump named '{entry.Name}' is already listed in {_store.Show(IndexKey)}.");
        }, lockHeld: false, damagedIsEmpty: false, cancellationToken);

    /// <summary>
    /// Takes a dump out of the index; with <paramref name="only"/>, only if its entry is exactly that one.
    /// <paramref name="lockHeld"/>: the caller holds the store's lock (see <see cref="UpdateIndexAsync"/>).
    /// </summary>
    internal Task RemoveFromIndexAsync(string name, DumpEntry? only, bool lockHeld, CancellationToken cancellationToken) =>
        UpdateIndexAsync((index, _) =>
        {
            DumpEntry? listed = index.Find(name);
            if (listed is null || (only is not null && listed != only))
            {
                return ValueTask.FromResult(false);
            }
            index.Remove(name);
            return ValueTask.FromResult(true);
        }, lockHeld, damagedIsEmpty: false, cancellationToken);
}
