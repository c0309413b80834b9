using System.Buffers;
using System.Text.Json;

namespace Replica.Bridges;

/// <summary>
/// Writes one dump into its folder of an <see cref="ObjectBridge"/>: each chunk is stored as it comes and only its
/// number, size and SHA-256 are kept, until a part has <see cref="ObjectBridgeOptions.ChunkListLength"/> of them: they
/// are then stored as a chunk list (bridge format v3) and let go, so memory is the caller's chunk buffer and at most one
/// list per part (~48 bytes a chunk), whatever the size of the dump. A dump of many short parts keeps every part's
/// chunks for the manifest, as before: memory grows with its chunk count, not its size. Holds the name through the writer lease from
/// BeginDumpAsync until the dump is listed (or removed), refreshing it meanwhile. Numbers its parts 0, 1, ... in the
/// order they begin, which is their restore order. Thread-safe: several parts may be written at once (replica dump
/// --jobs), each by one caller in chunk order (<see cref="WriteChunkAsync(int, ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/>);
/// the manifest lists the parts in the order they began, whatever order they finished in.
/// </summary>
internal sealed class ObjectDumpWriter : IDumpWriter
{
    enum State { Open, Completed, Failed, Disposed }

    /// <summary>
    /// A part begun: its kind, table, how many chunks are stored in it, the chunk lists stored for it and the chunks
    /// stored since the last list (numbered within the part), in order.
    /// </summary>
    sealed class Part(int index, string kind, string? table)
    {
        public int Index { get; } = index;
        public string Kind { get; } = kind;
        public string? Table { get; } = table;
        public int ChunkCount { get; set; }
        public List<ChunkListInfo> Lists { get; } = [];
        /// <summary>
        /// The chunks stored since the last list, compactly (the ChunkInfo and its strings are made when the list or the
        /// manifest is written): ChunkInfos kept for ~1,000 chunks aged into the GC's oldest generation and became garbage
        /// there once listed, and a bridge dump's RSS grew with it (+10 MB of committed GC memory over 30 GiB).
        /// </summary>
        public List<ChunkEntry> Pending { get; } = [];
        /// <summary>A chunk of this part is being stored (a part's chunks come one at a time, in order).</summary>
        public bool Storing { get; set; }

        public PartInfo ToInfo() => new(Index, Kind, ChunkCount) { Table = Table, ChunkLists = Lists.Count > 0 ? [.. Lists] : null };
    }

    readonly ObjectBridge _bridge;
    readonly IObjectStore _store;
    readonly IWriterLease _lease;
    // What the writer put in its marker: a marker that holds anything else is another writer's.
    readonly byte[] _owner;
    readonly long _createdAt;
    // Guards the parts, their chunks and the state; nothing is awaited under it.
    readonly Lock _lock = new();
    readonly List<Part> _parts = [];
    readonly MarkerRefresher _refresher;
    long _sizeOut;
    volatile State _state;
    // Set once CompleteAsync tries to list the dump: from then on the entry may be in index.json.
    DumpEntry? _entry;
    // Why the writer failed, for the message when cleaning up after it fails too.
    Exception? _failure;
    // The writer lost its lease (see EnsureLeaseHeldAsync): its folder may be somebody else's now, so nothing in it is
    // removed on the way out.
    volatile bool _leaseLost;
    // The buffers chunk lists are written into, one per part storing a list at once, kept for the writer's life (under
    // _lock): a new ~184 KB array per 1,024 chunks went to the large object heap, and lay there as garbage until a
    // gen2 GC (issue 12).
    readonly Stack<ArrayBufferWriter<byte>> _listBuffers = new();

    /// <param name="owner">The bytes of the writer's marker.</param>
    /// <param name="claimedAt">When the marker was claimed, on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>).</param>
    public ObjectDumpWriter(ObjectBridge bridge, string name, IWriterLease lease, byte[] owner, long createdAt, long claimedAt)
    {
        _bridge = bridge;
        _store = bridge.ObjectStore;
        _lease = lease;
        _owner = owner;
        Name = name;
        _createdAt = createdAt;
        // A refreshed marker is a young one: `delete --abandoned` leaves a folder alone while its marker is recent.
        _refresher = new MarkerRefresher(bridge.BridgeOptions.MarkerRefreshInterval, bridge.BridgeOptions.TimeProvider, claimedAt,
            lease.RefreshAsync);
    }

