using Replica.Bridges;
using Replica.Clients;
using Replica.Codecs;
using Replica.Destinations;
using Replica.Lexing;

namespace Replica.Pipeline;

/// <summary>
/// `replica restore --jobs N` into PostgreSQL: the dump goes into a staging database on several psql connections and
/// is swapped in only when every connection committed (all or nothing; a failure drops the staging database). Every
/// connection's stream passes its own <see cref="RestoreGuard"/>.
/// <list type="bullet">
/// <item>A dump in parts (pre-data, data of one table per part, post-data): pre-data on one connection; then the data
/// parts, largest first, on N connections (each in one transaction, after the session settings pre-data starts with);
/// then post-data: its index builds on N connections, then everything else in dump order on one (pg_dump sorts foreign keys
/// after indexes, constraints, rules and triggers, and event triggers last, so that they do not fire during the restore).</item>
/// <item>A single-stream dump (format v1, a file, pg_dump's stream): read once first (every chunk verified, every
/// statement checked) to find its COPY blocks; the schema before the first one runs on one connection, the run of COPY
/// blocks that follows on N, and the rest (from the first statement after that run) on one. No COPY block (INSERT
/// form), a COPY block the dump does not end, or more than 1 MiB of session settings before the data: one connection.</item>
/// <item>A dump that runs code at restore time or defines code something may run (a top-level DO or CALL, CREATE FUNCTION
/// or PROCEDURE in a single-stream dump, its pre-data or its post-data): one connection, in one transaction
/// (<see cref="CodeFinder"/>); in a data part, refused.</item>
/// </list>
/// </summary>
internal static partial class ParallelRestore
{
    /// <summary>The most session-setting bytes (SET ...) replayed on every data connection.</summary>
    const int MaxPreambleBytes = 1 << 20;

