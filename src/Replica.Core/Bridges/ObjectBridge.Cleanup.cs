namespace Replica.Bridges;

// Removing dumps: one dump (`replica delete`), what dead writers left (`delete --abandoned`), and recreating index.json
// from the manifests (`replica index rebuild`).
public partial class ObjectBridge
{
    /// <summary>
    /// Removes a dump's objects and index entry; touches no other dump. An unlisted dump whose writer marker is younger
    /// than <see cref="ObjectBridgeOptions.AbandonedAfter"/> is taken as being written and refused.
    /// </summary>
    public virtual async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        var keys = new List<string>();
        ObjectInfo? marker = null;
        await foreach (ObjectInfo item in _store.ListAsync(DumpPrefix(name), cancellationToken).ConfigureAwait(false))
        {
            keys.Add(item.Key);
            if (item.Key == MarkerKey(name))
            {
                marker = item;
            }
        }

        (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        bool listed = index.Find(name) is not null;
        if (!listed && keys.Count == 0)
        {
            throw new BridgeException($"There is no dump named '{name}' in {Description}.");
        }
        if (!listed && marker is not null && !IsOlderThan(marker, _options.AbandonedAfter))
        {
            throw new BridgeException(
                $"Dump '{name}' in {Description} is being written (its writer marker is from {marker.LastModified:u}); it cannot be deleted now.");
        }

        // Unlisted first, so that nobody starts restoring a dump that is half gone; then the manifest, so that a rebuild
        // of the index never lists it again; then the chunks, and the marker (if any) last.
        if (listed)
        {
            await RemoveFromIndexAsync(name, only: null, cancellationToken).ConfigureAwait(false);
        }
        await DeleteDumpObjectsAsync(name, keys, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes the objects of every dump folder that is not listed and whose newest object (the writer's marker, which a
    /// live writer refreshes every <see cref="ObjectBridgeOptions.MarkerRefreshInterval"/>, or anything else) is older
    /// than <paramref name="staleAfter"/>: leftovers of killed writers and of deletes that died halfway. The index is
    /// read after a folder is listed, so a dump listed meanwhile (whose objects are fresh anyway) is never touched.
    /// Returns the names removed, which can be used again.
    /// </summary>
    public virtual async Task<IReadOnlyList<string>> DeleteAbandonedAsync(TimeSpan staleAfter, bool dryRun, CancellationToken cancellationToken)
    {
        MarkerRefresher.RequireStaleAfter(staleAfter, _options.MarkerRefreshInterval);
        var abandoned = new List<string>();
        foreach (string name in await _store.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!DumpName.IsValid(name, out _))
            {
                continue;
            }
            var keys = new List<string>();
            DateTimeOffset newest = DateTimeOffset.MinValue;
            await foreach (ObjectInfo item in _store.ListAsync(DumpPrefix(name), cancellationToken).ConfigureAwait(false))
            {
                keys.Add(item.Key);
                DateTimeOffset modified = item.LastModified ?? DateTimeOffset.MaxValue; // no date: never provably old
                if (modified > newest)
                {
                    newest = modified;
                }
            }
            if (keys.Count == 0 || _options.TimeProvider.GetUtcNow() - newest <= staleAfter)
            {
                continue;
            }
            (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            if (index.Find(name) is not null)
            {
                continue;
            }
            abandoned.Add(name);
            if (!dryRun)
            {
                await RemovingAbandonedAsync(name, cancellationToken).ConfigureAwait(false);
                await DeleteDumpObjectsAsync(name, keys, cancellationToken).ConfigureAwait(false);
            }
        }
        return abandoned;
    }

    /// <summary>Runs before the objects of an abandoned dump are removed (S3: aborts its unfinished multipart uploads).</summary>
    protected virtual Task RemovingAbandonedAsync(string name, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Recreates index.json from the manifests (for `replica index rebuild`, after index.json was lost or damaged):
    /// every folder with a valid manifest is listed, folders without one (dumps being written or abandoned) are not.
    /// Dumps that writers list while the rebuild runs are kept. Returns the new index's entries, oldest first. A manifest
    /// that cannot be read is an <see cref="IntegrityException"/> naming it; the index is then left as it was.
    /// </summary>
    public virtual async Task<IReadOnlyList<DumpEntry>> RebuildIndexAsync(CancellationToken cancellationToken)
    {
        var found = new List<DumpEntry>();
        foreach (string name in await _store.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!DumpName.IsValid(name, out _))
            {
                // Not a folder this bridge made.
                continue;
            }
            DumpManifest? manifest = await ReadStoredManifestAsync(name, cancellationToken).ConfigureAwait(false);
            if (manifest is not null)
            {
                found.Add(EntryOf(manifest));
            }
        }

        List<DumpEntry> rebuilt = [];
        await UpdateIndexAsync(async (index, ct) =>
        {
            rebuilt = new List<DumpEntry>(found);
            foreach (DumpEntry current in index.Dumps)
            {
                // Listed after our scan of its folder, or its folder was scanned before its manifest existed.
                if (!ContainsName(rebuilt, current.Name) && await ReadStoredManifestAsync(current.Name, ct).ConfigureAwait(false) is { } manifest)
                {
                    rebuilt.Add(EntryOf(manifest));
                }
            }
            rebuilt.Sort(DumpOrdering.OldestFirst);
            index.Dumps = rebuilt;
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return rebuilt;
    }

    static bool ContainsName(List<DumpEntry> entries, string name)
    {
        foreach (DumpEntry entry in entries)
        {
            if (string.Equals(entry.Name, name, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    bool IsOlderThan(ObjectInfo item, TimeSpan age) =>
        item.LastModified is { } modified && _options.TimeProvider.GetUtcNow() - modified > age;
}
