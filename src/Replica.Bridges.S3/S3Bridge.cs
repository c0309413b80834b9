using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;

namespace Replica.Bridges.S3;

/// <summary>
/// A bridge in an S3 bucket (AWS or any S3-compatible server), laid out like the local bridge under the prefix:
/// <code>
/// prefix/index.json              complete dumps: {"version":1,"dumps":[...]}, updated by compare-and-swap
/// prefix/dump-1/000000.chunk ... chunks, zero-padded so that key order is restore order
/// prefix/dump-1/manifest.json    written once (If-None-Match: *) after the last chunk; the source of truth
/// prefix/dump-1/.writing         the writer's claim on the name (If-None-Match: *), rewritten every minute while the
///                                writer works (its age tells a dead writer), removed once the dump is listed
/// </code>
/// There is no lock: index.json is read with its ETag and written back with If-Match (If-None-Match: * when absent);
/// a writer that loses the race reads again, merges and retries after a random delay. A dump is listed only after
/// every chunk and its manifest are stored. Thread-safe; several processes may share one prefix.
/// </summary>
public sealed partial class S3Bridge : IBridge, IIndexRebuild, IAbandonedCleanup, IDisposable
{
    internal const string WritingMarkerName = ".writing";

    readonly S3BridgeOptions _options;
    readonly S3Store _store;

    /// <summary>Checks <paramref name="options"/> (<see cref="ConfigException"/> when invalid) and sets up the S3 client.</summary>
    public S3Bridge(S3BridgeOptions options)
        : this(options, testHandler: null)
    {
    }

