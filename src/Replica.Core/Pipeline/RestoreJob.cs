using Replica.Bridges;
using Replica.Destinations;

namespace Replica.Pipeline;

/// <summary>Wires one restore: bridge → verified chunks → destination, committed only when every chunk checked out.</summary>
public static class RestoreJob
{
    /// <summary>Restores the named dump, or the newest complete one when <paramref name="name"/> is null. Returns its entry and the bytes written.</summary>
    public static async Task<(DumpEntry Entry, long Bytes)> RunAsync(IBridge bridge, string? name, IRestoreDestination destination, Config.BridgeConfig settings,
        CancellationToken cancellationToken, RestoreCounter? counter = null)
    {
        var entry = name is null
            ? await DumpReader.ResolveLatestAsync(bridge, cancellationToken).ConfigureAwait(false)
            : await FindAsync(bridge, name, cancellationToken).ConfigureAwait(false);
        await destination.PrepareAsync(cancellationToken).ConfigureAwait(false);
        var output = counter is null ? destination.Open() : new CountingStream(destination.Open(), counter);
        var bytes = await DumpReader.RestoreAsync(bridge, entry.Name, output, manifest =>
        {
            counter?.Expect(manifest);
            return BridgeCodecs.ForManifest(manifest, settings);
        }, cancellationToken).ConfigureAwait(false);
        await destination.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (entry, bytes);
    }

    /// <summary>
    /// Re-reads every chunk of a dump: checks its size and SHA-256 against the manifest and decodes it (which checks
    /// the authentication tag of an encrypted chunk, and the tag of an encrypted dump's manifest), writing nothing.
    /// Throws naming the first bad chunk. The result counts the chunks the manifest lists, which were all checked.
    /// </summary>
    public static async Task<VerifiedDump> VerifyAsync(IBridge bridge, string? name, Config.BridgeConfig settings, CancellationToken cancellationToken)
    {
        var entry = name is null
            ? await DumpReader.ResolveLatestAsync(bridge, cancellationToken).ConfigureAwait(false)
            : await FindAsync(bridge, name, cancellationToken).ConfigureAwait(false);
        DumpManifest? read = null;
        var bytes = await DumpReader.RestoreAsync(bridge, entry.Name, Stream.Null, manifest =>
        {
            read = manifest;
            return BridgeCodecs.ForManifest(manifest, settings);
        }, cancellationToken).ConfigureAwait(false);
        return new VerifiedDump(entry.Name, read!.Chunks.Count, bytes, BridgeCodecs.AuthenticationOf(read));
    }

    /// <summary>Counts the bytes on their way to the destination, for progress.</summary>
    sealed class CountingStream(Stream inner, RestoreCounter counter) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            counter.Add(count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            counter.Add(buffer.Length);
        }
    }

    static async Task<DumpEntry> FindAsync(IBridge bridge, string name, CancellationToken cancellationToken)
    {
        foreach (var entry in await bridge.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (entry.Name == name)
            {
                return entry;
            }
        }
        throw new BridgeException($"there is no complete dump named '{name}' in {bridge.Description} (see `replica list`)");
    }
}

/// <summary>What `replica verify` checked: the manifest's chunks (all intact), the decoded bytes, and how far the manifest is protected.</summary>
public sealed record VerifiedDump(string Name, int ChunkCount, long Bytes, ManifestAuthentication Manifest);

/// <summary>Bytes written to the destination so far; read from another thread by a progress display.</summary>
public sealed class RestoreCounter
{
    long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>From the manifest, once read: the bytes, tables and rows the restore will write (null when unknown).</summary>
    public long? ExpectedBytes { get; private set; }

    public int? ExpectedTables { get; private set; }

    public long? ExpectedRows { get; private set; }

    internal void Expect(Bridges.DumpManifest manifest)
    {
        ExpectedBytes = manifest.SizePlain;
        ExpectedTables = manifest.Tables;
        ExpectedRows = manifest.Rows;
    }

    internal void Add(long bytes) => Interlocked.Add(ref _bytes, bytes);
}