    public string Name { get; }

    public int BeginPart(string kind, string? table = null)
    {
        if (!PartKind.IsKnown(kind))
        {
            throw new ArgumentException($"Unknown part kind '{kind}'.", nameof(kind));
        }
        if ((kind == PartKind.Data) != (table is not null) || table is { Length: 0 })
        {
            throw new ArgumentException("A data part names its table; other parts name none.", nameof(table));
        }
        lock (_lock)
        {
            EnsureOpen();
            if (_parts.Count >= ObjectBridge.MaxPartCount)
            {
                _state = State.Failed;
                throw new BridgeException($"Dump '{Name}' would need more than {ObjectBridge.MaxPartCount} parts.");
            }
            _parts.Add(new Part(_parts.Count, kind, table));
            return _parts.Count - 1;
        }
    }

    public Task WriteChunkAsync(ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256Hash, CancellationToken cancellationToken)
    {
        int part;
        lock (_lock)
        {
            EnsureOpen();
            // Chunks without a part first: a single-stream dump.
            part = _parts.Count == 0 ? BeginPart(PartKind.Stream) : _parts.Count - 1;
        }
        return WriteChunkAsync(part, chunk, sha256Hash, cancellationToken);
    }

    public async Task WriteChunkAsync(int part, ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256Hash, CancellationToken cancellationToken)
    {
        Part target;
        int inPart;
        lock (_lock)
        {
            EnsureOpen();
            if ((uint)part >= (uint)_parts.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(part), part, "No such part has begun.");
            }
            target = _parts[part];
            if (target.Storing)
            {
                throw new InvalidOperationException($"Part {part} of dump '{Name}' is already storing a chunk; a part's chunks come one at a time.");
            }
            inPart = target.ChunkCount;
            if (inPart >= ObjectBridge.MaxChunkCount)
            {
                _state = State.Failed;
                throw new BridgeException(
                    $"Dump '{Name}' would need more than {ObjectBridge.MaxChunkCount} chunks in part {part}; raise bridge.chunk_size.");
            }
            target.Storing = true;
        }