    /// <summary>Test hook: <paramref name="testHandler"/> carries every HTTP request (fault injection).</summary>
    internal S3Bridge(S3BridgeOptions options, HttpMessageHandler? testHandler)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _store = new S3Store(options, testHandler);
    }

    public S3BridgeOptions Options => _options;

    public string Description =>
        _options.EndpointUrl is null
            ? $"S3 bucket s3://{_options.Bucket}/{_options.Prefix}"
            : $"S3 bucket s3://{_options.Bucket}/{_options.Prefix} at {_options.EndpointUrl}";

    internal S3Store Store => _store;

    internal string IndexKey => _options.Prefix + LocalBridge.IndexFileName;

    /// <summary>The key prefix of a dump's objects. The trailing '/' is what keeps "dump-1" from matching "dump-10".</summary>
    internal string DumpPrefix(string name) => _options.Prefix + name + "/";

    internal string ChunkObjectKey(string name, int index) => DumpPrefix(name) + LocalBridge.ChunkKey(index);

    internal string ManifestKey(string name) => DumpPrefix(name) + LocalBridge.ManifestFileName;

    internal string MarkerKey(string name) => DumpPrefix(name) + WritingMarkerName;

    public void Dispose() => _store.Dispose();

    public async Task<IDumpWriter> BeginDumpAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index.Find(name) is not null)
        {
            throw new BridgeException($"A dump named '{name}' already exists in {Description}.");
        }

        long createdAt = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        // For a person looking at a stuck dump: who is (or was) writing it.
        byte[] owner = System.Text.Encoding.UTF8.GetBytes(
            $"pid {Environment.ProcessId} on {Environment.MachineName} since {DateTimeOffset.FromUnixTimeMilliseconds(createdAt):O}\n");
        string markerKey = MarkerKey(name);
        try
        {
            // Claims the name atomically: of two writers starting the same dump, exactly one gets here.
            await _store.PutAsync(markerKey, owner, $"claim the name of dump '{name}' with", cancellationToken,
                ifNoneMatch: "*", contentType: "text/plain").ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex))
        {
            throw new BridgeException(
                $"A dump named '{name}' is being written to {Description} by another process (s3://{_options.Bucket}/{markerKey} exists); "
                + "if that writer died, 'replica delete --abandoned' removes what it left once its marker is older than --stale-after (1 h).",
                ex);
        }

        // Objects of an earlier dump of this name that is not listed (a delete that died, a dump listed meanwhile) must
        // never be mixed with ours.
        string? foreign = null;
        await foreach (S3Object item in _store.ListAsync(DumpPrefix(name), cancellationToken).ConfigureAwait(false))
        {
            if (item.Key != markerKey)
            {
                foreign = item.Key;
                break;
            }
        }
        if (foreign is not null)
        {
            await _store.DeleteAsync([markerKey], cancellationToken).ConfigureAwait(false);
            throw new BridgeException(
                $"The name '{name}' is taken in {Description}: s3://{_options.Bucket}/{foreign} exists but no dump '{name}' is being written; "
                + "'replica delete --abandoned' removes such leftovers once they are older than --stale-after (1 h); or choose another name.");
        }
        return new S3DumpWriter(this, name, createdAt, owner);
    }

    public async Task<IReadOnlyList<DumpEntry>> ListAsync(CancellationToken cancellationToken)
    {
        (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        var complete = new List<DumpEntry>(index.Dumps.Count);
        foreach (DumpEntry entry in index.Dumps)
        {
            if (entry.Status == DumpEntry.Complete)
            {
                complete.Add(entry);
            }
        }
        complete.Sort(DumpOrdering.OldestFirst);
        return complete;
    }

    public async Task<DumpManifest> ReadManifestAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index.Find(name) is not { Status: DumpEntry.Complete })
        {
            throw new BridgeException($"There is no complete dump named '{name}' in {Description}.");
        }
        return await ReadStoredManifestAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new IntegrityException(
                $"Dump '{name}' is listed in {LocalBridge.IndexFileName} but its manifest s3://{_options.Bucket}/{ManifestKey(name)} is missing.");
    }

    public async Task<byte[]> ReadChunkAsync(string name, ChunkInfo chunk, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        ArgumentNullException.ThrowIfNull(chunk);
        if (!IsPlainObjectName(chunk.Key))
        {
            // The key comes from a manifest someone could edit; it must not lead outside the dump's folder.
            BridgeThrow.ChunkIntegrity(name, chunk, "the key is not a plain object name");
        }
        string key = DumpPrefix(name) + chunk.Key;
        StoredObject? stored = await _store.GetAsync(key, $"read chunk {chunk.Index} of dump '{name}' from", length =>
        {
            // Checked before allocating, so a damaged object can never make us allocate more than the manifest promised.
            if (length != chunk.Size)
            {
                BridgeThrow.ChunkIntegrity(name, chunk, $"s3://{_options.Bucket}/{key} has {length} bytes, the manifest says {chunk.Size}");
            }
        }, cancellationToken).ConfigureAwait(false);
        return stored?.Data ?? throw new IntegrityException(
            $"Dump '{name}', chunk {chunk.Index} ({chunk.Key}): the chunk is missing (s3://{_options.Bucket}/{key} does not exist).");
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        string prefix = DumpPrefix(name);
        var keys = new List<string>();
        S3Object? marker = null;
        await foreach (S3Object item in _store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
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
        if (!listed && marker is not null && !IsAbandoned(marker))
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
    /// live writer rewrites every <see cref="S3BridgeOptions.MarkerRefreshInterval"/>, or anything else) is older than
    /// <paramref name="staleAfter"/>: leftovers of killed writers and of deletes that died halfway. Also aborts their
    /// unfinished multipart uploads. The index is read after a folder is listed, so a dump listed meanwhile (whose
    /// objects are fresh anyway) is never touched. Returns the names removed, which can be used again.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteAbandonedAsync(TimeSpan staleAfter, bool dryRun, CancellationToken cancellationToken)
    {
        MarkerRefresher.RequireStaleAfter(staleAfter, _options.MarkerRefreshInterval);
        var abandoned = new List<string>();
        foreach (string folder in await _store.ListFoldersAsync(_options.Prefix, cancellationToken).ConfigureAwait(false))
        {
            string name = folder[_options.Prefix.Length..^1];
            if (!DumpName.IsValid(name, out _))
            {
                continue;
            }
            var keys = new List<string>();
            DateTimeOffset newest = DateTimeOffset.MinValue;
            await foreach (S3Object item in _store.ListAsync(DumpPrefix(name), cancellationToken).ConfigureAwait(false))
            {
                keys.Add(item.Key);
                DateTimeOffset modified = item.LastModified is { } time
                    ? new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero)
                    : DateTimeOffset.MaxValue; // no date: never provably old
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
                await _store.AbortUploadsAsync(DumpPrefix(name), cancellationToken).ConfigureAwait(false);
                await DeleteDumpObjectsAsync(name, keys, cancellationToken).ConfigureAwait(false);
            }
        }
        return abandoned;
    }

    /// <summary>
    /// Recreates index.json from the manifests under the prefix (for `replica index rebuild`, after index.json was lost or
    /// damaged): every folder with a valid manifest is listed, folders without one (dumps being written or abandoned)
    /// are not. Dumps that writers list while the rebuild runs are kept. Returns the new index's entries, oldest first.
    /// A manifest that cannot be read is an <see cref="IntegrityException"/> naming it; the index is then left as it was.
    /// </summary>
    public async Task<IReadOnlyList<DumpEntry>> RebuildIndexAsync(CancellationToken cancellationToken)
    {
        var found = new List<DumpEntry>();
        foreach (string folder in await _store.ListFoldersAsync(_options.Prefix, cancellationToken).ConfigureAwait(false))
        {
            string name = folder[_options.Prefix.Length..^1];
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

    /// <summary>The index entry a dump's manifest stands for; the same one its writer listed.</summary>
    static DumpEntry EntryOf(DumpManifest manifest) =>
        new(manifest.Name, DumpEntry.Complete, manifest.SizeIn, manifest.SizeOut, manifest.CreatedAt, manifest.Compressed,
            manifest.Encrypted, manifest.Chunks.Count);

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

    /// <summary>A dump's manifest as stored, or null when it has none (yet).</summary>
    internal async Task<DumpManifest?> ReadStoredManifestAsync(string name, CancellationToken cancellationToken)
    {
        string key = ManifestKey(name);
        StoredObject? stored = await _store.GetAsync(key, $"read the manifest of dump '{name}' from", null, cancellationToken)
            .ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }
        return BridgeJson.ReadManifest(stored.Data, name, $"s3://{_options.Bucket}/{key}");
    }

    /// <summary>
    /// Deletes a dump's objects (<paramref name="keys"/>, as listed): manifest first, marker last, so that at every
    /// moment what is left is either unlisted-and-unrebuildable or still claimed.
    /// </summary>
    internal async Task DeleteDumpObjectsAsync(string name, List<string> keys, CancellationToken cancellationToken)
    {
        string manifestKey = ManifestKey(name);
        string markerKey = MarkerKey(name);
        if (keys.Contains(manifestKey))
        {
            await _store.DeleteAsync([manifestKey], cancellationToken).ConfigureAwait(false);
        }
        var rest = new List<string>(keys.Count);
        foreach (string key in keys)
        {
            if (key != manifestKey && key != markerKey)
            {
                rest.Add(key);
            }
        }
        await _store.DeleteAsync(rest, cancellationToken).ConfigureAwait(false);
        if (keys.Contains(markerKey))
        {
            await _store.DeleteAsync([markerKey], cancellationToken).ConfigureAwait(false);
        }
    }

    bool IsAbandoned(S3Object marker) =>
        marker.LastModified is { } modified
        && _options.TimeProvider.GetUtcNow() - new DateTimeOffset(modified.ToUniversalTime(), TimeSpan.Zero) > _options.AbandonedAfter;

    static bool IsPlainObjectName(string key) =>
        key.Length > 0 && key[0] != '.' && key.IndexOfAny(['/', '\\']) < 0;
}
