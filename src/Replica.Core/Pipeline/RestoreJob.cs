using Replica.Bridges;
using Replica.Destinations;
using Replica.Lexing;

namespace Replica.Pipeline;

/// <summary>Wires one restore: bridge → verified chunks → destination, committed only when every chunk checked out.</summary>
public static class RestoreJob
{
    /// <summary>
    /// Restores the named dump, or the newest complete one when <paramref name="name"/> is null. Returns its entry and the
    /// bytes read. The destination is prepared (a database connected to, created, wiped) only after the dump's key and
    /// first chunk checked out. Into a database, the stream passes a <see cref="RestoreGuard"/>: statements that would run
    /// something on this machine or end the restore's transaction are refused (nothing is committed) or, for BEGIN and
    /// COMMIT, left out; a file or stdout gets the dump byte for byte.
    /// </summary>
    /// <remarks>
    /// With <paramref name="jobs"/> &gt; 1 (a PostgreSQL destination only) the dump goes into a staging database on that many
    /// connections, swapped in on success (<see cref="ParallelRestore"/>); what it does is told to <paramref name="counter"/>.
    /// With bridge.encryption set, a dump that is not encrypted is refused unless <paramref name="allowUnencrypted"/>
    /// (<see cref="BridgeCodecs.ForManifest"/>), and an encrypted dump whose index entry is not authenticated (header
    /// version below 4) unless <paramref name="allowLegacy"/> (<see cref="BridgeCodecs.CheckEntryAuthenticated"/>): --latest
    /// picks the newest entry as ever, and such a dump is then refused, naming it, rather than passed over.
    /// </remarks>
    public static async Task<(DumpEntry Entry, long Bytes)> RunAsync(IBridge bridge, string? name, IRestoreDestination destination, Config.BridgeConfig settings,
        CancellationToken cancellationToken, RestoreCounter? counter = null, long maxStatementBytes = 256L << 20, int jobs = 1, bool allowUnencrypted = false,
        AllowLegacy? allowLegacy = null)
    {
        var entry = name is null
            ? await DumpReader.ResolveLatestAsync(bridge, cancellationToken).ConfigureAwait(false)
            : await FindAsync(bridge, name, cancellationToken).ConfigureAwait(false);
        if (jobs > 1)
        {
            var psql = destination as PsqlDestination ?? throw new ConfigException(RestoreRequest.JobsNeedPostgres(jobs, destination));
            return (entry, await ParallelRestore.RunAsync(bridge, entry, psql, settings, jobs, counter, maxStatementBytes, cancellationToken, allowUnencrypted, allowLegacy).ConfigureAwait(false));
        }
        using var guard = RestoreGuard.For(destination, maxStatementBytes);
        GuardedStream? guarded = null;
        var bytes = await DumpReader.RestoreAsync(bridge, entry.Name, async () =>
        {
            await destination.PrepareAsync(cancellationToken).ConfigureAwait(false);
            Stream output = destination.Open();
            if (guard is not null)
            {
                output = guarded = new GuardedStream(output, guard);
            }
            return counter is null ? output : new CountingStream(output, counter);
        }, manifest =>
        {
            counter?.Expect(manifest);
            var codec = BridgeCodecs.ForListedManifest(entry, manifest, settings, allowUnencrypted, allowLegacy, counter is null ? null : counter.Warn);
            counter?.Opened(BridgeCodecs.AuthenticationOf(manifest, codec));
            return codec;
        }, settings.Workers ?? DumpChunker.DefaultWorkers, cancellationToken).ConfigureAwait(false);
        if (guarded is not null)
        {
            await guarded.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
        await destination.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (entry, bytes);
    }

    /// <summary>
    /// Re-reads every chunk of every part of a dump: checks its index entry against the manifest, each chunk's size and
    /// SHA-256 against the manifest and decodes it (which checks the authentication tag of an encrypted chunk, bound to
    /// its part, and the tag of an encrypted dump's manifest), writing nothing.
    /// Throws naming the first bad chunk. The result counts the chunks the manifest lists, which were all checked.
    /// With bridge.encryption set, a dump that is not encrypted is refused unless <paramref name="allowUnencrypted"/>; an
    /// encrypted dump whose index entry is not authenticated (header version below 4) unless <paramref name="allowLegacy"/>.
    /// </summary>
    public static async Task<VerifiedDump> VerifyAsync(IBridge bridge, string? name, Config.BridgeConfig settings, CancellationToken cancellationToken,
        bool allowUnencrypted = false, AllowLegacy? allowLegacy = null)
    {
        var entry = name is null
            ? await DumpReader.ResolveLatestAsync(bridge, cancellationToken).ConfigureAwait(false)
            : await FindAsync(bridge, name, cancellationToken).ConfigureAwait(false);
        DumpManifest? read = null;
        ManifestAuthentication authentication = default;
        var bytes = await DumpReader.RestoreAsync(bridge, entry.Name, () => Task.FromResult(Stream.Null), manifest =>
        {
            read = manifest;
            var codec = BridgeCodecs.ForListedManifest(entry, manifest, settings, allowUnencrypted, allowLegacy);
            authentication = BridgeCodecs.AuthenticationOf(manifest, codec);
            return codec;
        }, settings.Workers ?? DumpChunker.DefaultWorkers, cancellationToken).ConfigureAwait(false);
        return new VerifiedDump(entry.Name, read!.Chunks.Count, bytes, authentication) { PartCount = read.PartsOf().Count };
    }

    /// <summary>Passes the bytes through a <see cref="RestoreGuard"/>: only what it let through reaches the client.</summary>
    internal sealed class GuardedStream(Stream inner, RestoreGuard guard) : ForwardingWriteStream(inner)
    {
        readonly System.Buffers.ArrayBufferWriter<byte> _passed = new(1 << 16);

        public override void Write(byte[] buffer, int offset, int count) =>
            WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            guard.Process(buffer.Span, _passed);
            await PassAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Checks and passes the last statement of the dump.</summary>
        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            guard.Complete(_passed);
            await PassAsync(cancellationToken).ConfigureAwait(false);
        }

        async Task PassAsync(CancellationToken cancellationToken)
        {
            if (_passed.WrittenCount > 0)
            {
                await Inner.WriteAsync(_passed.WrittenMemory, cancellationToken).ConfigureAwait(false);
                _passed.ResetWrittenCount();
            }
        }
    }

