namespace Replica.Bridges;

/// <summary>How an <see cref="ObjectBridge"/> times its writers and its index updates; the defaults suit the CLI.</summary>
public sealed record ObjectBridgeOptions
{
    /// <summary>The clock that stamps created_at and ages writer markers; tests pass a fixed one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How often a writer refreshes its lease; `delete --abandoned` needs markers older than twice this.</summary>
    public TimeSpan MarkerRefreshInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often an index.json update is tried when other writers keep changing it in between.</summary>
    public int IndexUpdateAttempts { get; init; } = 64;

    /// <summary>
    /// An unlisted dump whose writer marker is older than this counts as abandoned (its writer died): DeleteAsync may
    /// remove it. Younger ones are taken as still being written and are left alone.
    /// </summary>
    public TimeSpan AbandonedAfter { get; init; } = TimeSpan.FromHours(24);

    public const int DefaultChunkListLength = 1024;

    /// <summary>The most entries a chunk list may hold (about 200 bytes of JSON each): what a reader accepts.</summary>
    public const int MaxChunkListLength = 65_536;

    /// <summary>
    /// How many chunk entries a chunk list object of bridge format v3 holds (default 1024: one list per 4 GiB of 4 MiB
    /// chunks). A part with more chunks than this has its chunks stored in lists as it goes instead of kept for the
    /// manifest, so a writer's memory does not grow with the dump. Not a config key: tests lower it.
    /// </summary>
    public int ChunkListLength { get; init; } = DefaultChunkListLength;
}

/// <summary>
/// The dump protocol over any <see cref="IObjectStore"/>, laid out the same way in every store:
/// <code>
/// index.json                  complete dumps: {"version":1,"dumps":[...]}, updated by compare-and-swap
/// dump-1/p000000-000000.chunk chunk 0 of part 0 (bridge format v2): p{part}-{chunk in the part}, zero-padded
/// dump-1/p000000-list000000.json  chunk list 0 of part 0 (bridge format v3): a part's chunk entries, stored as the
///                             part grows past ObjectBridgeOptions.ChunkListLength chunks, so a writer keeps at most
///                             one list per part in memory
/// dump-1/manifest.json        written once (put-if-absent) after the last chunk; the source of truth for the parts
///                             (in restore order) and their chunks, or for a long part its chunk lists (with their
///                             SHA-256)
/// dump-1/.writing             the writer's lease on the name, refreshed while it works, removed once the dump is listed
/// </code>
/// A dump is a list of parts (pre-data, the data of one table, post-data; or one "stream" part for a single-stream dump),
/// each an ordered run of chunks. Chunk keys are named by part and by chunk inside the part, not by a dump-wide counter,
/// so parts can be written independently (by several writers, issue 10 §5) without their keys colliding; they stay
/// plain names in the dump's folder (no subfolder per part). Dumps of format v1 (keys "000000.chunk", no parts) are
/// still read: the manifest holds every chunk's key.
/// A dump is listed only after every chunk and its manifest are stored. <see cref="LocalBridge"/> and the S3 bridge are
/// this protocol over their stores; a new backend needs only its <see cref="IObjectStore"/>: <c>new ObjectBridge(store)</c>.
/// A store that is also an <see cref="IDirectoryStore"/> (the local directory) gets the same protocol with its lock held
/// around every change of index.json and of the set of dump folders, dead writers told by their free lock (so every
/// dump first cleans up after them), and folders moved aside atomically before they are deleted.
/// </summary>
public partial class ObjectBridge : IBridge, IIndexRebuild, IAbandonedCleanup
{
    public const string IndexKey = "index.json";
    public const string ManifestName = "manifest.json";
    public const string MarkerName = ".writing";

    /// <summary>Six digits keep name order equal to chunk order; 1,000,000 chunks of 32 MiB is 32 TiB (per part).</summary>
    public const int MaxChunkCount = 1_000_000;

    /// <summary>Six digits for the part too: a part per table of a database with many partitions.</summary>
    public const int MaxPartCount = 1_000_000;

    readonly IObjectStore _store;
    // The store's file system powers, when it has them (see IDirectoryStore); null for an object store.
    readonly IDirectoryStore? _directory;
    readonly ObjectBridgeOptions _options;