        string key = ObjectBridge.ChunkKey(part, inPart);
        try
        {
            if (_refresher.IsLost)
            {
                // No point storing more of a dump that can no longer be listed (or into a folder that may be another's).
                _leaseLost = true;
                throw MarkerRefresher.LeaseLost(Name, "its writer marker was removed or replaced while it worked");
            }
            await PutNewAsync(key, chunk, sha256Hash, $"chunk {inPart} of part {part} of dump '{Name}'", cancellationToken).ConfigureAwait(false);
            // Numbered within the part; the manifest numbers the chunks it lists itself through the whole dump.
            var pending = new ChunkEntry { Part = part, InPart = inPart, Size = chunk.Length };
            sha256Hash.Span.CopyTo(pending.Sha256);
            target.Pending.Add(pending);
            if (target.Pending.Count == _bridge.BridgeOptions.ChunkListLength)
            {
                await StoreChunkListAsync(target, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // A chunk (or list) that may or may not be stored leaves a hole in the numbering: this writer cannot go on.
            lock (_lock)
            {
                _state = State.Failed;
                _failure ??= ex;
                target.Storing = false;
            }
            throw;
        }
        lock (_lock)
        {
            target.ChunkCount++;
            target.Storing = false;
            _sizeOut += chunk.Length;
        }
    }

    /// <summary>
    /// Stores the chunks <paramref name="part"/> has stored since its last chunk list as its next chunk list, and lets
    /// them go. Called by the one caller that is storing the part's chunks, or at completion when none is.
    /// </summary>
    async Task StoreChunkListAsync(Part part, CancellationToken cancellationToken)
    {
        ArrayBufferWriter<byte>? buffer;
        lock (_lock)
        {
            if (!_listBuffers.TryPop(out buffer))
            {
                buffer = new ArrayBufferWriter<byte>();
            }
        }
        try
        {
            buffer.ResetWrittenCount();
            BridgeJson.Write(buffer, [.. part.Pending.Select(c => c.ToInfo(c.InPart))], BridgeJsonContext.Default.ChunkInfoArray);
            ReadOnlyMemory<byte> json = buffer.WrittenMemory;
            byte[] sha256 = System.Security.Cryptography.SHA256.HashData(json.Span);
            string key = ObjectBridge.ChunkListKey(part.Index, part.Lists.Count);
            await PutNewAsync(key, json, sha256, $"chunk list {part.Lists.Count} of part {part.Index} of dump '{Name}'", cancellationToken)
                .ConfigureAwait(false);
            part.Lists.Add(new ChunkListInfo(key, part.Pending.Count, json.Length, Convert.ToHexStringLower(sha256)));
            part.Pending.Clear();
        }
        finally
        {
            lock (_lock)
            {
                _listBuffers.Push(buffer);
            }
        }
    }

    public async Task<DumpEntry> CompleteAsync(DumpSummary summary, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summary);
        lock (_lock)
        {
            EnsureOpen();
            if (_parts.Count == 0)
            {
                // An empty single-stream dump: one part without chunks.
                BeginPart(PartKind.Stream);
            }
            if (_parts.Find(p => p.Storing) is { } busy)
            {
                throw new InvalidOperationException($"Part {busy.Index} of dump '{Name}' is still storing a chunk.");
            }
        }
        try
        {
            // A part with chunk lists has all its chunks in them: the ones since its last list go in one more.
            foreach (Part part in _parts)
            {
                if (part.Lists.Count > 0 && part.Pending.Count > 0)
                {
                    await StoreChunkListAsync(part, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            _state = State.Failed;
            _failure = ex;
            throw;
        }
        ChunkInfo[] chunks;
        PartInfo[] parts;
        long chunkCount = 0;
        lock (_lock)
        {
            // Parts in the order they began (restore order); the manifest lists the chunks of parts without chunk
            // lists, numbered by their position in the whole dump.
            var list = new List<ChunkInfo>();
            foreach (var part in _parts)
            {
                foreach (ChunkEntry chunk in part.Pending)
                {
                    list.Add(chunk.ToInfo((int)chunkCount + chunk.InPart));
                }
                chunkCount += part.ChunkCount;
            }
            chunks = [.. list];
            parts = [.. _parts.Select(p => p.ToInfo())];
        }
        if (chunkCount > int.MaxValue)
        {
            _state = State.Failed;
            throw new BridgeException($"Dump '{Name}' has {chunkCount} chunks, more than a manifest can number; raise bridge.chunk_size.");
        }
        var manifest = summary.ToManifest(Name, _createdAt, _sizeOut, chunks, parts);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(manifest, BridgeJsonContext.Default.DumpManifest);
        return await CommitAsync(json, summary.ToEntry(Name, _createdAt, _sizeOut, (int)chunkCount), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores one object of a dump being copied as it is (a chunk or a chunk list, <see cref="ObjectBridge.ImportAsync"/>),
    /// under its key in the dump's folder.
    /// </summary>
    internal async Task PutObjectAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            EnsureOpen();
        }
        try
        {
            await PutNewAsync(key, data, sha256, what, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _state = State.Failed;
            _failure ??= ex;
            throw;
        }
    }

    /// <summary>Completes a copied dump: its manifest as it was stored in the other bridge, then the same index entry.</summary>
    internal async Task<DumpEntry> CompleteCopyAsync(ReadOnlyMemory<byte> manifestJson, DumpEntry entry, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            EnsureOpen();
        }
        return await CommitAsync(manifestJson, entry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores a new object under <paramref name="key"/> in the dump's folder (a chunk, a chunk list, an object of a copied
    /// dump): each is written once, so the write never replaces anything (<see cref="IObjectStore.PutNewAsync"/>). An
    /// object already there with the same bytes is this writer's own earlier try whose answer was lost (the store retried
    /// it); any other is another writer's, which claimed the name after this one lost its lease (`delete --abandoned` took
    /// it for dead while it was paused): before, this writer went on storing over that writer's chunks until its next
    /// refresh noticed (found by review). It fails then, and removes nothing.
    /// </summary>
    async Task PutNewAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken)
    {
        string fullKey = ObjectBridge.DumpPrefix(Name) + key;
        if (await _store.PutNewAsync(fullKey, data, sha256, what, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        // Read back only on this rare path: one conditional header per write costs nothing, a read per chunk would.
        if (!await HoldsAsync(fullKey, data, $"read back {what} from", cancellationToken).ConfigureAwait(false))
        {
            _leaseLost = true;
            throw MarkerRefresher.LeaseLost(Name, $"{_store.Show(fullKey)} ({what}) was stored by another writer, which claimed the name since");
        }
    }

    /// <summary>
    /// Whether the object at <paramref name="key"/> holds exactly <paramref name="bytes"/>: this writer's own earlier write
    /// (a try whose answer was lost), not another writer's. An object of another length is not read.
    /// </summary>
    async Task<bool> HoldsAsync(string key, ReadOnlyMemory<byte> bytes, string what, CancellationToken cancellationToken)
    {
        var otherLength = new BridgeException($"{_store.Show(key)} is not {bytes.Length} bytes long");
        try
        {
            StoredObject? stored = await _store.GetAsync(key, what,
                length => length == bytes.Length ? GC.AllocateUninitializedArray<byte>(bytes.Length) : throw otherLength, cancellationToken)
                .ConfigureAwait(false);
            return stored is not null && stored.Data.Span.SequenceEqual(bytes.Span);
        }
        catch (BridgeException e) when (ReferenceEquals(e, otherLength))
        {
            return false;
        }
    }

    /// <summary>Writes the manifest once, lists the dump (the commit point), then gives up the lease.</summary>
    async Task<DumpEntry> CommitAsync(ReadOnlyMemory<byte> json, DumpEntry entry, CancellationToken cancellationToken)
    {
        string manifestKey = ObjectBridge.ManifestKey(Name);
        try
        {
            // A writer that lost its lease must not make its dump complete: its chunks may be gone.
            await EnsureLeaseHeldAsync(ownManifest: null, cancellationToken).ConfigureAwait(false);
            // Written once: put-if-absent refuses to replace a manifest, whoever wrote it.
            if (!await _store.PutIfAbsentAsync(manifestKey, json, $"write the manifest of dump '{Name}' to", cancellationToken)
                    .ConfigureAwait(false))
            {
                // Our own earlier try whose answer was lost, or somebody else's manifest: only identical bytes are ours.
                if (!await HoldsAsync(manifestKey, json, $"read the manifest of dump '{Name}' from", cancellationToken).ConfigureAwait(false))
                {
                    throw new BridgeException($"Cannot write the manifest of dump '{Name}': {_store.Show(manifestKey)} already exists.");
                }
            }
            // Listing is the commit point: only now do list, restore and --latest see the dump. The lease is checked
            // again inside the index's compare-and-swap, after index.json is read and right before the entry is written
            // on that read's ETag. Checked before it (as it was), a writer paused between its check and the write listed
            // its dump over a folder that `delete --abandoned` had emptied, and another writer may have claimed (found by
            // review). Inside it the check is sound: `delete --abandoned` removes the marker, then rewrites index.json
            // unless the dump is listed by then, and only then removes the rest (ObjectBridge.RemoveAbandonedAsync). A
            // marker read back as ours was removed, if at all, after our read of index.json, so that rewrite and our
            // write compete for the same version: if the rewrite wins, our write fails and the next try finds the marker
            // gone; if ours wins, the cleanup finds the dump listed and leaves its folder alone.
            _entry = entry;
            await _bridge.AddToIndexAsync(entry, ct => EnsureLeaseHeldAsync((manifestKey, json), ct), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _state = State.Failed;
            _failure = ex;
            throw;
        }
        _state = State.Completed;

        // Listed: the name is protected by the index from here on, the marker has done its job. No refresh may bring it
        // back after it is removed.
        await _refresher.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _lease.ReleaseAsync(abandoned: false, cancellationToken).ConfigureAwait(false);
        }
        catch (BridgeException ex)
        {
            throw new BridgeException($"Dump '{Name}' is complete and listed, but removing its writer marker failed: {ex.Message}", ex);
        }
        return entry;
    }

    /// <summary>
    /// Fails the dump when its writer lost the lease, on a store where it can (<see cref="ObjectBridge.LeasesCanBeLost"/>):
    /// `delete --abandoned` took the writer for dead (paused, or seen through a clock that runs ahead) and removed, or is
    /// removing, what it stored. Checks that the marker was refreshed recently enough that it cannot have looked stale
    /// (<see cref="MarkerRefresher.EnsureHeld"/>), then reads the marker back: it must still hold this writer's bytes.
    /// <paramref name="ownManifest"/>: this writer stored that manifest, which is removed again when the lease is lost:
    /// `index rebuild` would list the dump from it over chunks that may be gone, and a new writer of the name could not
    /// write its own. With the marker gone or another writer's, only while it still holds this writer's bytes: `delete
    /// --abandoned` that ran before it was written did not see it (found by review: it stayed behind).
    /// </summary>
    async Task EnsureLeaseHeldAsync((string Key, ReadOnlyMemory<byte> Json)? ownManifest, CancellationToken cancellationToken)
    {
        if (!_bridge.LeasesCanBeLost)
        {
            return;
        }
        if (ownManifest is null)
        {
            EnsureLeaseHeld();
        }
        string markerKey = ObjectBridge.MarkerKey(Name);
        StoredObject? marker = await _store.GetAsync(markerKey, $"read the writer marker of dump '{Name}' from", null, cancellationToken)
            .ConfigureAwait(false);
        if (marker is null || !marker.Data.Span.SequenceEqual(_owner))
        {
            _leaseLost = true;
            if (ownManifest is { } own)
            {
                await DeleteOwnManifestAsync(own.Key, own.Json).ConfigureAwait(false);
            }
            throw MarkerRefresher.LeaseLost(Name, marker is null
                ? $"its writer marker {_store.Show(markerKey)} is gone"
                : $"its writer marker {_store.Show(markerKey)} now belongs to another writer");
        }
        // The read may have taken long (a pause, retries): the time is checked again.
        try
        {
            EnsureLeaseHeld();
        }
        catch (BridgeException) when (ownManifest is { } own)
        {
            await DeleteQuietlyAsync(own.Key).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Deletes the manifest at <paramref name="key"/> if it still holds <paramref name="json"/>, this writer's: with the
    /// lease lost, another writer may have claimed the name and written its own there since.
    /// </summary>
    async Task DeleteOwnManifestAsync(string key, ReadOnlyMemory<byte> json)
    {
        try
        {
            if (await HoldsAsync(key, json, $"read back the manifest of dump '{Name}' from", CancellationToken.None).ConfigureAwait(false))
            {
                await DeleteQuietlyAsync(key).ConfigureAwait(false);
            }
        }
        catch (BridgeException)
        {
            // unreadable: left alone; `delete --abandoned` removes ours
        }
    }

    /// <summary>Deletes one object while a failure is on its way up, which says more than a failure of this would.</summary>
    async Task DeleteQuietlyAsync(string key)
    {
        try
        {
            await _store.DeleteAsync([key], CancellationToken.None).ConfigureAwait(false);
        }
        catch (BridgeException)
        {
            // `delete --abandoned` removes it with the rest of the folder.
        }
    }

    void EnsureLeaseHeld()
    {
        try
        {
            _refresher.EnsureHeld(Name);
        }
        catch (BridgeException)
        {
            _leaseLost = true;
            throw;
        }
    }

    /// <summary>
    /// Without a completed dump: takes the entry out of the index if CompleteAsync may have put it there, deletes every
    /// object of the folder, then gives up the lease (marker last).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_state is State.Completed or State.Disposed)
        {
            _state = State.Disposed;
            return;
        }
        _state = State.Disposed;
        await _refresher.DisposeAsync().ConfigureAwait(false);
        if (_leaseLost || _refresher.IsLost)
        {
            // The folder is no longer this writer's: `delete --abandoned` removed it, and another writer may have claimed
            // the name since. Whatever this writer stored after that is left for the next `delete --abandoned`.
            await _lease.DisposeAsync().ConfigureAwait(false);
            return;
        }

        if (_bridge.LeasesCanBeLost)
        {
            // The lease may have been lost unseen (no refresh since the pause): removing the folder's objects then would
            // remove another writer's dump that claimed the name since (found by review). Only this writer's own index
            // entry goes; the rest is left for `delete --abandoned` unless the marker still holds this writer's bytes.
            try
            {
                await EnsureLeaseHeldAsync(ownManifest: null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (BridgeException ex)
            {
                BridgeException? unlisting = null;
                try
                {
                    if (_entry is not null)
                    {
                        await _bridge.RemoveFromIndexAsync(Name, _entry, lockHeld: false, CancellationToken.None).ConfigureAwait(false);
                    }
                }
                catch (BridgeException e)
                {
                    unlisting = e;
                }
                finally
                {
                    await _lease.DisposeAsync().ConfigureAwait(false);
                }
                if (!_leaseLost || unlisting is not null)
                {
                    // Not known to be lost, but not known to be held either (the store did not answer): say what is left.
                    throw LeftBehind(unlisting ?? ex);
                }
                return;
            }
        }
        try
        {
            await RemoveEverythingAsync().ConfigureAwait(false);
        }
        catch (BridgeException ex)
        {
            throw LeftBehind(ex);
        }
        finally
        {
            // If removal failed, letting go lets the next cleanup finish it.
            await _lease.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The failure of a dump whose objects could not be removed. It replaces the one the dump failed with (await using):
    /// both reasons are kept in the message.
    /// </summary>
    BridgeException LeftBehind(BridgeException ex)
    {
        string why = _failure is null ? "was abandoned" : $"failed ({_failure.Message})";
        return new BridgeException(
            $"Dump '{Name}' {why}, and removing what it stored failed too: {ex.Message}. What is left under "
            + $"{_store.Show(ObjectBridge.DumpPrefix(Name))} can be removed with 'replica delete --abandoned' "
            + "once it is older than --stale-after (1 h).", ex);
    }

    async Task RemoveEverythingAsync()
    {
        // Cleanup must run even when the dump was abandoned because of a cancellation.
        CancellationToken none = CancellationToken.None;
        if (_entry is not null)
        {
            await _bridge.RemoveFromIndexAsync(Name, _entry, lockHeld: false, none).ConfigureAwait(false);
        }
        // The lease gives this writer the folder to itself: every dump object in it is ours. What no dump holds is not:
        // another bridge whose prefix is this dump's folder (a bridge at the bucket root writing dump "team-b" while one
        // at "team-b/" starts) may have written there meanwhile.
        var keys = new List<string>();
        await foreach (ObjectInfo item in _store.ListAsync(ObjectBridge.DumpPrefix(Name), none).ConfigureAwait(false))
        {
            if (item.Key != ObjectBridge.MarkerKey(Name) && _bridge.IsDumpObject(Name, item.Key))
            {
                keys.Add(item.Key);
            }
        }
        await _bridge.DeleteDumpObjectsAsync(Name, keys, none).ConfigureAwait(false);
        // Removing the marker (and, in a directory, the folder) changes which dump folders exist: under the store's lock,
        // so that a BeginDumpAsync of the same name never sees a folder half removed.
        await using (await _bridge.LockAsync(create: false, none).ConfigureAwait(false))
        {
            await _lease.ReleaseAsync(abandoned: true, none).ConfigureAwait(false);
        }
    }

    /// <summary>Test hook: lets go of the lease without removing anything, as a killed process would.</summary>
    internal void SimulateCrash()
    {
        _refresher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _lease.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _state = State.Disposed;
    }

    void EnsureOpen()
    {
        if (_state != State.Open)
        {
            throw new InvalidOperationException(_state switch
            {
                State.Completed => $"Dump '{Name}' is already complete.",
                State.Failed => $"Writing dump '{Name}' failed earlier; it cannot be continued.",
                _ => $"The writer of dump '{Name}' is disposed.",
            });
        }
    }
}