    /// <summary>A write-only stream in front of <paramref name="inner"/>, which it flushes; subclasses say what a write does.</summary>
    internal abstract class ForwardingWriteStream(Stream inner) : Stream
    {
        protected Stream Inner { get; } = inner;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => Inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Counts the bytes on their way to the destination, for progress.</summary>
    sealed class CountingStream(Stream inner, RestoreCounter counter) : ForwardingWriteStream(inner)
    {
        public override void Write(byte[] buffer, int offset, int count)
        {
            Inner.Write(buffer, offset, count);
            counter.Add(count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            counter.Add(buffer.Length);
        }
    }

    internal static async Task<DumpEntry> FindAsync(IBridge bridge, string name, CancellationToken cancellationToken)
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
public sealed record VerifiedDump(string Name, int ChunkCount, long Bytes, ManifestAuthentication Manifest)
{
    /// <summary>The parts whose chunks were checked (1 for a single-stream dump and for a dump of bridge format v1).</summary>
    public int PartCount { get; init; } = 1;
}

/// <summary>Bytes written to the destination so far; read from another thread by a progress display.</summary>
public sealed class RestoreCounter
{
    long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>From the manifest, once read: the bytes, tables and rows the restore will write (null when unknown).</summary>
    public long? ExpectedBytes { get; private set; }

    public int? ExpectedTables { get; private set; }

    public long? ExpectedRows { get; private set; }

    /// <summary>Says how a restore on several connections runs (split, or on one connection and why); null until it is known.</summary>
    public string? Plan { get; private set; }

    /// <summary>Hears <see cref="Plan"/> once it is chosen, before the destination is touched.</summary>
    public Action<string>? PlanChosen { get; init; }

    /// <summary>
    /// Hears a warning about the dump being restored, before the destination is touched: that it opened with a private
    /// key, so it is not authenticated (<see cref="BridgeCodecs.ForListedManifest"/>).
    /// </summary>
    public Action<string>? Warned { get; init; }

    internal void Warn(string warning) => Warned?.Invoke(warning);

    /// <summary>
    /// How far the dump's manifest is protected (as `verify` reports it), once the dump opened; null before. For
    /// `restore --json`: a dump opened with a private key is intact but not authenticated.
    /// </summary>
    public ManifestAuthentication? Manifest { get; private set; }

    internal void Opened(ManifestAuthentication manifest) => Manifest = manifest;

    internal void Choose(string plan)
    {
        Plan = plan;
        PlanChosen?.Invoke(plan);
    }

    internal void Expect(Bridges.DumpManifest manifest)
    {
        ExpectedBytes = manifest.SizePlain;
        ExpectedTables = manifest.Tables;
        ExpectedRows = manifest.Rows;
    }

    internal void Add(long bytes) => Interlocked.Add(ref _bytes, bytes);
}
