using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Replica.Bridges;

/// <summary>
/// A dump archive (<see cref="DumpArchive"/>) as a read-only <see cref="IObjectStore"/>: its tar entries are the
/// store's objects. Opening reads every entry's 512-byte header once (not its data) and keeps where each entry's bytes
/// are, by a hash of its name (24 bytes an entry, whatever the name: the archive is someone else's file, and a million
/// empty entries with long names held 415 MB as strings, found by review); a get reads them from the file, a list reads
/// the headers again. The archive is checked as it is indexed: a tar with valid header checksums,
/// regular files only, ending with the end-of-archive blocks, replica-export.json first naming a known version, and
/// every other entry index.json or a plain file name in the dump's folder (a name like "../x" never reaches the
/// bridge). Every change is refused: an archive is read, never written.
/// See https://www.gnu.org/software/tar/manual/html_node/Standard.html for the ustar header.
/// </summary>
internal sealed class ArchiveStore : ReadOnlyObjectStore
{
    const int BlockSize = 512;

    /// <summary>The most a replica-export.json can hold; ours take about 200 bytes.</summary>
    const int MaxHeaderBytes = 64 * 1024;

    // Random, so that no name in an archive can be made to have the hash of another.
    static readonly long s_seed = Random.Shared.NextInt64();

    readonly string _path;
    // Sorted by hash; names with the same hash are refused as the same entry twice (by chance: 1 in 2^64 a pair).
    readonly Entry[] _entries;

    ArchiveStore(string path, string dumpName, Entry[] entries)
    {
        _path = path;
        DumpName = dumpName;
        _entries = entries;
    }

    readonly record struct Entry(ulong Hash, long Offset, long Length);

