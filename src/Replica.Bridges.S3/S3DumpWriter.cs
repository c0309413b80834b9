using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;

namespace Replica.Bridges.S3;

/// <summary>
/// Writes one dump into its folder of an <see cref="S3Bridge"/>: each chunk is uploaded as it comes (one PUT, or a
/// multipart upload above the threshold) and only its ChunkInfo is kept, so memory is the caller's chunk buffer. Holds
/// the name through the .writing marker from BeginDumpAsync until the dump is listed (or removed). Not thread-safe: one
/// caller writes the chunks in order.
/// </summary>
internal sealed class S3DumpWriter : IDumpWriter
{
    enum State { Open, Completed, Failed, Disposed }

    readonly S3Bridge _bridge;
    readonly long _createdAt;
    readonly List<ChunkInfo> _chunks = [];
    readonly MarkerRefresher _refresher;
    long _sizeOut;
    State _state;
    // Set once CompleteAsync tries to list the dump: from then on the entry may be in index.json.
    DumpEntry? _entry;
    // Why the writer failed, for the message when cleaning up after it fails too.
    Exception? _failure;

    public S3DumpWriter(S3Bridge bridge, string name, long createdAt, byte[] owner)
    {
        _bridge = bridge;
        Name = name;
        _createdAt = createdAt;
        // Rewriting the marker moves its Last-Modified: `delete --abandoned` leaves a folder alone while that is recent.
        _refresher = new MarkerRefresher(bridge.Options.MarkerRefreshInterval, bridge.Options.TimeProvider, ct =>
            bridge.Store.PutAsync(bridge.MarkerKey(name), owner, $"refresh the writer marker of dump '{name}' at", ct,
                contentType: "text/plain"));
    }

    public string Name { get; }

    public async Task WriteChunkAsync(ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256Hash, CancellationToken cancellationToken)
    {
        EnsureOpen();
        int index = _chunks.Count;
        if (index >= LocalBridge.MaxChunkCount)
        {
            _state = State.Failed;
            throw new BridgeException(
                $"Dump '{Name}' would need more than {LocalBridge.MaxChunkCount} chunks; raise bridge.chunk_size.");
        }

        string key = _bridge.ChunkObjectKey(Name, index);
        try
        {
            if (chunk.Length > _bridge.Options.MultipartThreshold)
            {
                await _bridge.Store.UploadMultipartAsync(key, chunk, $"chunk {index} of dump '{Name}'", cancellationToken)
                    .ConfigureAwait(false);
            }
            else
            {
                // The SHA-256 we record goes along as x-amz-checksum-sha256: a server that checks it refuses damaged bytes.
                await _bridge.Store.PutAsync(key, chunk, $"store chunk {index} of dump '{Name}' at", cancellationToken, sha256: sha256Hash)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // A chunk that may or may not be stored leaves a hole in the numbering: this writer cannot go on.
            _state = State.Failed;
            _failure = ex;
            throw;
        }
        _chunks.Add(new ChunkInfo(index, LocalBridge.ChunkKey(index), chunk.Length, Convert.ToHexStringLower(sha256Hash.Span)));
        _sizeOut += chunk.Length;
        // The S3 client leaves young garbage behind every request; with the default gen0 budget (sized from the CPU
        // cache) it piled up to ~175 MiB RSS on a 1 GB dump. One gen0 collection per stored chunk keeps it flat
        // (~130 MiB measured with moto) for well under a millisecond per chunk.
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
    }

    public async Task<DumpEntry> CompleteAsync(DumpSummary summary, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summary);
        EnsureOpen();

        var manifest = summary.ToManifest(Name, _createdAt, _sizeOut, _chunks.ToArray());
        var entry = summary.ToEntry(Name, _createdAt, _sizeOut, _chunks.Count);
        string manifestKey = _bridge.ManifestKey(Name);
        try
        {
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(manifest, BridgeJsonContext.Default.DumpManifest);
            try
            {
                // Written once: If-None-Match: * refuses to replace a manifest, whoever wrote it.
                await _bridge.Store.PutAsync(manifestKey, json, $"write the manifest of dump '{Name}' to", cancellationToken,
                    ifNoneMatch: "*", contentType: "application/json").ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex))
            {
                // Our own earlier try whose answer was lost, or somebody else's manifest: only identical bytes are ours.
                StoredObject? stored = await _bridge.Store.GetAsync(manifestKey, $"read the manifest of dump '{Name}' from", null,
                    cancellationToken).ConfigureAwait(false);
                if (stored is null || !stored.Data.AsSpan().SequenceEqual(json))
                {
                    throw new BridgeException(
                        $"Cannot write the manifest of dump '{Name}': s3://{_bridge.Options.Bucket}/{manifestKey} already exists.", ex);
                }
            }
            // Listing is the commit point: only now do list, restore and --latest see the dump.
            _entry = entry;
            await _bridge.AddToIndexAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _state = State.Failed;
            _failure = ex;
            throw;
        }
        _state = State.Completed;

        // Listed: the name is protected by the index from here on, the marker has done its job. No refresh may
        // bring it back after it is deleted.
        await _refresher.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _bridge.Store.DeleteAsync([_bridge.MarkerKey(Name)], cancellationToken).ConfigureAwait(false);
        }
        catch (BridgeException ex)
        {
            throw new BridgeException($"Dump '{Name}' is complete and listed, but removing its writer marker failed: {ex.Message}", ex);
        }
        return entry;
    }

    /// <summary>
    /// Without a completed dump: aborts multipart uploads left under the dump's folder, takes the entry out of the
    /// index if CompleteAsync may have put it there, and deletes every object of the folder, marker last.
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

        try
        {
            await RemoveEverythingAsync().ConfigureAwait(false);
        }
        catch (BridgeException ex)
        {
            // This exception replaces the one the dump failed with (await using): keep both reasons in the message.
            string why = _failure is null ? "was abandoned" : $"failed ({_failure.Message})";
            throw new BridgeException(
                $"Dump '{Name}' {why}, and removing what it stored failed too: {ex.Message}. What is left under "
                + $"s3://{_bridge.Options.Bucket}/{_bridge.DumpPrefix(Name)} can be removed with 'replica delete --abandoned' "
                + "once it is older than --stale-after (1 h).", ex);
        }
    }

    async Task RemoveEverythingAsync()
    {
        // Cleanup must run even when the dump was abandoned because of a cancellation.
        CancellationToken none = CancellationToken.None;
        string prefix = _bridge.DumpPrefix(Name);
        await _bridge.Store.AbortUploadsAsync(prefix, none).ConfigureAwait(false);
        if (_entry is not null)
        {
            await _bridge.RemoveFromIndexAsync(Name, _entry, none).ConfigureAwait(false);
        }
        // The marker gives this writer the folder to itself: everything in it is ours.
        var keys = new List<string>();
        await foreach (S3Object item in _bridge.Store.ListAsync(prefix, none).ConfigureAwait(false))
        {
            keys.Add(item.Key);
        }
        if (!keys.Contains(_bridge.MarkerKey(Name)))
        {
            // Listing may lag behind a write on some servers; the marker is ours in any case.
            keys.Add(_bridge.MarkerKey(Name));
        }
        await _bridge.DeleteDumpObjectsAsync(Name, keys, none).ConfigureAwait(false);
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
