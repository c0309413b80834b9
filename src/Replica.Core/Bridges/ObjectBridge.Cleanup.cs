namespace Replica.Bridges;

// Removing dumps: one dump (`replica delete`), what dead writers left (`delete --abandoned`, and on a directory store
// before every dump), and recreating index.json from the manifests (`replica index rebuild`). On a store with a lock
// (IDirectoryStore) each runs under it, and a folder is moved aside in one step before it is deleted.
public partial class ObjectBridge
{
    /// <summary>
    /// Removes a dump's objects and index entry, then the shares of it (`replica share`: their links could only fail
    /// now); touches no other dump. An unlisted dump whose writer is alive is refused:
    /// a directory store knows by its writer's lock; elsewhere a writer marker younger than
    /// <see cref="ObjectBridgeOptions.AbandonedAfter"/> is taken as a writer at work.
    /// </summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        string? moved = null;
        await using (await LockAsync(create: false, cancellationToken).ConfigureAwait(false))
        {
            // Listed before the index is read: a dump listed meanwhile is then deleted whole, never left listed but gone.
            // A directory store moves the folder aside whole: whether it holds anything is all it needs to know, not
            // the names of its files (tens of thousands for a large dump).
            DumpFolder folder = await ScanFolderAsync(name, firstOnly: _directory is not null, cancellationToken).ConfigureAwait(false);
            (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            bool listed = index.Find(name) is not null;
            if (!listed && folder.Keys.Count == 0)
            {
                throw new BridgeException($"There is no dump named '{name}' in {Description}.");
            }
            if (_directory is not null && folder.Keys.Count > 0)
            {
                await RefuseAliasAsync(name, cancellationToken).ConfigureAwait(false);
            }
            if (folder.Foreign is { } foreign)
            {
                // An index entry anyone could have edited in, or a name typed at the root of a bucket that holds other
                // bridges: the folder is not a dump's, and none of it is ours to delete.
                throw new BridgeException($"'{name}' in {Description} is not a dump's folder: {_store.Show(foreign)} is no object a dump "
                    + $"holds (another bridge's, or something else put there); nothing was deleted{(listed ? " ('replica index rebuild' drops an entry without a manifest)" : "")}.");
            }
            if (!listed)
            {
                if (_directory is not null)
                {
                    if (await _directory.IsWriterAliveAsync(name, cancellationToken).ConfigureAwait(false))
                    {
                        throw new BridgeException($"Dump '{name}' in {Description} is being written; it cannot be deleted now.");
                    }
                }
                else if (folder.Marker is { } marker && !IsOlderThan(marker, _options.AbandonedAfter))
                {
                    throw new BridgeException(
                        $"Dump '{name}' in {Description} is being written (its writer marker is from {marker.LastModified:u}); it cannot be deleted now.");
                }
            }

            if (_directory is not null)
            {
                // Folder first, in one step: if we die before the index is written, the entry points at nothing and a
                // second delete removes it; the other order would leave an unlisted folder that blocks the name.
                moved = await _directory.MoveAsideAsync(name, cancellationToken).ConfigureAwait(false);
                if (listed)
                {
                    await RemoveFromIndexAsync(name, only: null, lockHeld: true, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                // The manifest first: a rebuild of the index that runs meanwhile checks every manifest again inside its
                // compare-and-swap, so it either wrote before this unlisting (which then removes its entry) or sees the
                // manifest gone. (Unlisted first, a rebuild that had scanned the manifest listed the dump again once it
                // was gone: found by review.) A restore that starts in between fails on the missing manifest. Then
                // unlisted; then the chunks, and the marker (if any) last.
                string manifestKey = ManifestKey(name);
                List<string> rest = folder.Keys.Where(k => k != manifestKey).ToList();
                if (folder.Marker is null && rest.Count > 0)
                {
                    // The name stays claimed, by a marker of the delete's own, until the last object is gone: unlisted,
                    // with its folder emptied by a DeleteObjects whose answer was lost, a writer could claim it and store
                    // chunks of the same names before the retry, which deleted them, and that dump was listed without
                    // them (found by review). A folder that holds a marker already keeps it until last.
                    if (!await ClaimForRemovalAsync(name, cancellationToken).ConfigureAwait(false))
                    {
                        throw new BridgeException($"Dump '{name}' in {Description} is being deleted or written by another process "
                            + $"({_store.Show(MarkerKey(name))} appeared); nothing was deleted.");
                    }
                    rest.Add(MarkerKey(name));
                }
                if (folder.Keys.Contains(manifestKey))
                {
                    await _store.DeleteAsync([manifestKey], cancellationToken).ConfigureAwait(false);
                }
                if (listed)
                {
                    await RemoveFromIndexAsync(name, only: null, lockHeld: true, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // Rewritten unchanged, conditionally: a rebuild that found this manifest before it was deleted then
                    // fails its compare-and-swap and checks again, where it would have listed an unlisted dump's folder
                    // being deleted (found by review). Best effort: a damaged index is rebuild's to replace.
                    try
                    {
                        await UpdateIndexAsync(static (_, _) => ValueTask.FromResult(true), lockHeld: true, damagedIsEmpty: false, cancellationToken).ConfigureAwait(false);
                    }
                    catch (BridgeException)
                    {
                        // the delete goes on
                    }
                }
                await DeleteDumpObjectsAsync(name, rest, cancellationToken).ConfigureAwait(false);
            }
        }
        if (moved is not null)
        {
            // Outside the lock: nobody sees the folder any more, and deleting a large dump takes a while.
            await _directory!.DeleteMovedAsync(moved, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            await DumpShare.DeleteSharesOfAsync(this, name, cancellationToken).ConfigureAwait(false);
        }
        catch (BridgeException ex)
        {
            throw new BridgeException($"Dump '{name}' is deleted, but its shares could not be (replica share --list names them; "
                + $"replica share --revoke ID deletes one): {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Refuses to delete <paramref name="name"/> from a directory store unless a folder of exactly that name is there: a
    /// file system that ignores case (macOS, Windows) or trailing dots (Windows) opens the folder of dump 'dump-1' for
    /// 'DUMP-1' or 'dump-1.', which is unlisted and writerless by its own name, so `replica delete DUMP-1` moved the listed
    /// dump's folder aside and deleted it (found by review).
    /// </summary>
    async Task RefuseAliasAsync(string name, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> folders = await _store.ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        if (folders.Contains(name, StringComparer.Ordinal))
        {
            return;
        }
        string[] alike = [.. folders.Where(f => string.Equals(f.TrimEnd('.'), name.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))];
        throw new BridgeException($"There is no folder named '{name}' in {Description}, yet its file system finds one under that name"
            + (alike.Length > 0 ? $" ('{string.Join("', '", alike)}': it ignores case or trailing dots)" : "")
            + "; nothing was deleted. Give the name exactly as 'replica list' shows it.");
    }

    /// <summary>
    /// Removes the objects of every dump folder that is not listed and whose writer is gone (see
    /// <see cref="IAbandonedCleanup.DeleteAbandonedAsync"/>): on a directory store, a folder with a writer marker that
    /// nobody holds and that was last refreshed longer than <paramref name="staleAfter"/> ago (the age matters where
    /// locks cannot be trusted, such as some network file systems); elsewhere a folder whose newest object (the writer's
    /// marker, which a live writer refreshes every <see cref="ObjectBridgeOptions.MarkerRefreshInterval"/>, or anything
    /// else, such as the chunks a delete that died halfway left) is older than that. Returns the names removed, which
    /// can be used again.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteAbandonedAsync(TimeSpan staleAfter, bool dryRun, CancellationToken cancellationToken)
    {
        MarkerRefresher.RequireStaleAfter(staleAfter, _options.MarkerRefreshInterval);
        return await RemoveAbandonedAsync(staleAfter, dryRun, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// On a directory store (which tells a dead writer at once, by its free lock): removes the folders of writers that
    /// died before completing, whatever their marker's age, and leftovers of interrupted removals. Never touches listed
    /// dumps, live writers, or folders this bridge did not create. Returns the names of the abandoned dumps it removed.
    /// <see cref="BeginDumpAsync"/> runs it first. On any other store it removes nothing: only a marker's age can tell
    /// a dead writer there (<see cref="DeleteAbandonedAsync"/>).
    /// </summary>
    public async Task<IReadOnlyList<string>> CleanupAbandonedAsync(CancellationToken cancellationToken)
    {
        if (_directory is null)
        {
            return [];
        }
        IReadOnlyList<string> removed = await RemoveAbandonedAsync(staleAfter: null, dryRun: false, cancellationToken).ConfigureAwait(false);
        await _directory.DeleteMovedAsync(null, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <summary>
    /// The one pass behind <see cref="DeleteAbandonedAsync"/> (with <paramref name="staleAfter"/>) and
    /// <see cref="CleanupAbandonedAsync"/> (without: a directory store's free writer lock is enough).
    /// </summary>
    async Task<IReadOnlyList<string>> RemoveAbandonedAsync(TimeSpan? staleAfter, bool dryRun, CancellationToken cancellationToken)
    {
        var abandoned = new List<string>();
        var moved = new List<string>();
        await using (await LockAsync(create: false, cancellationToken).ConfigureAwait(false))
        {
            foreach (string name in await _store.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!DumpName.IsValid(name, out _))
                {
                    // Not a folder this bridge made.
                    continue;
                }
                DumpFolder folder = await ScanFolderAsync(name, firstOnly: false, cancellationToken).ConfigureAwait(false);
                if (folder.Keys.Count == 0)
                {
                    // Only a directory has empty folders: its writer died between removing its marker and its folder.
                    if (_directory is not null && staleAfter is null && !await IsListedAsync(name, cancellationToken).ConfigureAwait(false))
                    {
                        await _directory.RemoveIfEmptyAsync(name, cancellationToken).ConfigureAwait(false);
                    }
                    continue;
                }
                // The index is read after the folder is listed, so a dump listed meanwhile (whose objects are fresh
                // anyway) is never touched; a folder holding what no dump holds (another bridge nested in ours) never is.
                if (folder.Foreign is not null || !IsStale(folder, staleAfter) || await IsListedAsync(name, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }
                if (_directory is not null && await _directory.IsWriterAliveAsync(name, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }
                abandoned.Add(name);
                if (dryRun)
                {
                    continue;
                }
                if (_directory is not null)
                {
                    if (await _directory.MoveAsideAsync(name, cancellationToken).ConfigureAwait(false) is { } aside)
                    {
                        moved.Add(aside);
                    }
                }
                else
                {
                    await RemovingAbandonedAsync(name, cancellationToken).ConfigureAwait(false);
                    // The marker first: a writer that was only paused finds its lease gone at its next refresh (If-Match)
                    // or before its manifest. Deleted last, a writer that woke up while the chunks went refreshed it and
                    // listed a dump whose first chunks were gone (found by review). Left without a marker, the rest is
                    // still stale to the next cleanup (every object's age counts here).
                    string markerKey = MarkerKey(name);
                    if (folder.Keys.Contains(markerKey))
                    {
                        await _store.DeleteAsync([markerKey], cancellationToken).ConfigureAwait(false);
                        // Then index.json is rewritten (a new revision, so a new ETag) unless the dump got listed since
                        // the check above: a writer checks that its marker is still its own inside the compare-and-swap
                        // that lists its dump, so either its listing came first (then the folder is a complete dump's and
                        // is left alone: only its marker, which it removes once listed anyway, is gone) or this rewrite
                        // did, and the writer's write, on the version it read before it saw its marker, fails; its next
                        // try finds the marker gone. Without it a writer paused between its check and its write listed
                        // its dump over the folder emptied here (and maybe claimed by another writer since): found by review.
                        bool listedMeanwhile = false;
                        await UpdateIndexAsync((index, _) =>
                        {
                            listedMeanwhile = index.Find(name) is not null;
                            return ValueTask.FromResult(!listedMeanwhile);
                        }, lockHeld: true, damagedIsEmpty: false, cancellationToken).ConfigureAwait(false);
                        if (listedMeanwhile)
                        {
                            abandoned.Remove(name);
                            continue;
                        }
                    }
                    // Claimed again, by a marker of the cleanup's own, until the last object is gone (see DeleteAsync): a
                    // retried DeleteObjects must not delete the chunks of a writer that claimed the name meanwhile. Taken
                    // already: that writer finds this folder's leftovers and gives the name up; the next cleanup goes on.
                    List<string> rest = folder.Keys.Where(k => k != markerKey).ToList();
                    if (!await ClaimForRemovalAsync(name, cancellationToken).ConfigureAwait(false))
                    {
                        abandoned.Remove(name);
                        continue;
                    }
                    rest.Add(markerKey);
                    await DeleteDumpObjectsAsync(name, rest, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        foreach (string aside in moved)
        {
            await _directory!.DeleteMovedAsync(aside, cancellationToken).ConfigureAwait(false);
        }
        return abandoned;
    }

    /// <summary>
    /// Claims dump <paramref name="name"/>'s name on an object store while its objects are removed: a writer marker that
    /// says so, written only if there is none (false when there is). Its age keeps `delete --abandoned` away while it is
    /// young; removed last, or aged into a leftover of its own when the removal dies.
    /// </summary>
    Task<bool> ClaimForRemovalAsync(string name, CancellationToken cancellationToken)
    {
        byte[] marker = System.Text.Encoding.UTF8.GetBytes(
            $"removing dump '{name}': pid {Environment.ProcessId} on {Environment.MachineName} since {_options.TimeProvider.GetUtcNow():O}, remover {Guid.NewGuid():N}\n");
        return _store.PutIfAbsentAsync(MarkerKey(name), marker, $"claim the name of dump '{name}' while it is removed, at", cancellationToken);
    }

    /// <summary>
    /// Whether <paramref name="folder"/> has shown no sign of life for longer than <paramref name="staleAfter"/>. A
    /// directory store removes folders in one step, so only a folder with a writer marker is a leftover of ours (and a
    /// link such as latest -> dump-1 is left alone); its marker's age, stamped on the bridge's clock, is the second
    /// opinion to the writer's lock, and without <paramref name="staleAfter"/> (cleanup) the lock alone decides.
    /// Elsewhere every object counts: the marker a live writer refreshes, or the chunks a delete that died halfway left.
    /// </summary>
    bool IsStale(DumpFolder folder, TimeSpan? staleAfter)
    {
        if (_directory is not null)
        {
            return folder.Marker is { } marker && (staleAfter is not { } age || IsOlderThan(marker, age));
        }
        return staleAfter is { } stale && _options.TimeProvider.GetUtcNow() - folder.Newest > stale;
    }

    async Task<bool> IsListedAsync(string name, CancellationToken cancellationToken)
    {
        (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        return index.Find(name) is not null;
    }

    /// <summary>
    /// What a dump's folder holds: its keys, its writer marker if any, when anything in it was last written, and on a
    /// store without <see cref="IDirectoryStore"/> the first key that is no object of a dump (null when none).
    /// </summary>
    sealed record DumpFolder(List<string> Keys, ObjectInfo? Marker, DateTimeOffset Newest, string? Foreign);

    /// <summary>The objects of a dump's folder; with <paramref name="firstOnly"/> only the first (is there anything?).</summary>
    async Task<DumpFolder> ScanFolderAsync(string name, bool firstOnly, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        ObjectInfo? marker = null;
        DateTimeOffset newest = DateTimeOffset.MinValue;
        string? foreign = null;
        await foreach (ObjectInfo item in _store.ListAsync(DumpPrefix(name), cancellationToken).ConfigureAwait(false))
        {
            keys.Add(item.Key);
            if (foreign is null && !IsDumpObject(name, item.Key))
            {
                foreign = item.Key;
            }
            if (item.Key == MarkerKey(name))
            {
                marker = item;
            }
            DateTimeOffset modified = item.LastModified ?? DateTimeOffset.MaxValue; // no date: never provably old
            if (modified > newest)
            {
                newest = modified;
            }
            if (firstOnly)
            {
                break;
            }
        }
        return new DumpFolder(keys, marker, newest, foreign);
    }

    /// <summary>
    /// Whether <paramref name="key"/> is one a dump's writer (or a copy) stores in dump <paramref name="name"/>'s folder:
    /// its marker, or a plain file name (chunks, chunk lists, the manifest) directly in it. "name/index.json" and
    /// "name/dump-1/..." are another bridge's, nested in this one (a bridge at the bucket root and one at "name/").
    /// A directory store's folders are its own: a folder is moved aside whole, and its writes leave files of their own.
    /// </summary>
    internal bool IsDumpObject(string name, string key)
    {
        if (_directory is not null)
        {
            return true;
        }
        string prefix = DumpPrefix(name);
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }
        string file = key[prefix.Length..];
        return file == MarkerName || (IsPlainName(file) && file != IndexKey);
    }

    /// <summary>Runs before the objects of an abandoned dump are removed (S3: aborts its unfinished multipart uploads).</summary>
    protected virtual Task RemovingAbandonedAsync(string name, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Recreates index.json from the manifests (for `replica index rebuild`, after index.json was lost or damaged):
    /// every folder with a valid manifest is listed, folders without one (dumps being written or abandoned) are not.
    /// Dumps that writers list while the rebuild runs are kept. Returns the new index's entries, oldest first. A manifest
    /// that cannot be read is an <see cref="IntegrityException"/> naming it; the index is then left as it was.
    /// </summary>
    public async Task<IReadOnlyList<DumpEntry>> RebuildIndexAsync(CancellationToken cancellationToken)
    {
        await using (await LockAsync(create: false, cancellationToken).ConfigureAwait(false))
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
                // Each found dump's manifest again, inside the compare-and-swap: a delete that ran since the scan removed
                // it before it unlisted the dump (see DeleteAsync), so a dump deleted meanwhile is not listed again.
                rebuilt = new List<DumpEntry>(found.Count);
                foreach (DumpEntry entry in found)
                {
                    if (_directory is not null
                        || await _store.GetAsync(ManifestKey(entry.Name), $"read the manifest of dump '{entry.Name}' from",
                            Capped(MaxManifestBytes, () => $"the manifest of dump '{entry.Name}'"), ct).ConfigureAwait(false) is not null)
                    {
                        rebuilt.Add(entry);
                    }
                }
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
            }, lockHeld: true, damagedIsEmpty: true, cancellationToken).ConfigureAwait(false);
            return rebuilt;
        }
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
