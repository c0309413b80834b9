using System.Runtime.CompilerServices;
using System.Text;
using Replica.Bridges;
using Replica.Core.Tests.Bridges;
using Replica.Config;
using Replica.Core.Tests.Config;
using Replica.Destinations;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Sources;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;
using ReadOnlyStream = Replica.ReadOnlyStream;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// A dump in parts (replica dump --jobs) from parts made up here, as the snapshot source yields them: the same rules
/// give the same SQL as the single stream of the same parts, up to N parts run at once, memory stays bounded, and a
/// failure in any part lists nothing. The real snapshot source is tested against PostgreSQL in the integration tests.
/// </summary>
public sealed class DumpJobPartsTests : IDisposable
{
    const string PreData = """
        CREATE TABLE public.customers (
            id integer NOT NULL,
            email text
        );
        CREATE TABLE public.audit (
            id integer NOT NULL,
            note text
        );
        CREATE TABLE public.logs (
            id integer NOT NULL,
            line text
        );
        CREATE TABLE public.m (
            id integer NOT NULL,
            email text
        )
        PARTITION BY RANGE (id);
        CREATE TABLE public.m_1 (
            id integer NOT NULL,
            email text
        );
        ALTER TABLE ONLY public.m ATTACH PARTITION public.m_1 FOR VALUES FROM (0) TO (100);

        """;

    const string OtherData = "SELECT pg_catalog.setval('public.customers_id_seq', 3, true);\n\n";

    const string PostData = """
        ALTER TABLE ONLY public.customers
            ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
        ALTER TABLE ONLY public.logs
            ADD CONSTRAINT logs_pkey PRIMARY KEY (id);
        CREATE INDEX audit_note ON public.audit USING btree (note);

        """;

    const string Rules = """
        secret: ${REPLICA_SECRET}
        transformers:
          - table: public.customers
            columns:
              email: email
          - table: public.m
            columns:
              email: email
          - table: public.audit
            data: skip
          - table: public.logs
            drop: true
        """;