    public static async Task<long> RunAsync(IBridge bridge, DumpEntry entry, PsqlDestination destination, Config.BridgeConfig settings, int jobs,
        RestoreCounter? counter, long maxUnitBytes, CancellationToken cancellationToken, bool allowUnencrypted = false,
        AllowLegacy? allowLegacy = null)
    {
        DumpManifest manifest = await bridge.ReadManifestAsync(entry.Name, cancellationToken).ConfigureAwait(false);
        using IChunkCodec? codec = BridgeCodecs.ForListedManifest(entry, manifest, settings, allowUnencrypted, allowLegacy, counter is null ? null : counter.Warn);
        DumpReader.CheckManifest(entry.Name, manifest, codec);
        counter?.Expect(manifest);
        counter?.Opened(BridgeCodecs.AuthenticationOf(manifest, codec));
        var parts = DumpReader.ChunksByPart(manifest);
        var run = new Run(bridge, entry.Name, destination, codec, jobs, counter, maxUnitBytes);

        Plan plan;
        if (IsSections(parts))
        {
            // The key and the first chunk are checked before the destination is touched.
            var first = parts.FirstOrDefault(p => p.Chunks.Count > 0);
            if (first.Chunks is not null)
            {
                using var fork = run.Fork();
                await DumpReader.ReadSliceAsync(bridge, entry.Name, new PartSlice(first.Part, first.Chunks, 0, 1, 0, long.MaxValue), fork,
                    static (_, _) => ValueTask.CompletedTask, cancellationToken).ConfigureAwait(false);
            }
            var code = await FindCodeAsync(run, parts, cancellationToken).ConfigureAwait(false);
            plan = code is null ? new SectionsPlan(parts) : new SerialPlan(parts, code);
        }
        else if (parts.Count == 1 && parts[0].Part.Kind == PartKind.Stream)
        {
            plan = await ScanStreamAsync(run, parts[0].Part, parts[0].Chunks, settings.Workers ?? DumpChunker.DefaultWorkers, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            plan = new SerialPlan(parts, "its parts are not in the order pre-data, data, post-data");
        }
        counter?.Choose(plan.Describe(jobs));

        run.Target = await destination.PrepareStagingAsync(jobs, cancellationToken).ConfigureAwait(false);
        await plan.RunAsync(run, cancellationToken).ConfigureAwait(false);
        await destination.RunAfterRestoreAsync(run.Target, cancellationToken).ConfigureAwait(false);
        await destination.SwapAsync(cancellationToken).ConfigureAwait(false);
        return run.Bytes;
    }

    /// <summary>
    /// Reads the pre-data and post-data parts once before anything is restored (each statement checked by a guard) for a
    /// statement that runs code (<see cref="CodeFinder"/>): why the dump is then restored on one connection, or null. The
    /// data parts are not read twice (they hold pg_dump's COPY blocks and session settings); their connections refuse
    /// such a statement instead (<see cref="Run.StartDataSessionAsync"/>).
    /// </summary>
    static async Task<string?> FindCodeAsync(Run run, List<(PartInfo Part, IReadOnlyList<ChunkInfo> Chunks)> parts, CancellationToken cancellationToken)
    {
        var passed = new System.Buffers.ArrayBufferWriter<byte>(1 << 16);
        foreach (var (part, chunks) in parts.Where(p => p.Part.Kind is PartKind.PreData or PartKind.PostData))
        {
            var finder = new CodeFinder();
            using (var guard = run.Guard(finder))
            {
                await run.ReadAsync(PartSlice.Whole(part, chunks), (plain, _) =>
                {
                    guard.Process(plain.Span, passed);
                    passed.ResetWrittenCount();
                    return ValueTask.CompletedTask;
                }, cancellationToken).ConfigureAwait(false);
                guard.Complete(passed);
                passed.ResetWrittenCount();
            }
            if (finder.Reason($" of the {part.Kind} part") is { } reason)
            {
                return reason;
            }
        }
        return null;
    }

    /// <summary>Parts of kinds pre-data, data, post-data, in that order, with at least one data part.</summary>
    static bool IsSections(List<(PartInfo Part, IReadOnlyList<ChunkInfo> Chunks)> parts)
    {
        int stage = 0;
        bool data = false;
        foreach (var (part, _) in parts)
        {
            int kind = part.Kind switch
            {
                PartKind.PreData => 0,
                PartKind.Data => 1,
                PartKind.PostData => 2,
                _ => -1,
            };
            if (kind < stage)
            {
                return false;
            }
            stage = kind;
            data |= kind == 1;
        }
        return data;
    }

    /// <summary>What one parallel restore shares: the dump, the destination's staging database, the counters.</summary>
    sealed class Run(IBridge bridge, string name, PsqlDestination destination, IChunkCodec? codec, int jobs, RestoreCounter? counter, long maxUnitBytes)
    {
        long _bytes;

        public int Jobs => jobs;

        public DatabaseUri Target { get; set; } = null!;

        public long Bytes => Interlocked.Read(ref _bytes);

        /// <summary>A codec of the reader's own (null: the dump is stored as is).</summary>
        public IChunkCodec? Fork()
        {
            lock (this)
            {
                return codec?.Fork();
            }
        }

        public Task<GuardedSession> StartAsync(bool transaction, CancellationToken cancellationToken, IUnitSink? observer = null) =>
            GuardedSession.StartAsync(destination, Target, transaction, maxUnitBytes, cancellationToken, observer);

        public UnitSplitter Splitter() => new(maxUnitBytes);

        // What the connections' guards leave out (GuardedSession), this one does too: else it would refuse what they drop.
        public RestoreGuard Guard(IUnitSink? observer = null) => new(SqlDialect.PostgreSql, destination.Database, maxUnitBytes, observer, destination.LeaveOut);

        /// <summary>Counts bytes of the dump written to a connection other than through <see cref="WriteAsync"/>.</summary>
        public void Count(long bytes)
        {
            Interlocked.Add(ref _bytes, bytes);
            counter?.Add(bytes);
        }

        /// <summary>Writes a slice of the dump into <paramref name="session"/>, counting its bytes as restored.</summary>
        public async Task WriteAsync(PartSlice slice, GuardedSession session, CancellationToken cancellationToken, Action<ReadOnlyMemory<byte>>? observe = null)
        {
            session.Runs(slice.Part.Kind switch
            {
                PartKind.Data => $"the data of {slice.Part.Table}",
                PartKind.Stream => slice.FirstChunk == 0 && slice.Skip == 0 ? "the single-stream dump from its start" : "a slice of the single-stream dump",
                var kind => kind,
            });
            using var fork = Fork();
            await DumpReader.ReadSliceAsync(bridge, name, slice, fork, async (plain, token) =>
            {
                observe?.Invoke(plain);
                await session.WriteAsync(plain, token).ConfigureAwait(false);
                Count(plain.Length);
            }, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Reads a slice of the dump for another look (not restored, not counted).</summary>
        public async Task ReadAsync(PartSlice slice, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> read, CancellationToken cancellationToken)
        {
            using var fork = Fork();
            await DumpReader.ReadSliceAsync(bridge, name, slice, fork, read, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Reads the whole of a part with several workers (a scan), hearing each chunk's plain length.</summary>
        public Task<long> ScanAsync(PartSlice slice, int workers, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> read, Action<int> onChunk,
            CancellationToken cancellationToken) =>
            DumpReader.ReadSliceAsync(bridge, name, slice, codec, read, cancellationToken, workers, onChunk);

        /// <summary>
        /// Runs <paramref name="slices"/>, largest first, on up to <see cref="Jobs"/> connections, each of which starts with
        /// <paramref name="preamble"/> (session settings) and runs in one transaction.
        /// </summary>
        public Task RunDataAsync(IReadOnlyList<(PartSlice Slice, long Size)> slices, IReadOnlyList<byte[]> preamble, CancellationToken cancellationToken)
        {
            var queue = slices.OrderByDescending(s => s.Size).Select(s => s.Slice).ToArray();
            int next = -1;
            return WhenAllAsync(Enumerable.Range(0, Math.Min(jobs, queue.Length)).Select(_ => (Func<CancellationToken, Task>)(async token =>
            {
                GuardedSession? session = null;
                try
                {
                    for (int i = Interlocked.Increment(ref next); i < queue.Length; i = Interlocked.Increment(ref next))
                    {
                        session ??= await StartDataSessionAsync(preamble, token).ConfigureAwait(false);
                        await WriteAsync(queue[i], session, token).ConfigureAwait(false);
                    }
                    if (session is not null)
                    {
                        await session.CompleteAsync(token).ConfigureAwait(false);
                    }
                }
                finally
                {
                    session?.Dispose();
                }
            })), cancellationToken);
        }

        /// <summary>
        /// A connection for data, in one transaction, that ran <paramref name="preamble"/> (session settings) first. With
        /// <paramref name="refuseCode"/> it refuses a statement that runs code (a data part that was not read before).
        /// </summary>
        public async Task<GuardedSession> StartDataSessionAsync(IReadOnlyList<byte[]> preamble, CancellationToken cancellationToken, bool refuseCode = false)
        {
            var session = await StartAsync(transaction: true, cancellationToken, refuseCode ? new CodeRefuser() : null).ConfigureAwait(false);
            try
            {
                foreach (var setting in preamble)
                {
                    await session.WriteAsync(setting, cancellationToken).ConfigureAwait(false);
                }
                return session;
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }

        /// <summary>Runs <paramref name="slices"/> in order on one connection, in one transaction, after <paramref name="preamble"/>.</summary>
        public async Task RunSerialAsync(IEnumerable<PartSlice> slices, IReadOnlyList<byte[]> preamble, CancellationToken cancellationToken)
        {
            using var session = await StartDataSessionAsync(preamble, cancellationToken).ConfigureAwait(false);
            foreach (var slice in slices)
            {
                await WriteAsync(slice, session, cancellationToken).ConfigureAwait(false);
            }
            await session.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs every task; the first to fail cancels the others, and its error (not the others' cancellation) is thrown.
    /// </summary>
    static async Task WhenAllAsync(IEnumerable<Func<CancellationToken, Task>> bodies, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? first = null;
        var tasks = bodies.Select(body => Task.Run(async () =>
        {
            try
            {
                await body(stop.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                if (e is not OperationCanceledException || !stop.IsCancellationRequested)
                {
                    Interlocked.CompareExchange(ref first, e, null);
                }
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception) when (first is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }

    abstract class Plan
    {
        public abstract string Describe(int jobs);

        public abstract Task RunAsync(Run run, CancellationToken cancellationToken);
    }

    /// <summary>One connection for the whole dump (into the staging database all the same).</summary>
    sealed class SerialPlan(List<(PartInfo Part, IReadOnlyList<ChunkInfo> Chunks)> parts, string reason) : Plan
    {
        public override string Describe(int jobs) => $"restoring on one connection, not {jobs}: {reason}";

        public override Task RunAsync(Run run, CancellationToken cancellationToken) =>
            run.RunSerialAsync(parts.Select(p => PartSlice.Whole(p.Part, p.Chunks)), [], cancellationToken);
    }

    /// <summary>
    /// A dump in parts: pre-data; then the data parts in parallel, with the index builds and foreign keys of post-data
    /// running as soon as their tables are in; then the rest of post-data.
    /// </summary>
    sealed class SectionsPlan(List<(PartInfo Part, IReadOnlyList<ChunkInfo> Chunks)> parts) : Plan
    {
        public override string Describe(int jobs)
        {
            var data = parts.Count(p => p.Part.Kind == PartKind.Data);
            return $"restoring on {jobs} connections: pre-data on one, {data} data {(data == 1 ? "part" : "parts")} in parallel, "
                + "post-data's index builds and foreign keys as soon as their tables are in, then the rest of post-data in order on one";
        }

        public override async Task RunAsync(Run run, CancellationToken cancellationToken)
        {
            // Pre-data on one connection, committed before any data goes in; its leading session settings are kept for
            // the data connections (pg_restore sets the same on each of its connections).
            var preamble = new PreambleCollector(MaxPreambleBytes, leadingOnly: true);
            using (var splitter = run.Splitter())
            using (var session = await run.StartAsync(transaction: true, cancellationToken).ConfigureAwait(false))
            {
                foreach (var (part, chunks) in parts.Where(p => p.Part.Kind == PartKind.PreData))
                {
                    await run.WriteAsync(PartSlice.Whole(part, chunks), session, cancellationToken, plain => splitter.Process(plain.Span, preamble))
                        .ConfigureAwait(false);
                }
                await session.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            var data = parts.Where(p => p.Part.Kind == PartKind.Data)
                .Select(p => (PartSlice.Whole(p.Part, p.Chunks), p.Chunks.Sum(c => c.Size), TableOf(p.Part))).ToList();
            var postData = parts.Where(p => p.Part.Kind == PartKind.PostData).Select(p => PartSlice.Whole(p.Part, p.Chunks)).ToList();
            var dataTables = data.Where(d => d.Item3 is not null).Select(d => d.Item3!.Value).ToHashSet();
            var early = await CollectEarlyAsync(run, postData, dataTables, cancellationToken).ConfigureAwait(false);
            await RunScheduledAsync(run, data, early.Steps, preamble.Settings, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < postData.Count; i++)
            {
                var taken = early.Taken.Where(t => t.Part == i).Select(t => t.Unit).ToHashSet();
                await PostDataAsync(run, postData[i], taken, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