    public ObjectBridge(IObjectStore store, ObjectBridgeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _directory = store as IDirectoryStore;
        _options = options ?? new ObjectBridgeOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.IndexUpdateAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.ChunkListLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.ChunkListLength, ObjectBridgeOptions.MaxChunkListLength);
    }

    public string Description => _store.Description;

    internal IObjectStore ObjectStore => _store;

    internal ObjectBridgeOptions BridgeOptions => _options;

    /// <summary>
    /// Whether a writer can lose its lease while it lives: on an object store `delete --abandoned` judges a writer by its
    /// marker's age alone, so a writer paused for longer than --stale-after (or seen through a clock that runs ahead)
    /// is taken for dead and its folder removed under it. A directory store never removes the folder of a writer that
    /// holds its lock.
    /// </summary>
    internal bool LeasesCanBeLost => _directory is null;

    /// <summary>The file or object name of chunk <paramref name="chunkIndex"/> of part <paramref name="partIndex"/> inside its dump's folder.</summary>
    public static string ChunkKey(int partIndex, int chunkIndex) => $"p{partIndex:D6}-{chunkIndex:D6}.chunk";

    /// <summary>The object name of chunk list <paramref name="listIndex"/> of part <paramref name="partIndex"/> inside its dump's folder (bridge format v3).</summary>
    public static string ChunkListKey(int partIndex, int listIndex) => $"p{partIndex:D6}-list{listIndex:D6}.json";

    /// <summary>The key prefix of a dump's objects. The trailing '/' is what keeps "dump-1" from matching "dump-10".</summary>
    internal static string DumpPrefix(string name) => name + "/";

    internal static string ManifestKey(string name) => DumpPrefix(name) + ManifestName;

    internal static string MarkerKey(string name) => DumpPrefix(name) + MarkerName;

    public async Task<IDumpWriter> BeginDumpAsync(string name, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index.Find(name) is not null)
        {
            throw new BridgeException($"A dump named '{name}' already exists in {Description}.");
        }

        long createdAt = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        // For a person looking at a stuck dump: who is (or was) writing it. The writer's own bytes too: a marker holding
        // them is this writer's (its claim whose answer was lost, its lease still held), so they must be no other
        // writer's, not even one in the same process started in the same millisecond: hence the random id.
        byte[] owner = System.Text.Encoding.UTF8.GetBytes(
            $"pid {Environment.ProcessId} on {Environment.MachineName} since {DateTimeOffset.FromUnixTimeMilliseconds(createdAt):O}, "
            + $"writer {Guid.NewGuid():N}\n");
        if (_directory is not null)
        {
            // Folders of writers that died (SIGKILL, power loss) would otherwise block their name and waste space forever.
            await CleanupAbandonedAsync(cancellationToken).ConfigureAwait(false);
        }
        IWriterLease lease;
        // The lease is as young as the claim: taken before it is sent (monotonic, see MarkerRefresher).
        long claimedAt = _options.TimeProvider.GetTimestamp();
        // Under the lock: the claim creates the dump's folder, so cleanup never sees it without its marker.
        await using (await LockAsync(create: true, cancellationToken).ConfigureAwait(false))
        {
            lease = await _store.AcquireLeaseAsync(name, owner, cancellationToken).ConfigureAwait(false);
        }

        // Objects of an earlier dump of this name that is not listed (a delete that died, a dump listed meanwhile) must
        // never be mixed with ours.
        string? foreign = null;
        try
        {
            await foreach (ObjectInfo item in _store.ListAsync(DumpPrefix(name), cancellationToken).ConfigureAwait(false))
            {
                if (item.Key != MarkerKey(name))
                {
                    foreign = item.Key;
                    break;
                }
            }
        }
        catch
        {
            await lease.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (foreign is not null)
        {
            await lease.ReleaseAsync(abandoned: false, cancellationToken).ConfigureAwait(false);
            throw new BridgeException(
                $"The name '{name}' is taken in {Description}: {_store.Show(foreign)} exists but no dump '{name}' is being written; "
                + "'replica delete --abandoned' removes such leftovers once they are older than --stale-after (1 h); or choose another name.");
        }
        return new ObjectDumpWriter(this, name, lease, owner, createdAt, claimedAt);
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

    public async Task<DumpManifest> ReadManifestAsync(string name, CancellationToken cancellationToken) =>
        (await ReadListedManifestAsync(name, checkEntry: false, cancellationToken).ConfigureAwait(false)).Manifest;

    /// <summary>
    /// The manifest of a complete dump (<see cref="ReadManifestAsync"/>) with the bytes it was read from, which a copy
    /// of the dump stores as they are; its index entry checked against it (<see cref="CheckListedEntry"/>): a copy, an
    /// export or a share of a dump whose entry was edited is refused rather than passed on.
    /// </summary>
    internal Task<(DumpManifest Manifest, ReadOnlyMemory<byte> Json)> ReadListedManifestAsync(string name, CancellationToken cancellationToken) =>
        ReadListedManifestAsync(name, checkEntry: true, cancellationToken);

    // Restore and verify check the entry after the manifest's tag (BridgeCodecs.ForListedManifest), so that an edited
    // manifest is reported as such, and the entry is compared with fields that were authenticated.
    async Task<(DumpManifest Manifest, ReadOnlyMemory<byte> Json)> ReadListedManifestAsync(string name, bool checkEntry, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        (BridgeIndex index, _) = await ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index.Find(name) is not { Status: DumpEntry.Complete } listed)
        {
            throw new BridgeException($"There is no complete dump named '{name}' in {Description}.");
        }
        var read = await ReadManifestObjectAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new IntegrityException(
                $"Dump '{name}' is listed in {IndexKey} but its manifest {_store.Show(ManifestKey(name))} is missing.");
        if (checkEntry)
        {
            CheckListedEntry(listed, read.Manifest);
        }
        return read;
    }

    /// <summary>
    /// A dump's manifest as stored, or null when it has none (yet); in bridge format v3 with the chunks of its chunk
    /// lists in their place.
    /// </summary>
    /// <summary>
    /// The most bytes a manifest.json or index.json is read into memory with (both are read whole). A dump of bridge
    /// format v3 keeps its chunks in separate lists, so its manifest is a few KiB; one of v1 or v2 lists ~150 bytes per
    /// chunk (a 1 TiB dump in 4 MiB chunks: ~40 MiB); index.json ~220 bytes per dump (600,000 dumps). Found by review: an
    /// edited (or damaged) file of gigabytes made restore, verify and list allocate it whole.
    /// </summary>
    internal const long MaxManifestBytes = 128L << 20;

    /// <summary>A buffer for a file read whole, refused (a BridgeException naming it) beyond <paramref name="max"/> bytes.</summary>
    internal static Func<long, Memory<byte>> Capped(long max, Func<string> what) => length => length > max
        ? throw new BridgeException($"Refusing to read {what()}: it has {length} bytes, more than the {max >> 20} MiB such a file may have (damaged, or written by someone else).")
        : StoredObject.Target(length, null, () => "read " + what());

    internal async Task<DumpManifest?> ReadStoredManifestAsync(string name, CancellationToken cancellationToken) =>
        (await ReadManifestObjectAsync(name, cancellationToken).ConfigureAwait(false))?.Manifest;

    async Task<(DumpManifest Manifest, ReadOnlyMemory<byte> Json)?> ReadManifestObjectAsync(string name, CancellationToken cancellationToken)
    {
        string key = ManifestKey(name);
        StoredObject? stored = await _store.GetAsync(key, $"read the manifest of dump '{name}' from",
            Capped(MaxManifestBytes, () => $"the manifest of dump '{name}' ({_store.Show(key)})"), cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }
        DumpManifest manifest = BridgeJson.ReadManifest(stored.Data.Span, name, _store.Show(key));
        if (manifest.FormatVersion >= DumpManifest.ListsVersion)
        {
            manifest = await ReadChunkListsAsync(manifest, cancellationToken).ConfigureAwait(false);
        }
        return (manifest, stored.Data);
    }

    /// <summary>
    /// Bridge format v3: the whole dump's chunk list, the chunks of parts with chunk lists read from those (in order)
    /// and put in their place among the manifest's own, all numbered by their position in the dump.
    /// </summary>
    async Task<DumpManifest> ReadChunkListsAsync(DumpManifest manifest, CancellationToken cancellationToken)
    {
        string name = manifest.Name;
        // Compact (ChunkTable): the reason chunk lists exist is that a dump's chunks do not all fit in memory as objects.
        var chunks = new ChunkTable(manifest.Parts!.Sum(p => (long)p.ChunkCount));
        int inline = 0;
        foreach (PartInfo part in manifest.Parts!)
        {
            if (part.ChunkLists is not { } lists)
            {
                for (int i = 0; i < part.ChunkCount; i++)
                {
                    ChunkInfo chunk = manifest.Chunks[inline++];
                    if (chunk.Index != chunks.Count)
                    {
                        BridgeThrow.DumpIntegrity(name, $"the manifest lists chunk {chunk.Index} ({chunk.Key}) at position {chunks.Count}");
                    }
                    Add(chunk, part, i, "the manifest");
                }
                continue;
            }
            int inPart = 0;
            foreach (ChunkListInfo list in lists)
            {
                ReadOnlyMemory<byte> json = await ReadChunkListAsync(name, part, list, cancellationToken).ConfigureAwait(false);
                string where = _store.Show(DumpPrefix(name) + list.Key);
                foreach (ChunkInfo chunk in BridgeJson.ReadChunkList(json.Span, name, where, part, inPart, list.ChunkCount))
                {
                    Add(chunk, part, inPart++, $"chunk list {where}");
                }
            }
        }
        return manifest with { Chunks = chunks };

        void Add(ChunkInfo chunk, PartInfo part, int inPart, string where)
        {
            if (chunks.TryAdd(chunk, part.Index, inPart) is { } problem)
            {
                BridgeThrow.DumpIntegrity(name, $"{part}: chunk {inPart} in {where} {problem}");
            }
        }
    }

    /// <summary>
    /// The bytes of one of <paramref name="part"/>'s chunk lists, checked against the size (before anything is
    /// allocated) and SHA-256 the manifest gives.
    /// </summary>
    internal async Task<ReadOnlyMemory<byte>> ReadChunkListAsync(string name, PartInfo part, ChunkListInfo list, CancellationToken cancellationToken)
    {
        if (!IsPlainName(list.Key) || !IsObjectName(list.Key))
        {
            BridgeThrow.DumpIntegrity(name, $"{part}: the key of {list} is not a plain file name, or is that of the bridge's own file");
        }
        string key = DumpPrefix(name) + list.Key;
        StoredObject stored = await _store.GetAsync(key, $"read {list} of dump '{name}' from", length =>
        {
            if (length != list.Size)
            {
                BridgeThrow.DumpIntegrity(name, $"{part}: {_store.Show(key)} has {length} bytes, the manifest says {list.Size}");
            }
            return StoredObject.Target(length, null, () => $"read {list} of dump '{name}' from {_store.Show(key)}");
        }, cancellationToken).ConfigureAwait(false)
            ?? throw new IntegrityException($"Dump '{name}', {part}: {list} is missing ({_store.Show(key)} does not exist).");
        string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stored.Data.Span));
        if (sha256 != list.Sha256)
        {
            BridgeThrow.DumpIntegrity(name, $"{part}: {_store.Show(key)} has SHA-256 {sha256}, the manifest says {list.Sha256}");
        }
        return stored.Data;
    }

    public async Task<byte[]> ReadChunkAsync(string name, ChunkInfo chunk, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> data = await ReadChunkAsync(name, chunk, buffer: null, cancellationToken).ConfigureAwait(false);
        // No buffer was given, so the bytes are a whole new array.
        return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out ArraySegment<byte> array) ? array.Array! : data.ToArray();
    }

    public async Task<ReadOnlyMemory<byte>> ReadChunkAsync(string name, ChunkInfo chunk, byte[]? buffer, CancellationToken cancellationToken)
    {
        DumpName.Validate(name);
        ArgumentNullException.ThrowIfNull(chunk);
        if (!IsPlainName(chunk.Key))
        {
            // The key comes from a manifest someone could edit; it must not lead outside the dump's folder.
            BridgeThrow.ChunkIntegrity(name, chunk, "the key is not a plain file name");
        }
        string key = DumpPrefix(name) + chunk.Key;
        StoredObject? stored = await _store.GetAsync(key, $"read chunk {chunk.Index} of dump '{name}' from", length =>
        {
            // Checked before allocating, so a damaged object can never make us allocate more than the manifest promised.
            if (length != chunk.Size)
            {
                BridgeThrow.ChunkIntegrity(name, chunk, $"{_store.Show(key)} has {length} bytes, the manifest says {chunk.Size}");
            }
            return buffer is not null && buffer.Length >= length ? buffer.AsMemory(0, (int)length) : StoredObject.Target(length, null,
                () => $"read chunk {chunk.Index} of dump '{name}' from {_store.Show(key)}");
        }, cancellationToken).ConfigureAwait(false);
        if (stored is not null)
        {
            return stored.Data;
        }
        await foreach (ObjectInfo _ in _store.ListAsync(DumpPrefix(name), cancellationToken).ConfigureAwait(false))
        {
            throw new IntegrityException(
                $"Dump '{name}', {chunk}: the chunk is missing ({_store.Show(key)} does not exist).");
        }
        throw new BridgeException($"There is no dump named '{name}' in {Description}.");
    }

    /// <summary>
    /// Removes a dump's objects: the manifest first (so that a rebuild of the index never lists it again), then the
    /// chunks; the marker, if among <paramref name="keys"/>, last, so that what is left at every moment is either
    /// unlisted-and-unrebuildable or still claimed.
    /// </summary>
    internal async Task DeleteDumpObjectsAsync(string name, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
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

    /// <summary>
    /// The store's lock over index.json and the set of dump folders (<see cref="IDirectoryStore.LockAsync"/>); a no-op for
    /// a store without one, which relies on compare-and-swap instead.
    /// </summary>
    internal async Task<IAsyncDisposable> LockAsync(bool create, CancellationToken cancellationToken) =>
        _directory is null ? NoLock.Instance : await _directory.LockAsync(create, cancellationToken).ConfigureAwait(false);

    internal sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>
    /// Refuses (<see cref="IntegrityException"/>, naming the dump and the first field that differs) an index entry that
    /// is not the one <paramref name="manifest"/> stands for (<see cref="EntryOf"/>): index.json is a file anyone with
    /// write access to the bridge can edit, e.g. to move an older dump's created_at ahead so that `--latest` picks it.
    /// Restore and verify check it once the manifest's tag checked out, copy, export and share when they read the
    /// manifest; where the tag covers these fields (encrypted dumps of header version 4 on) that makes the entry as
    /// trustworthy as the manifest.
    /// </summary>
    internal static void CheckListedEntry(DumpEntry listed, DumpManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(listed);
        ArgumentNullException.ThrowIfNull(manifest);
        DumpEntry expected = EntryOf(manifest);
        if (listed == expected)
        {
            return;
        }
        (string field, string inIndex, string inManifest) =
            listed.Name != expected.Name ? ("name", $"'{listed.Name}'", $"'{expected.Name}'")
            : listed.CreatedAt != expected.CreatedAt ? ("created_at", Moment(listed.CreatedAt), Moment(expected.CreatedAt))
            : listed.SizeIn != expected.SizeIn ? ("size_in", Number(listed.SizeIn), Number(expected.SizeIn))
            : listed.SizeOut != expected.SizeOut ? ("size_out", Number(listed.SizeOut), Number(expected.SizeOut))
            : listed.ChunkCount != expected.ChunkCount ? ("chunk_count", Number(listed.ChunkCount), Number(expected.ChunkCount))
            : listed.Compressed != expected.Compressed ? ("compressed", Flag(listed.Compressed), Flag(expected.Compressed))
            : listed.Encrypted != expected.Encrypted ? ("encrypted", Flag(listed.Encrypted), Flag(expected.Encrypted))
            : ("status", $"'{listed.Status}'", $"'{expected.Status}'");
        BridgeThrow.DumpIntegrity(manifest.Name,
            $"its entry in {IndexKey} does not match its manifest: {IndexKey} says {field} {inIndex}, the manifest says {inManifest}; "
            + $"{IndexKey} or the manifest was edited, so the dump is not used");

        static string Moment(long ms) =>
            $"{ms} ({DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, -62_135_596_800_000L, 253_402_300_799_999L)):yyyy-MM-dd'T'HH:mm:ss.fff'Z'})";
        static string Number(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        static string Flag(bool value) => value ? "true" : "false";
    }

    /// <summary>The index entry a dump's manifest stands for; the same one its writer listed.</summary>
    internal static DumpEntry EntryOf(DumpManifest manifest) =>
        new(manifest.Name, DumpEntry.Complete, manifest.SizeIn, manifest.SizeOut, manifest.CreatedAt, manifest.Compressed,
            manifest.Encrypted, manifest.Chunks.Count);

    /// <summary>
    /// Whether <paramref name="key"/>, a plain name, may name a chunk or chunk list in a dump's folder: not the manifest's
    /// name, nor index.json, which a store without folders of its own (S3) holds there for a bridge nested at that prefix.
    /// </summary>
    internal static bool IsObjectName(string key) => key != ManifestName && key != IndexKey;

    internal static bool IsPlainName(string key) =>
        key.Length > 0 && key[0] != '.' && key.IndexOfAny(['/', '\\', ':']) < 0 && Path.GetFileName(key) == key;
}