    static ulong Hash(string key) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan()), s_seed);

    /// <summary>Where the bytes of entry <paramref name="key"/> are, or null when the archive has none by that name.</summary>
    Entry? Find(string key)
    {
        ulong hash = Hash(key);
        int low = 0;
        int high = _entries.Length - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            ulong at = _entries[middle].Hash;
            if (at == hash)
            {
                return _entries[middle];
            }
            (low, high) = at < hash ? (middle + 1, high) : (low, middle - 1);
        }
        return null;
    }

    /// <summary>The one dump the archive holds.</summary>
    public string DumpName { get; }

    public override string Description => $"dump archive '{_path}'";

    public override string Show(string key) => $"{key} in '{_path}'";

    /// <summary>Indexes the archive at <paramref name="path"/> (its headers only); <see cref="BridgeException"/> when it is not one replica can read.</summary>
    public static ArchiveStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        using SafeFileHandle handle = OpenHandle(full, "open the dump archive");
        long fileLength = RandomAccess.GetLength(handle);
        var entries = new List<Entry>();
        var seen = new HashSet<ulong>();
        bool hasIndex = false;
        byte[] block = new byte[BlockSize];
        string? dumpName = null;
        long position = 0;
        while (true)
        {
            if (position + BlockSize > fileLength)
            {
                throw NotReadable(full, position == fileLength && entries.Count > 0
                    ? $"it ends after {entries.Count} entries without the end-of-archive blocks: it was cut short"
                    : $"it ends inside the header of entry {entries.Count + 1}, at byte {position}");
            }
            ReadExactly(handle, block, position, full);
            if (!block.AsSpan().ContainsAnyExcept((byte)0))
            {
                break;
            }
            (string key, long length) = ParseHeader(block, full, position, entries.Count + 1);
            long offset = position + BlockSize;
            if (length > fileLength - offset)
            {
                throw NotReadable(full, $"entry {key} needs {length} bytes from byte {offset}, but the file ends at {fileLength}: it was cut short");
            }
            if (entries.Count == 0)
            {
                if (key != DumpArchive.HeaderKey)
                {
                    throw NotReadable(full, $"its first entry is {key}, not {DumpArchive.HeaderKey}: it is a tar file, but not one replica export wrote");
                }
                dumpName = ReadHeader(handle, offset, length, full);
            }
            else if (key != ObjectBridge.IndexKey && !IsDumpObject(key, dumpName!))
            {
                throw NotReadable(full, $"entry {key} is not {ObjectBridge.IndexKey} nor a plain file name in the folder of dump '{dumpName}'");
            }
            ulong hash = Hash(key);
            if (!seen.Add(hash))
            {
                throw NotReadable(full, $"entry {key} is in it twice");
            }
            hasIndex |= key == ObjectBridge.IndexKey;
            entries.Add(new Entry(hash, offset, length));
            position = offset + (length + BlockSize - 1) / BlockSize * BlockSize;
        }
        if (dumpName is null)
        {
            throw NotReadable(full, "it holds no entries");
        }
        if (!hasIndex)
        {
            throw NotReadable(full, $"it has no {ObjectBridge.IndexKey}");
        }
        Entry[] sorted = [.. entries];
        Array.Sort(sorted, static (a, b) => a.Hash.CompareTo(b.Hash));
        return new ArchiveStore(full, dumpName, sorted);
    }

    /// <summary>
    /// The entry's name (ustar: prefix + '/' + name) and size, after checking the header's checksum and that it is a
    /// regular file.
    /// </summary>
    static (string Key, long Length) ParseHeader(byte[] block, string path, long position, int number)
    {
        // The checksum is the sum of the header's bytes with its own field taken as spaces.
        long sum = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : block[i];
        }
        if (!TryParseOctal(block.AsSpan(148, 8), out long checksum) || checksum != sum)
        {
            throw NotReadable(path, $"entry {number}, at byte {position}, has no valid tar header (its checksum does not match): it is not a tar file, or it is damaged");
        }
        string name = Text(block.AsSpan(0, 100));
        // POSIX ustar ("ustar\0") has a name prefix at 345; GNU tar ("ustar  ") keeps times there.
        string prefix = block.AsSpan(257, 6).SequenceEqual("ustar\0"u8) ? Text(block.AsSpan(345, 155)) : "";
        string key = prefix.Length > 0 ? prefix + "/" + name : name;
        byte type = block[156];
        if (type is not ((byte)'0' or 0))
        {
            throw NotReadable(path, $"entry {number} ({key}), at byte {position}, is not a regular file (tar type '{(char)type}')");
        }
        if (!TryParseOctal(block.AsSpan(124, 12), out long length))
        {
            throw NotReadable(path, $"entry {number} ({key}), at byte {position}, has a size that is not an octal number");
        }
        return (key, length);
    }

    /// <summary>A NUL-terminated (or full) field as text; non-UTF-8 bytes become U+FFFD and so never match a valid key.</summary>
    static string Text(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    /// <summary>An octal field: digits, then NULs or spaces (leading spaces allowed).</summary>
    static bool TryParseOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        field = field.TrimStart((byte)' ');
        int digits = 0;
        while (digits < field.Length && field[digits] is >= (byte)'0' and <= (byte)'7')
        {
            value = value * 8 + (field[digits] - '0');
            digits++;
        }
        return digits > 0 && digits <= 11 && !field[digits..].ContainsAnyExcept((byte)0, (byte)' ');
    }

    static string ReadHeader(SafeFileHandle handle, long offset, long length, string path)
    {
        if (length > MaxHeaderBytes)
        {
            throw NotReadable(path, $"its {DumpArchive.HeaderKey} has {length} bytes, more than {MaxHeaderBytes}");
        }
        byte[] json = new byte[length];
        ReadExactly(handle, json, offset, path);
        ArchiveHeader? header;
        try
        {
            header = System.Text.Json.JsonSerializer.Deserialize(json, BridgeJsonContext.Default.ArchiveHeader);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw NotReadable(path, $"its {DumpArchive.HeaderKey} is not valid: {ex.Message}");
        }
        if (header is null || header.Format != DumpArchive.Format)
        {
            throw NotReadable(path, $"its {DumpArchive.HeaderKey} does not say \"format\": \"{DumpArchive.Format}\"");
        }
        if (header.Version != DumpArchive.Version)
        {
            throw new BridgeException(
                $"'{path}' is a dump archive of version {header.Version}; this replica reads version {DumpArchive.Version}. It was written by a newer replica: upgrade to read it.");
        }
        if (!Bridges.DumpName.IsValid(header.Dump, out string? problem))
        {
            throw NotReadable(path, $"its {DumpArchive.HeaderKey} names an invalid dump: {problem}");
        }
        return header.Dump;
    }

    static bool IsDumpObject(string key, string dumpName) =>
        key.Length > dumpName.Length + 1
        && key.StartsWith(dumpName, StringComparison.Ordinal)
        && key[dumpName.Length] == '/'
        && key.AsSpan(dumpName.Length + 1) is var file
        && file.IndexOfAny('/', '\\') < 0
        && !file.ContainsAnyInRange('\0', '\x1f')
        && file is not ("." or "..");

    static BridgeException NotReadable(string path, string problem) =>
        new($"'{path}' is not a dump archive replica can read: {problem}.");

    static SafeFileHandle OpenHandle(string path, string what)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (BridgeThrow.IsIo(ex))
        {
            throw BridgeThrow.Io(what, path, ex);
        }
    }

    static void ReadExactly(SafeFileHandle handle, Span<byte> into, long offset, string path)
    {
        int filled = 0;
        while (filled < into.Length)
        {
            int read;
            try
            {
                read = RandomAccess.Read(handle, into[filled..], offset + filled);
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                throw BridgeThrow.Io("read the dump archive", path, ex);
            }
            filled += read > 0 ? read : throw ChangedWhileRead(path, offset + filled);
        }
    }

    static async Task ReadExactlyAsync(SafeFileHandle handle, Memory<byte> into, long offset, string path, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < into.Length)
        {
            int read;
            try
            {
                read = await RandomAccess.ReadAsync(handle, into[filled..], offset + filled, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (BridgeThrow.IsIo(ex))
            {
                throw BridgeThrow.Io("read the dump archive", path, ex);
            }
            filled += read > 0 ? read : throw ChangedWhileRead(path, offset + filled);
        }
    }

    static BridgeException ChangedWhileRead(string path, long at) =>
        new($"Cannot read the dump archive '{path}': it ended at byte {at}; it was changed while being read.");

    public override async Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken)
    {
        if (Find(key) is not { } entry)
        {
            return null;
        }
        Memory<byte> data = StoredObject.Target(entry.Length, buffer, () => $"{what} {Show(key)}");
        using SafeFileHandle handle = OpenHandle(_path, what);
        await ReadExactlyAsync(handle, data, entry.Offset, _path, cancellationToken).ConfigureAwait(false);
        return new StoredObject(data, "");
    }

    public override async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        // The headers Open checked, read again in their order: each follows the data of the one before.
        using SafeFileHandle handle = OpenHandle(_path, "read the dump archive");
        byte[] block = new byte[BlockSize];
        long position = 0;
        for (int number = 1; ; number++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReadExactly(handle, block, position, _path);
            if (!block.AsSpan().ContainsAnyExcept((byte)0))
            {
                yield break;
            }
            (string key, long length) = ParseHeader(block, _path, position, number);
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return new ObjectInfo(key, null);
            }
            position += BlockSize + (length + BlockSize - 1) / BlockSize * BlockSize;
        }
    }

    public override Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([DumpName]);

    protected override string Instead => " 'replica import' copies its dump into the configured bridge.";
}