    static readonly BridgeConfig s_settings = new()
    {
        ChunkSize = 64,
        Workers = 2,
        Compression = new CompressionConfig { Algorithm = "zstd" },
        Encryption = new EncryptionConfig { Key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()) },
    };

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;
    int _open;
    int _maxOpen;
    int _disposed;

    public DumpJobPartsTests()
    {
        _bridge = new LocalBridge(_dir.Combine("bridge"));
    }

    public void Dispose() => _dir.Dispose();

    sealed record FakePart(SnapshotPartKind Kind, SnapshotTable? Table, Func<Stream> Content);

    static SnapshotTable Table(string name, string columns, long bytes) => new("public", name, "public." + name, columns, bytes);

    static string Rows(string table, string columns, int count, Func<int, string> row)
    {
        var text = new StringBuilder($"COPY public.{table} ({columns}) FROM stdin;\n");
        for (var i = 1; i <= count; i++)
        {
            text.Append(row(i)).Append('\n');
        }
        return text.Append("\\.\n").ToString();
    }

    static readonly string s_customers = Rows("customers", "id, email", 40, i => $"{i}\tperson{i}@example.com");
    static readonly string s_partition = Rows("m_1", "id, email", 30, i => $"{i}\tm{i}@example.com");
    static readonly string s_audit = Rows("audit", "id, note", 20, i => $"{i}\tnote {i}");
    static readonly string s_logs = Rows("logs", "id, line", 20, i => $"{i}\tline {i}");

    static List<FakePart> ShopParts() =>
    [
        new(SnapshotPartKind.PreData, null, () => Text(PreData)),
        new(SnapshotPartKind.TableData, Table("customers", "id, email", 400), () => Text(s_customers)),
        new(SnapshotPartKind.TableData, Table("audit", "id, note", 300), () => Text(s_audit)),
        new(SnapshotPartKind.TableData, Table("m_1", "id, email", 200), () => Text(s_partition)),
        new(SnapshotPartKind.TableData, Table("logs", "id, line", 100), () => Text(s_logs)),
        new(SnapshotPartKind.OtherData, null, () => Text(OtherData)),
        new(SnapshotPartKind.PostData, null, () => Text(PostData)),
    ];

    static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>The parts as the snapshot source yields them; counts the parts open at once and those disposed.</summary>
    async IAsyncEnumerable<SnapshotPart> ReadAsync(List<FakePart> parts, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var part in parts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            var open = Interlocked.Increment(ref _open);
            InterlockedMax(ref _maxOpen, open);
            yield return new SnapshotPart(part.Kind, part.Table, part.Content(), _ =>
            {
                Interlocked.Decrement(ref _open);
                Interlocked.Increment(ref _disposed);
                return ValueTask.CompletedTask;
            });
        }
    }

    static void InterlockedMax(ref int max, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref max)) && Interlocked.CompareExchange(ref max, value, seen) != seen)
        {
        }
    }

    static DumpRewriter Rewriter(string rules = Rules) => new(DumpRequest.BuildRules(ConfigTestHelpers.Parse(rules)));

    Task<DumpResult> DumpInPartsAsync(List<FakePart> parts, DumpRewriter rewriter, string name, int jobs, ChunkerProbe? probe = null,
        CancellationToken cancellationToken = default) =>
        DumpJob.RunPartsAsync(token => ReadAsync(parts, token), "test snapshot", rewriter, _bridge, name, s_settings, jobs, probe, cancellationToken);

    async Task<string> RestoreAsync(string name)
    {
        var output = _dir.Combine(name + ".sql");
        await using (var destination = new FileDestination(output))
        {
            await RestoreJob.RunAsync(_bridge, name, destination, s_settings, CancellationToken.None);
        }
        return await File.ReadAllTextAsync(output);
    }

    /// <summary>The same parts, concatenated, dumped as one stream with the same rules: what --jobs 1 gives.</summary>
    async Task<(string Sql, DumpResult Result)> DumpAsOneStreamAsync(List<FakePart> parts, string name)
    {
        var path = _dir.Combine(name + ".input.sql");
        await using (var file = File.Create(path))
        {
            foreach (var part in parts)
            {
                await using var content = part.Content();
                await content.CopyToAsync(file);
            }
        }
        using var rewriter = Rewriter();
        var result = await DumpJob.RunAsync(new FileDumpSource(path), rewriter, _bridge, name, s_settings, CancellationToken.None);
        return (await RestoreAsync(name), result);
    }

    [Fact]
    public async Task RunPartsAsync_MaskDropAndSkipRules_RestoresTheSameSqlAsOneStream()
    {
        var parts = ShopParts();
        var (expected, single) = await DumpAsOneStreamAsync(parts, "single");
        using var rewriter = Rewriter();

        var result = await DumpInPartsAsync(parts, rewriter, "parted", jobs: 2);

        var sql = await RestoreAsync("parted");
        Assert.Equal(expected, sql);
        // What a user checks: masked in the table and in the partition (its parent's rule), the dropped table gone with
        // its constraint, the skipped table's schema and index kept without rows.
        Assert.DoesNotContain("person1@example.com", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("m1@example.com", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("logs", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("COPY public.audit", sql, StringComparison.Ordinal);
        Assert.Contains("CREATE INDEX audit_note", sql, StringComparison.Ordinal);
        // Rows kept, and values masked, as the single stream counts them (skipped and dropped tables are not read at all).
        Assert.Equal(single.Statistics.Rows - single.Statistics.DroppedRows, result.Statistics.Rows);
        Assert.Equal(single.Statistics.TransformedValues, result.Statistics.TransformedValues);
        var manifest = await _bridge.ReadManifestAsync("parted", CancellationToken.None);
        Assert.Equal(
            ["part 0 (pre-data)", "part 1 (data public.customers)", "part 2 (data public.m_1)", "part 3 (post-data)", "part 4 (post-data)"],
            manifest.Parts!.Select(p => p.ToString()));
        Assert.Equal(parts.Count, _disposed);
    }

    [Fact]
    public async Task RunPartsAsync_TwoRuns_RestoreByteIdenticalSql()
    {
        using var first = Rewriter();
        using var second = Rewriter();

        await DumpInPartsAsync(ShopParts(), first, "first", jobs: 3);
        await DumpInPartsAsync(ShopParts(), second, "second", jobs: 3);

        Assert.Equal(await RestoreAsync("first"), await RestoreAsync("second"));
    }

    [Fact]
    public async Task RunPartsAsync_RuleForATableNoPartHas_FailsAtTheEndAndListsNothing()
    {
        using var rewriter = Rewriter(Rules + """

              - table: public.custmers
                columns:
                  email: email
            """);

        var e = await Assert.ThrowsAsync<ConfigException>(() => DumpInPartsAsync(ShopParts(), rewriter, "parted", jobs: 2));

        Assert.Contains("the rule for table public.custmers matches no table of this dump (did you mean public.customers?)", e.Message, StringComparison.Ordinal);
        Assert.Equal(ShopParts().Count, _disposed);
        Assert.Empty(await _bridge.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunPartsAsync_TwoJobs_ReadsTwoTablePartsAtOnce()
    {
        // The first table's rows wait until the second table has begun: only parts read at the same time get through.
        var secondBegun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var parts = ShopParts();
        parts[1] = parts[1] with { Content = () => new GatedStream(Encoding.UTF8.GetBytes(s_customers), waitFor: secondBegun.Task, signal: null) };
        parts[3] = parts[3] with { Content = () => new GatedStream(Encoding.UTF8.GetBytes(s_partition), waitFor: null, signal: secondBegun) };
        using var rewriter = Rewriter();

        await DumpInPartsAsync(parts, rewriter, "parted", jobs: 2).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(2, _maxOpen);
        Assert.Single(await _bridge.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunPartsAsync_ManyLargeParts_ChunksInFlightStayWithinTheBound()
    {
        var parts = new List<FakePart> { new(SnapshotPartKind.PreData, null, () => Text("CREATE TABLE public.t0 (id integer, v text);\n")) };
        for (var t = 0; t < 6; t++)
        {
            var rows = Rows($"t{t}", "id, v", 400, i => $"{i}\tvalue {i} of table {t}");
            parts.Add(new(SnapshotPartKind.TableData, Table($"t{t}", "id, v", 1000 - t), () => Text(rows)));
        }
        parts.Add(new(SnapshotPartKind.PostData, null, () => Text("")));
        var probe = new ChunkerProbe();
        using var rewriter = new DumpRewriter(RewriteRules.None);

        await DumpInPartsAsync(parts, rewriter, "parted", jobs: 3, probe);

        // 3 parts in flight, each with WorkersPerPart(2, 3) = 1 worker + 2 chunks: 9 chunks of 64 bytes at most.
        Assert.Equal(1, DumpJob.WorkersPerPart(2, 3));
        Assert.InRange(probe.MaxInFlight, 1, 3 * (1 + 2));
        Assert.InRange(_maxOpen, 1, 3);
        Assert.Equal(0, probe.InFlight);
    }

    [Fact]
    public async Task RunPartsAsync_ManySmallTables_MakesItsBuffersOncePerPartInFlightNotPerTable()
    {
        // A schema of many small tables: each part in flight takes the chunk slots and pipe segments of the dump's, made
        // (and written whole, issue 12) once per part in flight. Made per part, 10,000 tables wrote ~200 GB of memset.
        const int Tables = 40;
        var schema = new StringBuilder();
        var parts = new List<FakePart> { new(SnapshotPartKind.PreData, null, () => Text(schema.ToString())) };
        for (var t = 0; t < Tables; t++)
        {
            schema.Append($"CREATE TABLE public.t{t} (id integer, v text);\n");
            var rows = Rows($"t{t}", "id, v", 3 + t % 5, i => $"{i}\tvalue {i} of table {t}");
            parts.Add(new(SnapshotPartKind.TableData, Table($"t{t}", "id, v", 1000 - t), () => Text(rows)));
        }
        parts.Add(new(SnapshotPartKind.PostData, null, () => Text("CREATE INDEX t0_v ON public.t0 USING btree (v);\n")));
        var probe = new ChunkerProbe();
        using var rewriter = new DumpRewriter(RewriteRules.None);

        await DumpInPartsAsync(parts, rewriter, "many", jobs: 3, probe);

        // 3 parts in flight, each with WorkersPerPart(2, 3) = 1 worker + 2 chunk slots, and its two pipes' segments
        // (source -> rewriter: pause 4 + 2, rewriter -> chunker: pause 1 + 2): made at most 3 times, not 42.
        Assert.Equal(1, DumpJob.WorkersPerPart(2, 3));
        Assert.InRange(probe.SlotsMade, 1 + 2, 3 * (1 + 2));
        Assert.InRange(probe.SegmentsMade, 6 + 3, 3 * (6 + 3));
        // Each part's rewriter gave its own buffers back when its part was stored, not at the end of the dump: a dump of
        // 2,000 small tables held ~17 KiB of them per table to its end (~35 MiB).
        Assert.InRange(rewriter.MostPartsHoldingBuffers, 1, 3);
        // The slots and segments went from table to table without mixing their bytes: every part restores as it was read.
        var expected = new StringBuilder();
        foreach (var part in parts)
        {
            using var reader = new StreamReader(part.Content());
            expected.Append(await reader.ReadToEndAsync());
        }
        Assert.Equal(expected.ToString(), await RestoreAsync("many"));
    }

    [Fact]
    public async Task RunPartsAsync_TableFailsMidRows_ThrowsItsErrorListsNothingAndKeepsEarlierDumps()
    {
        var parts = ShopParts();
        await DumpAsOneStreamAsync(parts, "earlier");
        var earlier = await RestoreAsync("earlier");
        var half = Encoding.UTF8.GetBytes(s_partition)[..200];
        parts[3] = parts[3] with { Content = () => new FailingStream(half, new DatabaseException("copying the rows of public.m_1 failed: connection lost")) };
        using var rewriter = Rewriter();

        var e = await Assert.ThrowsAsync<DatabaseException>(() => DumpInPartsAsync(parts, rewriter, "parted", jobs: 2));

        Assert.Equal("copying the rows of public.m_1 failed: connection lost", e.Message);
        Assert.Equal(["earlier"], (await _bridge.ListAsync(CancellationToken.None)).Select(d => d.Name));
        Assert.False(Directory.Exists(_dir.Combine("bridge", "parted")));
        Assert.Equal(earlier, await RestoreAsync("earlier"));
        // Every part the source gave was disposed, so its connection went back.
        Assert.Equal(0, _open);
    }

    [Fact]
    public async Task RunPartsAsync_Canceled_ThrowsCanceledAndListsNothing()
    {
        using var cancel = new CancellationTokenSource();
        var parts = ShopParts();
        parts[1] = parts[1] with { Content = () => new GatedStream(Encoding.UTF8.GetBytes(s_customers), waitFor: new TaskCompletionSource().Task, signal: null, onWait: cancel.Cancel) };
        using var rewriter = Rewriter();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DumpInPartsAsync(parts, rewriter, "parted", jobs: 2, cancellationToken: cancel.Token));

        Assert.Empty(await _bridge.ListAsync(CancellationToken.None));
        Assert.Equal(0, _open);
    }

    /// <summary>Gives its bytes; the first read waits for <c>waitFor</c> (cancellable), and the first read signals <c>signal</c>.</summary>
    sealed class GatedStream(byte[] data, Task? waitFor, TaskCompletionSource? signal, Action? onWait = null) : ReadOnlyStream
    {
        int _position;

        public override int Read(Span<byte> buffer) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            signal?.TrySetResult();
            if (waitFor is not null)
            {
                onWait?.Invoke();
                await waitFor.WaitAsync(cancellationToken);
            }
            var count = Math.Min(buffer.Length, data.Length - _position);
            data.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return count;
        }
    }

    /// <summary>Gives its bytes, then fails as a lost connection does.</summary>
    sealed class FailingStream(byte[] data, Exception failure) : ReadOnlyStream
    {
        int _position;

        public override int Read(Span<byte> buffer) => throw new NotSupportedException();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == data.Length)
            {
                throw failure;
            }
            var count = Math.Min(Math.Min(buffer.Length, 16), data.Length - _position);
            data.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return ValueTask.FromResult(count);
        }
    }
}
