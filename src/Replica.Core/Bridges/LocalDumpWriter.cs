using System.Security.Cryptography;

namespace Replica.Bridges;

/// <summary>
/// Writes one dump into its folder of a <see cref="LocalBridge"/>. Holds the folder's .writing lock from
/// BeginDumpAsync until the dump is listed (or removed). Not thread-safe: one caller writes the chunks in order.
/// </summary>
internal sealed class LocalDumpWriter : IDumpWriter
{
    enum State { Open, Completed, Failed, Disposed }

    readonly LocalBridge _bridge;
    readonly string _folder;
    readonly long _createdAt;
    readonly List<ChunkInfo> _chunks = [];
    // Guards _writingLock between the writer and the marker refresher's thread.
    readonly Lock _markerGate = new();
    readonly MarkerRefresher _refresher;
    FileStream? _writingLock;
    long _sizeOut;
    State _state;

    public LocalDumpWriter(LocalBridge bridge, string name, string folder, FileStream writingLock, long createdAt)
    {
        _bridge = bridge;
        Name = name;
        _folder = folder;
        _writingLock = writingLock;
        _createdAt = createdAt;
        _refresher = new MarkerRefresher(bridge.MarkerRefreshInterval, bridge.TimeProvider, _ => RefreshMarker());
    }

    /// <summary>Moves the .writing marker's modification time to now, for `delete --abandoned` on file systems whose locks are not to be trusted.</summary>
    Task RefreshMarker()
    {
        lock (_markerGate)
        {
            if (_writingLock is { } marker)
            {
                File.SetLastWriteTimeUtc(marker.SafeFileHandle, _bridge.TimeProvider.GetUtcNow().UtcDateTime);
            }
        }
        return Task.CompletedTask;
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

        string key = LocalBridge.ChunkKey(index);
        string sha256 = Convert.ToHexStringLower(sha256Hash.Span);
        try
        {
            await LocalBridge.WriteFileDurablyAsync(Path.Combine(_folder, "." + key + ".tmp"), Path.Combine(_folder, key), chunk,
                overwrite: false, $"write chunk {index} of dump '{Name}' to", cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A chunk that may or may not be stored leaves a hole in the numbering: this writer cannot go on.
            _state = State.Failed;
            throw;
        }
        _chunks.Add(new ChunkInfo(index, key, chunk.Length, sha256));
        _sizeOut += chunk.Length;
    }

    public async Task<DumpEntry> CompleteAsync(DumpSummary summary, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summary);
        EnsureOpen();

        var manifest = summary.ToManifest(Name, _createdAt, _sizeOut, _chunks.ToArray());
        var entry = summary.ToEntry(Name, _createdAt, _sizeOut, _chunks.Count);
        try
        {
            byte[] json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(manifest, BridgeJsonContext.Default.DumpManifest);
            await LocalBridge.WriteFileDurablyAsync(Path.Combine(_folder, ".manifest.json.tmp"),
                Path.Combine(_folder, LocalBridge.ManifestFileName), json, overwrite: false, $"write the manifest of dump '{Name}' to",
                cancellationToken).ConfigureAwait(false);
            // Listing is the commit point: only now do list, restore and --latest see the dump.
            await _bridge.AddToIndexAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _state = State.Failed;
            throw;
        }
        _state = State.Completed;

        // The dump is listed, so cleanup ignores the folder from here on whatever happens to .writing.
        string lockPath = Path.Combine(_folder, LocalBridge.WritingLockFileName);
        await _refresher.DisposeAsync().ConfigureAwait(false);
        ReleaseWritingLock();
        try
        {
            File.Delete(lockPath);
        }
        catch (DirectoryNotFoundException)
        {
            // Deleted by someone else right after it was listed.
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw new BridgeException(
                $"Dump '{Name}' is complete and listed, but removing its writer lock '{lockPath}' failed: {ex.Message}", ex);
        }
        return entry;
    }

    /// <summary>Without a completed dump, removes everything this writer stored, folder included.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_state is State.Completed or State.Disposed)
        {
            _state = State.Disposed;
            return;
        }
        _state = State.Disposed;
        await _refresher.DisposeAsync().ConfigureAwait(false);

        string lockPath = Path.Combine(_folder, LocalBridge.WritingLockFileName);
        try
        {
            // Our own chunks first, while .writing still marks the folder as ours.
            foreach (string file in Directory.EnumerateFiles(_folder))
            {
                if (!string.Equals(file, lockPath, StringComparison.Ordinal))
                {
                    File.Delete(file);
                }
            }

            // Removing the lock file and the folder changes which dump folders exist: do it under the index lock so a
            // concurrent BeginDumpAsync of the same name cannot see a half-removed folder.
            await using (await _bridge.AcquireIndexLockAsync(CancellationToken.None).ConfigureAwait(false))
            {
                ReleaseWritingLock();
                File.Delete(lockPath);
                Directory.Delete(_folder, recursive: false);
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io($"remove abandoned dump '{Name}' at", _folder, ex);
        }
        finally
        {
            // If removal failed, releasing the lock lets the next BeginDumpAsync or CleanupAbandonedAsync finish it.
            ReleaseWritingLock();
        }
    }

    /// <summary>Test hook: lets go of the .writing lock without removing anything, as a killed process would.</summary>
    internal void SimulateCrash()
    {
        _refresher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        ReleaseWritingLock();
        _state = State.Disposed;
    }

    void ReleaseWritingLock()
    {
        lock (_markerGate)
        {
            _writingLock?.Dispose();
            _writingLock = null;
        }
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
