using Replica.Bridges;

namespace Replica.Pipeline;

public static partial class BenchJob
{
    /// <summary>
    /// Counts the chunks and bytes a dump stores, live (for the time series), and passes them to <c>inner</c>; without
    /// one (<see cref="BenchSink.Discard"/>) drops them after counting: every step before the store has run.
    /// </summary>
    sealed class MeteredBridge(IBridge? inner) : IBridge
    {
        long _bytes;
        int _chunks;

        public string Description => inner?.Description ?? "discarded (--sink discard: every chunk is encoded and hashed as for a bridge, then dropped)";

        public long BytesStored => Interlocked.Read(ref _bytes);

        public int Chunks => Volatile.Read(ref _chunks);

        public async Task<IDumpWriter> BeginDumpAsync(string name, CancellationToken cancellationToken) =>
            new Writer(this, name, inner is null ? null : await inner.BeginDumpAsync(name, cancellationToken).ConfigureAwait(false));

        public Task<IReadOnlyList<DumpEntry>> ListAsync(CancellationToken cancellationToken) =>
            inner?.ListAsync(cancellationToken) ?? Task.FromResult<IReadOnlyList<DumpEntry>>([]);

        public Task<DumpManifest> ReadManifestAsync(string name, CancellationToken cancellationToken) =>
            inner?.ReadManifestAsync(name, cancellationToken) ?? throw new BridgeException($"dump {name} was discarded (--sink discard)");

        public Task<byte[]> ReadChunkAsync(string name, ChunkInfo chunk, CancellationToken cancellationToken) =>
            inner?.ReadChunkAsync(name, chunk, cancellationToken) ?? throw new BridgeException($"dump {name} was discarded (--sink discard)");

        public Task DeleteAsync(string name, CancellationToken cancellationToken) => inner?.DeleteAsync(name, cancellationToken) ?? Task.CompletedTask;

        void Count(int bytes)
        {
            Interlocked.Add(ref _bytes, bytes);
            Interlocked.Increment(ref _chunks);
        }

        sealed class Writer(MeteredBridge owner, string name, IDumpWriter? inner) : IDumpWriter
        {
            int _parts;

            public string Name => name;

            public int BeginPart(string kind, string? table = null) => inner?.BeginPart(kind, table) ?? _parts++;

            public Task WriteChunkAsync(ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken)
            {
                owner.Count(chunk.Length);
                return inner?.WriteChunkAsync(chunk, sha256, cancellationToken) ?? Task.CompletedTask;
            }

            public Task WriteChunkAsync(int part, ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken)
            {
                owner.Count(chunk.Length);
                return inner?.WriteChunkAsync(part, chunk, sha256, cancellationToken) ?? Task.CompletedTask;
            }

            public Task<DumpEntry> CompleteAsync(DumpSummary summary, CancellationToken cancellationToken) =>
                inner?.CompleteAsync(summary, cancellationToken)
                ?? Task.FromResult(summary.ToEntry(name, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), owner.BytesStored, owner.Chunks));

            public ValueTask DisposeAsync() => inner?.DisposeAsync() ?? ValueTask.CompletedTask;
        }
    }
}
