using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Replica.Bridges.S3.Tests.Servers;
using Replica.Pipeline;
using Xunit.Abstractions;

namespace Replica.Bridges.S3.Tests;

/// <summary>
/// The S3 bridge against a real S3 server. The same tests run against moto and Ceph radosgw (one subclass each), so
/// that what passes does not depend on one server's leniency. Every test works in a bucket of its own.
/// </summary>
public abstract partial class S3BridgeTests(S3Server server, ITestOutputHelper output)
{
    const int MiB = 1024 * 1024;
    static readonly CancellationToken s_none = CancellationToken.None;

    protected S3Server Server { get; } = server;

    [Theory]
    [InlineData(0, 1024)]
    [InlineData(1, 1024)]
    [InlineData(10_000, 1000)]
    [InlineData(10_001, 4096)]
    public async Task RoundTrip_SmallChunks_RestoresSameBytes(int size, int chunkSize)
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        byte[] data = Bytes(size, seed: size);

        DumpEntry entry = await WriteDumpAsync(bridge, "dump-a", data, chunkSize);

        Assert.Equal((size + chunkSize - 1) / chunkSize, entry.ChunkCount);
        Assert.Equal(data, await RestoreAsync(bridge, "dump-a"));
    }

    [Fact]
    public async Task RoundTrip_ChunkAboveMultipartThreshold_UploadsInPartsAndRestores()
    {
        string bucket = await Server.CreateBucketAsync();
        // Default options: chunks above 16 MiB go up in 8 MiB parts.
        using var bridge = new S3Bridge(Server.Options(bucket));
        byte[] data = Bytes(20 * MiB + 5, seed: 7);

        await WriteDumpAsync(bridge, "dump-big", data, chunkSize: 17 * MiB);

        Assert.Equal(data, await RestoreAsync(bridge, "dump-big"));
        // A multipart object's ETag ends in "-<number of parts>": 17 MiB in 8 MiB parts is 3; the 3 MiB rest is one PUT.
        Assert.EndsWith("-3\"", await ETagAsync(bucket, "replica/dump-big/p000000-000000.chunk"));
        Assert.DoesNotContain("-", await ETagAsync(bucket, "replica/dump-big/p000000-000001.chunk"));
        Assert.Empty(await ListUploadsAsync(bucket));
    }

    [Fact]
    public async Task RoundTrip_SmallPartSize_ManyPartsInParallel()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket) with
        {
            MultipartThreshold = 6 * MiB,
            PartSize = S3BridgeOptions.MinPartSize,
            MultipartConcurrency = 3,
        });
        byte[] data = Bytes(26 * MiB + 1, seed: 8);

        await WriteDumpAsync(bridge, "dump-parts", data, chunkSize: 26 * MiB + 1);

        Assert.Equal(data, await RestoreAsync(bridge, "dump-parts"));
        Assert.EndsWith("-6\"", await ETagAsync(bucket, "replica/dump-parts/p000000-000000.chunk"));
    }

    [Fact]
    public async Task CompleteAsync_WritesManifestAndIndexUnderPrefix()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket, prefix: "team/replica/"));
        byte[] data = Bytes(2500, seed: 3);

        DumpEntry entry = await WriteDumpAsync(bridge, "dump-1", data, chunkSize: 1000);

        Assert.Equal(
            ["team/replica/dump-1/manifest.json", "team/replica/dump-1/p000000-000000.chunk", "team/replica/dump-1/p000000-000001.chunk",
             "team/replica/dump-1/p000000-000002.chunk", "team/replica/index.json"],
            await ListKeysAsync(bucket));

        using JsonDocument manifest = JsonDocument.Parse(await GetBytesAsync(bucket, "team/replica/dump-1/manifest.json"));
        JsonElement root = manifest.RootElement;
        Assert.Equal("dump-1", root.GetProperty("name").GetString());
        Assert.Equal(2500, root.GetProperty("size_out").GetInt64());
        Assert.Equal(entry.CreatedAt, root.GetProperty("created_at").GetInt64());
        JsonElement chunks = root.GetProperty("chunks");
        Assert.Equal(3, chunks.GetArrayLength());
        Assert.Equal("p000000-000002.chunk", chunks[2].GetProperty("key").GetString());
        Assert.Equal(500, chunks[2].GetProperty("size").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data.AsSpan(2000))), chunks[2].GetProperty("sha256").GetString());

        using JsonDocument index = JsonDocument.Parse(await GetBytesAsync(bucket, "team/replica/index.json"));
        Assert.Equal(1, index.RootElement.GetProperty("version").GetInt32());
        JsonElement listed = Assert.Single(index.RootElement.GetProperty("dumps").EnumerateArray());
        Assert.Equal("dump-1", listed.GetProperty("name").GetString());
        Assert.Equal("complete", listed.GetProperty("status").GetString());
        Assert.Equal(3, listed.GetProperty("chunk_count").GetInt32());
        Assert.Equal(2500, listed.GetProperty("size_out").GetInt64());

        Assert.Equal([entry], await bridge.ListAsync(s_none));
    }

    [Fact]
    public async Task S3cmd_ListsAndGetsChunkReplicaUploaded()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        byte[] data = Bytes(3000, seed: 11);
        await WriteDumpAsync(bridge, "dump-s3cmd", data, chunkSize: 2000);

        using var scratch = new ScratchDirectory();
        string config = scratch.Combine("s3cfg");
        // Path-style addressing: host_bucket without %(bucket)s. Plain HTTP, SigV4.
        await File.WriteAllTextAsync(config, $"""
            [default]
            access_key = {S3Server.AccessKey}
            secret_key = {S3Server.SecretKey}
            host_base = 127.0.0.1:{Server.Port}
            host_bucket = 127.0.0.1:{Server.Port}
            use_https = False
            signature_v2 = False
            bucket_location = us-east-1
            """);
        string s3cmd = ProcessRunner.FindOnPath("s3cmd")
            ?? throw new InvalidOperationException("s3cmd is not installed: apt-get install -y s3cmd (.ci/run does this).");

        ProcessOutput list = await ProcessRunner.RunAsync(s3cmd, ["-c", config, "ls", $"s3://{bucket}/replica/dump-s3cmd/"], throwOnError: false);
        Assert.True(list.ExitCode == 0, list.Describe());
        Assert.Contains($"s3://{bucket}/replica/dump-s3cmd/p000000-000000.chunk", list.Stdout);
        Assert.Contains($"s3://{bucket}/replica/dump-s3cmd/p000000-000001.chunk", list.Stdout);
        Assert.Contains($"s3://{bucket}/replica/dump-s3cmd/manifest.json", list.Stdout);

        string target = scratch.Combine("chunk1");
        ProcessOutput get = await ProcessRunner.RunAsync(s3cmd, ["-c", config, "get", $"s3://{bucket}/replica/dump-s3cmd/p000000-000001.chunk", target], throwOnError: false);
        Assert.True(get.ExitCode == 0, get.Describe());
        Assert.Equal(data.AsSpan(2000).ToArray(), await File.ReadAllBytesAsync(target));
    }

    /// <summary>
    /// What the index's concurrency rests on, checked on the server itself: of many PUTs racing with the same If-Match,
    /// at most one wins; the rest get 412, or 409 (S3's "conditional request conflict", which radosgw answers to all of
    /// them at times), and the bridge retries both. Threaded moto let two win now and then, and an index entry was lost.
    /// </summary>
    [Fact]
    public async Task ConditionalPut_RacingWriters_AtMostOneWins()
    {
        const int writers = 16;
        const int rounds = 10;
        string bucket = await Server.CreateBucketAsync();
        using AmazonS3Client client = Server.CreateClient();
        for (int round = 0; round < rounds; round++)
        {
            string key = $"race-{round}";
            PutObjectResponse first = await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = "v0" });
            string etag = first.ETag;
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var tasks = new Task<bool>[writers];
            for (int i = 0; i < writers; i++)
            {
                string body = $"writer {i}";
                tasks[i] = Task.Run(async () =>
                {
                    await gate.Task;
                    try
                    {
                        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = body, IfMatch = etag }, s_none);
                        return true;
                    }
                    catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
                    {
                        return false;
                    }
                });
            }
            gate.SetResult();
            bool[] won = await Task.WhenAll(tasks);
            Assert.InRange(won.Count(w => w), 0, 1);
            string stored = Encoding.UTF8.GetString(await GetBytesAsync(bucket, key));
            Assert.Equal(won.Contains(true) ? $"writer {Array.IndexOf(won, true)}" : "v0", stored);
        }
    }

    [Fact]
    public async Task CompleteAsync_SixteenConcurrentWriters_AllListed()
    {
        const int writers = 16;
        string bucket = await Server.CreateBucketAsync();
        // Every writer reaches CompleteAsync at the same moment, so their index.json updates collide. (An async gate, not
        // a Barrier: 16 blocked pool threads would starve the 2-core machine's thread pool.)
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int waiting = 0;
        var bridges = new S3Bridge[writers];
        for (int i = 0; i < writers; i++)
        {
            bridges[i] = new S3Bridge(Server.Options(bucket));
        }
        try
        {
            var tasks = new Task<DumpEntry>[writers];
            for (int i = 0; i < writers; i++)
            {
                S3Bridge bridge = bridges[i];
                string name = $"dump-{i:D2}";
                byte[] data = Bytes(1500, seed: i);
                tasks[i] = Task.Run(async () =>
                {
                    await using IDumpWriter writer = await bridge.BeginDumpAsync(name, s_none);
                    await writer.WriteChunkAsync(data.AsMemory(0, 1000), s_none);
                    await writer.WriteChunkAsync(data.AsMemory(1000), s_none);
                    if (Interlocked.Increment(ref waiting) == writers)
                    {
                        gate.SetResult();
                    }
                    await gate.Task.WaitAsync(TimeSpan.FromMinutes(2));
                    return await writer.CompleteAsync(new DumpSummary(data.Length, "test", false, false), s_none);
                });
            }
            DumpEntry[] entries = await Task.WhenAll(tasks);

            int conflicts = 0;
            foreach (S3Bridge bridge in bridges)
            {
                conflicts += bridge.IndexConflicts;
            }
            output.WriteLine($"{Server.Name}: {conflicts} lost index races among {writers} writers");

            using var reader = new S3Bridge(Server.Options(bucket));
            IReadOnlyList<DumpEntry> listed = await reader.ListAsync(s_none);
            Assert.Equal(writers, listed.Count);
            foreach (DumpEntry entry in entries)
            {
                Assert.Contains(entry, listed);
            }
            using JsonDocument index = JsonDocument.Parse(await GetBytesAsync(bucket, "replica/index.json"));
            Assert.Equal(writers, index.RootElement.GetProperty("dumps").GetArrayLength());
        }
        finally
        {
            foreach (S3Bridge bridge in bridges)
            {
                bridge.Dispose();
            }
        }
    }

    [Fact]
    public async Task UpdateIndex_AnotherWriterWinsTheRace_RetriesAndKeepsBoth()
    {
        string bucket = await Server.CreateBucketAsync();
        using var slow = new S3Bridge(Server.Options(bucket));
        using var fast = new S3Bridge(Server.Options(bucket));
        string? raceWith = null;
        // Between the slow writer's read of index.json and its write, the fast writer lists another dump.
        slow.BeforeIndexWrite = async ct =>
        {
            if (raceWith is { } name)
            {
                raceWith = null;
                await WriteDumpAsync(fast, name, Bytes(10), chunkSize: 10);
            }
        };

        // No index.json yet: the slow writer's If-None-Match: * must fail because the fast one created it.
        raceWith = "fast-1";
        await WriteDumpAsync(slow, "slow-1", Bytes(10), chunkSize: 10);
        Assert.Equal(1, slow.IndexConflicts);

        // index.json exists: the slow writer's If-Match on the ETag it read must fail.
        raceWith = "fast-2";
        await WriteDumpAsync(slow, "slow-2", Bytes(10), chunkSize: 10);
        Assert.Equal(2, slow.IndexConflicts);

        Assert.Equal(["fast-1", "fast-2", "slow-1", "slow-2"], await ListedNamesAsync(slow));
    }

    /// <summary>
    /// Regression: index.json read without an ETag (a server or proxy that drops the header) made its compare-and-swap an
    /// unconditional PUT (an empty If-Match, which the SDK leaves out): 6 parallel dumps all succeeded and 3 were listed.
    /// </summary>
    [Fact]
    public async Task CompleteAsync_IndexReadWithoutETag_FailsAndLeavesTheIndexAsItWas()
    {
        string bucket = await Server.CreateBucketAsync();
        using var honest = new S3Bridge(Server.Options(bucket));
        await WriteDumpAsync(honest, "first", Bytes(100, seed: 1), chunkSize: 50);
        byte[] indexBefore = await GetBytesAsync(bucket, "replica/index.json");
        using var tamperer = new HeaderTamperer { DropETag = HeaderTamperer.GetOf("/replica/index.json") };
        using var bridge = new S3Bridge(Server.Options(bucket), tamperer);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => WriteDumpAsync(bridge, "second", Bytes(100, seed: 2), chunkSize: 50));

        Assert.Contains($"s3://{bucket}/replica/index.json", ex.Message);
        Assert.Contains("without an ETag", ex.Message);
        Assert.Contains("does not support the conditional writes", ex.Message);
        Assert.Equal(indexBefore, await GetBytesAsync(bucket, "replica/index.json"));
        Assert.Equal(["first"], await ListedNamesAsync(honest));
        Assert.Empty(await ListKeysAsync(bucket, "replica/second/"));
    }

    [Fact]
    public async Task DeleteAsync_NameIsPrefixOfAnother_LeavesTheOtherDump()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        byte[] keep = Bytes(3000, seed: 10);
        await WriteDumpAsync(bridge, "dump-1", Bytes(3000, seed: 1), chunkSize: 1000);
        await WriteDumpAsync(bridge, "dump-10", keep, chunkSize: 1000);
        List<string> dump10Keys = await ListKeysAsync(bucket, "replica/dump-10/");

        await bridge.DeleteAsync("dump-1", s_none);

        Assert.Equal(["dump-10"], await ListedNamesAsync(bridge));
        Assert.Empty(await ListKeysAsync(bucket, "replica/dump-1/"));
        Assert.Equal(dump10Keys, await ListKeysAsync(bucket, "replica/dump-10/"));
        Assert.Equal(keep, await RestoreAsync(bridge, "dump-10"));
    }

    [Fact]
    public async Task DeleteAsync_UnknownName_ThrowsAndChangesNothing()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        await WriteDumpAsync(bridge, "dump-10", Bytes(100), chunkSize: 100);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => bridge.DeleteAsync("dump-1", s_none));

        Assert.Contains("no dump named 'dump-1'", ex.Message);
        Assert.Equal(["dump-10"], await ListedNamesAsync(bridge));
    }

    [Fact]
    public async Task DisposeAsync_WithoutComplete_LeavesNothingAndFreesTheName()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket) with { MultipartThreshold = 6 * MiB, PartSize = S3BridgeOptions.MinPartSize });
        await WriteDumpAsync(bridge, "dump-kept", Bytes(100), chunkSize: 100);

        await using (IDumpWriter writer = await bridge.BeginDumpAsync("dump-gone", s_none))
        {
            await writer.WriteChunkAsync(Bytes(1000), s_none);
            await writer.WriteChunkAsync(Bytes(7 * MiB), s_none);
            Assert.Contains("replica/dump-gone/p000000-000001.chunk", await ListKeysAsync(bucket));
        }

        Assert.Equal(["dump-kept"], await ListedNamesAsync(bridge));
        Assert.Empty(await ListKeysAsync(bucket, "replica/dump-gone/"));
        Assert.Empty(await ListUploadsAsync(bucket));
        // Nothing blocks the name any more.
        await WriteDumpAsync(bridge, "dump-gone", Bytes(10), chunkSize: 10);
        Assert.Equal(["dump-gone", "dump-kept"], await ListedNamesAsync(bridge));
    }

    [Fact]
    public async Task BeginDumpAsync_NameTaken_Throws()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        using var other = new S3Bridge(Server.Options(bucket));

        await using (IDumpWriter writer = await bridge.BeginDumpAsync("dump-x", s_none))
        {
            await writer.WriteChunkAsync(Bytes(10), s_none);
            var writing = await Assert.ThrowsAsync<BridgeException>(() => other.BeginDumpAsync("dump-x", s_none));
            Assert.Contains("is being written", writing.Message);
            var deleting = await Assert.ThrowsAsync<BridgeException>(() => other.DeleteAsync("dump-x", s_none));
            Assert.Contains("is being written", deleting.Message);
            await writer.CompleteAsync(new DumpSummary(10, "test", false, false), s_none);
        }

        var exists = await Assert.ThrowsAsync<BridgeException>(() => other.BeginDumpAsync("dump-x", s_none));
        Assert.Contains("already exists", exists.Message);
        Assert.Equal(["replica/dump-x/manifest.json", "replica/dump-x/p000000-000000.chunk", "replica/index.json"], await ListKeysAsync(bucket));
    }

    [Fact]
    public async Task WriteChunkAsync_TransientServerErrors_RetriedAndDumpCompletes()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket), faults);
        faults.Fail(FaultInjector.PutOf("/p000000-000001.chunk"), times: 2, HttpStatusCode.ServiceUnavailable, "SlowDown");
        byte[] data = Bytes(3000, seed: 4);

        await WriteDumpAsync(bridge, "dump-retried", data, chunkSize: 1000);

        Assert.Equal(2, faults.Injected);
        Assert.Equal(data, await RestoreAsync(bridge, "dump-retried"));
    }

    [Fact]
    public async Task WriteChunkAsync_PartKeepsFailing_AbortsUploadAndListsNothing()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket) with
        {
            MultipartThreshold = 6 * MiB,
            PartSize = S3BridgeOptions.MinPartSize,
            MaxRetries = 2,
        }, faults);
        faults.Fail(FaultInjector.UploadPart(2), times: int.MaxValue);

        await using (IDumpWriter writer = await bridge.BeginDumpAsync("dump-broken", s_none))
        {
            await writer.WriteChunkAsync(Bytes(1000), s_none);
            var ex = await Assert.ThrowsAsync<BridgeException>(() => writer.WriteChunkAsync(Bytes(12 * MiB), s_none));

            Assert.Contains($"s3://{bucket}/replica/dump-broken/p000000-000001.chunk", ex.Message);
            Assert.Contains("InternalError", ex.Message);
            Assert.Equal("InternalError", ex.Data["S3ErrorCode"]);
            Assert.Equal(bucket, ex.Data["S3Bucket"]);
            Assert.Equal(3, faults.Injected);
            // The final failure aborted the multipart upload before it was reported.
            Assert.Empty(await ListUploadsAsync(bucket));
            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteChunkAsync(Bytes(10), s_none));
        }

        Assert.Empty(await bridge.ListAsync(s_none));
        Assert.Empty(await ListKeysAsync(bucket));
    }

    [Fact]
    public async Task DisposeAsync_CleanupFailsToo_MessageKeepsBothReasons()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket) with { MaxRetries = 0 }, faults);
        IDumpWriter writer = await bridge.BeginDumpAsync("dump-stuck", s_none);
        // From here on every PUT fails: the chunk, and the cleanup's first step (listing uploads) fails too.
        faults.Fail(request => request.Method == HttpMethod.Put || request.RequestUri!.Query.Contains("uploads", StringComparison.Ordinal),
            times: int.MaxValue, HttpStatusCode.Forbidden, "AccessDenied");
        await Assert.ThrowsAsync<BridgeException>(() => writer.WriteChunkAsync(Bytes(10), s_none));

        var ex = await Assert.ThrowsAsync<BridgeException>(async () => await writer.DisposeAsync());

        Assert.Contains("Dump 'dump-stuck' failed (Cannot store chunk 0", ex.Message);
        Assert.Contains("removing what it stored failed too", ex.Message);
        Assert.Contains("replica delete --abandoned", ex.Message);
        Assert.Empty(await bridge.ListAsync(s_none));
    }

    [Fact]
    public async Task CompleteAsync_IndexWriteKeepsFailing_NoEntryAndNoObjectsLeft()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket) with { MaxRetries = 1 }, faults);
        await WriteDumpAsync(bridge, "dump-ok", Bytes(10), chunkSize: 10);
        faults.Fail(FaultInjector.PutOf("/index.json"), times: int.MaxValue, HttpStatusCode.ServiceUnavailable, "ServiceUnavailable");

        await using (IDumpWriter writer = await bridge.BeginDumpAsync("dump-unlisted", s_none))
        {
            await writer.WriteChunkAsync(Bytes(100), s_none);
            var ex = await Assert.ThrowsAsync<BridgeException>(
                () => writer.CompleteAsync(new DumpSummary(100, "test", false, false), s_none));
            Assert.Contains($"s3://{bucket}/replica/index.json", ex.Message);
            Assert.Contains("ServiceUnavailable", ex.Message);
        }

        Assert.Equal(["dump-ok"], await ListedNamesAsync(bridge));
        Assert.Empty(await ListKeysAsync(bucket, "replica/dump-unlisted/"));
    }

    [Fact]
    public async Task BeginDumpAsync_MissingBucket_ErrorNamesBucketAndCode()
    {
        using var bridge = new S3Bridge(Server.Options("replica-no-such-bucket"));

        var ex = await Assert.ThrowsAsync<BridgeException>(() => bridge.BeginDumpAsync("dump-1", s_none));

        Assert.Contains("s3://replica-no-such-bucket/", ex.Message);
        Assert.Contains("NoSuchBucket", ex.Message);
        Assert.Equal("NoSuchBucket", ex.Data["S3ErrorCode"]);
    }

    [Fact]
    public async Task ListAsync_ServerUnreachable_FailsAfterRetriesNamingTheKey()
    {
        using var bridge = new S3Bridge(Server.Options("some-bucket") with
        {
            EndpointUrl = $"http://127.0.0.1:{ServerFixture.FreePort()}",
            MaxRetries = 2,
        });

        var ex = await Assert.ThrowsAsync<BridgeException>(() => bridge.ListAsync(s_none));

        Assert.Contains("s3://some-bucket/replica/index.json", ex.Message);
        Assert.Contains("after 3 tries", ex.Message);
    }

    [Fact]
    public async Task RoundTrip_PartLongerThanAChunkList_StoresListsAndRestores_ListReplacedInBucketFailsIntegrity()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket) with { ChunkListLength = 3 });
        byte[] data = Bytes(7000, seed: 12);

        DumpEntry entry = await WriteDumpAsync(bridge, "dump-l", data, chunkSize: 1000);

        Assert.Equal(7, entry.ChunkCount);
        Assert.Equal(
            ["replica/dump-l/manifest.json", .. Enumerable.Range(0, 7).Select(i => $"replica/dump-l/p000000-{i:D6}.chunk"),
             "replica/dump-l/p000000-list000000.json", "replica/dump-l/p000000-list000001.json", "replica/dump-l/p000000-list000002.json",
             "replica/index.json"],
            await ListKeysAsync(bucket));
        using (JsonDocument manifest = JsonDocument.Parse(await GetBytesAsync(bucket, "replica/dump-l/manifest.json")))
        {
            Assert.Equal(3, manifest.RootElement.GetProperty("version").GetInt32());
            Assert.Equal(0, manifest.RootElement.GetProperty("chunks").GetArrayLength());
        }
        Assert.Equal(data, await RestoreAsync(bridge, "dump-l"));

        // The second list replaced by the first one: its hash no longer matches the manifest's.
        byte[] first = await GetBytesAsync(bucket, "replica/dump-l/p000000-list000000.json");
        using (AmazonS3Client client = Server.CreateClient())
        {
            await client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket,
                Key = "replica/dump-l/p000000-list000001.json",
                InputStream = new MemoryStream(first),
            });
        }
        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreAsync(bridge, "dump-l"));
        Assert.Contains("p000000-list000001.json", ex.Message);
        Assert.Contains("the manifest says", ex.Message);
    }

    [Fact]
    public async Task Share_ChunksOverSeveralPagesAndChunkLists_RestoresThroughTheLinkAlone_RevokeKillsIt()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket) with { ChunkListLength = 3 });
        byte[] data = Bytes(7000, seed: 21);
        await WriteDumpAsync(bridge, "dump-s", data, chunkSize: 1000);

        SharedDump share = await DumpShare.ShareAsync(bridge, "dump-s", TimeSpan.FromHours(1), pageLength: 2, s_none);

        Assert.Matches("^[0-9a-f]{16}$", share.Id);
        Assert.Equal(7, share.Entry.ChunkCount);
        // The manifest, three chunk lists and seven chunks.
        Assert.Equal(11, share.Objects);
        Assert.Empty(share.Warnings);
        Assert.Equal(
            [.. Enumerable.Range(0, 4).Select(i => $"replica/.shares/{share.Id}/page{i:D6}.json"), $"replica/.shares/{share.Id}/share.json"],
            await ListKeysAsync(bucket, "replica/.shares/"));
        // Read with no bucket credentials at all: plain GETs of the links.
        ObjectBridge shared = DumpShare.Open(share.Url.AbsoluteUri);
        Assert.Equal(["dump-s"], await ListedNamesAsync(shared));
        Assert.Equal(data, await RestoreAsync(shared, "dump-s"));
        Assert.Equal(data, await RestoreAsync(DumpShare.Open(share.Url.AbsoluteUri), (await DumpReader.ResolveLatestAsync(shared, s_none)).Name));

        // The share folder is not a dump: an index rebuild and the abandoned-dump cleanup (two days later) pass it by.
        Assert.Equal(["dump-s"], (await bridge.RebuildIndexAsync(s_none)).Select(e => e.Name));
        using (var later = new S3Bridge(Server.Options(bucket) with { TimeProvider = new ShiftedClock(TimeSpan.FromDays(2)) }))
        {
            Assert.Empty(await later.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, s_none));
        }
        Assert.Equal(5, (await ListKeysAsync(bucket, "replica/.shares/")).Count);

        Assert.Equal(5, await DumpShare.RevokeAsync(bridge, share.Id, s_none));
        Assert.Empty(await ListKeysAsync(bucket, "replica/.shares/"));
        var revoked = await Assert.ThrowsAsync<BridgeException>(() => RestoreAsync(DumpShare.Open(share.Url.AbsoluteUri), "dump-s"));
        Assert.Contains("HTTP 404", revoked.Message);
        Assert.Contains("revoked", revoked.Message);
        Assert.DoesNotContain("X-Amz-Signature", revoked.Message);
        var again = await Assert.ThrowsAsync<BridgeException>(() => DumpShare.RevokeAsync(bridge, share.Id, s_none));
        Assert.Contains($"no share '{share.Id}'", again.Message);
        // The dump itself is untouched.
        Assert.Equal(data, await RestoreAsync(bridge, "dump-s"));
    }

    [Fact]
    public async Task Share_ListNamesEachShare_DeletingADumpDeletesItsShares_PruneDeletesExpiredOnly()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        await WriteDumpAsync(bridge, "dump-x", Bytes(3000, seed: 5), chunkSize: 1000);
        await WriteDumpAsync(bridge, "dump-y", Bytes(2000, seed: 6), chunkSize: 1000);
        SharedDump x1 = await DumpShare.ShareAsync(bridge, "dump-x", TimeSpan.FromHours(1), s_none);
        SharedDump x2 = await DumpShare.ShareAsync(bridge, "dump-x", TimeSpan.FromHours(2), s_none);
        SharedDump y = await DumpShare.ShareAsync(bridge, "dump-y", TimeSpan.FromHours(3), s_none);

        var listed = await DumpShare.ListAsync(bridge, s_none);

        Assert.Equal([(x1.Id, "dump-x"), (x2.Id, "dump-x"), (y.Id, "dump-y")], listed.Select(l => (l.Id, l.Dump!)).OrderBy(l => l.Item2).ThenBy(l => l.Id == x2.Id));
        Assert.Equal(y.ExpiresAt.ToUnixTimeMilliseconds(), listed.Single(l => l.Id == y.Id).ExpiresAt!.Value.ToUnixTimeMilliseconds());

        await bridge.DeleteAsync("dump-x", s_none);

        Assert.Equal([y.Id], (await DumpShare.ListAsync(bridge, s_none)).Select(l => l.Id));
        Assert.Empty(await ListKeysAsync(bucket, $"replica/.shares/{x1.Id}/"));
        Assert.Empty(await ListKeysAsync(bucket, $"replica/.shares/{x2.Id}/"));
        Assert.Equal(Bytes(2000, seed: 6), await RestoreAsync(DumpShare.Open(y.Url.AbsoluteUri), "dump-y"));

        // Two hours on (the bridge's clock): a one-hour share of dump-y has expired and goes; the three-hour one stays.
        SharedDump shortLived = await DumpShare.ShareAsync(bridge, "dump-y", TimeSpan.FromHours(1), s_none);
        Assert.Empty(await DumpShare.PruneAsync(bridge, s_none));
        using var later = new S3Bridge(Server.Options(bucket) with { TimeProvider = new ShiftedClock(TimeSpan.FromHours(2)) });
        Assert.Equal([shortLived.Id], await DumpShare.PruneAsync(later, s_none));
        Assert.Equal([y.Id], (await DumpShare.ListAsync(bridge, s_none)).Select(l => l.Id));
        Assert.Empty(await ListKeysAsync(bucket, $"replica/.shares/{shortLived.Id}/"));
    }

    [Fact]
    public async Task Share_EditedShareObjectOrPage_RefusedBeforeAnyChunkIsRead()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        byte[] data = Bytes(5000, seed: 22);
        await WriteDumpAsync(bridge, "dump-e", data, chunkSize: 1000);
        SharedDump share = await DumpShare.ShareAsync(bridge, "dump-e", TimeSpan.FromHours(1), pageLength: 2, s_none);
        string shareKey = $"replica/.shares/{share.Id}/share.json";
        string original = Encoding.UTF8.GetString(await GetBytesAsync(bucket, shareKey));
        Uri endpoint = new(Server.EndpointUrl);

        // A page link sent to another server (the share object's own link still works: it signs the request, not the content).
        string elsewhere = original.Replace($"{endpoint.Host}:{endpoint.Port}/", "127.0.0.2:9/", StringComparison.Ordinal);
        Assert.NotEqual(original, elsewhere);
        await PutAsync(bucket, shareKey, elsewhere);
        var moved = await Assert.ThrowsAsync<BridgeException>(() => RestoreAsync(DumpShare.Open(share.Url.AbsoluteUri), "dump-e"));
        Assert.Contains("does not lead to", moved.Message);

        // A chunk key that leads out of the dump's folder.
        await PutAsync(bucket, shareKey, original.Replace("\"first\": \"p000000-000000.chunk\"", "\"first\": \"../index.json\"", StringComparison.Ordinal));
        var path = await Assert.ThrowsAsync<BridgeException>(() => RestoreAsync(DumpShare.Open(share.Url.AbsoluteUri), "dump-e"));
        Assert.Contains("not a plain file name", path.Message);

        // A page replaced: its SHA-256 no longer matches the share object's.
        await PutAsync(bucket, shareKey, original);
        string page0 = $"replica/.shares/{share.Id}/page000000.json";
        string page = Encoding.UTF8.GetString(await GetBytesAsync(bucket, page0));
        await PutAsync(bucket, page0, page.Replace("p000000-000001.chunk", "p000000-000000.chunk", StringComparison.Ordinal));
        var changed = await Assert.ThrowsAsync<BridgeException>(() => RestoreAsync(DumpShare.Open(share.Url.AbsoluteUri), "dump-e"));
        Assert.Contains("page 0 does not have the SHA-256", changed.Message);

        // Put back, the share reads again.
        await PutAsync(bucket, page0, page);
        Assert.Equal(data, await RestoreAsync(DumpShare.Open(share.Url.AbsoluteUri), "dump-e"));
    }

    [Fact]
    public async Task Share_LifetimeOverSevenDaysOrLocalBridge_RefusedWithoutStoringAnything()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        await WriteDumpAsync(bridge, "dump-x", Bytes(100), chunkSize: 1000);

        var tooLong = await Assert.ThrowsAsync<ConfigException>(() => DumpShare.ShareAsync(bridge, "dump-x", TimeSpan.FromDays(8), s_none));
        Assert.Contains("at most 7 days", tooLong.Message);
        await Assert.ThrowsAsync<ConfigException>(() => DumpShare.ShareAsync(bridge, "dump-x", TimeSpan.Zero, s_none));
        Assert.Empty(await ListKeysAsync(bucket, "replica/.shares/"));

        using var directory = new ScratchDirectory();
        var local = new LocalBridge(directory.Combine("bridge"));
        await WriteDumpAsync(local, "dump-x", Bytes(100), chunkSize: 1000);
        var notS3 = await Assert.ThrowsAsync<ConfigException>(() => DumpShare.ShareAsync(local, "dump-x", TimeSpan.FromHours(1), s_none));
        Assert.Contains("S3 bridge", notS3.Message);
        Assert.Contains("replica export", notS3.Message);
    }

    [Fact]
    public async Task ExportThenImport_BucketToFileToAnotherBucket_SameObjectsAndBytes()
    {
        string from = await Server.CreateBucketAsync();
        string to = await Server.CreateBucketAsync();
        using var source = new S3Bridge(Server.Options(from) with { ChunkListLength = 2 });
        using var target = new S3Bridge(Server.Options(to));
        byte[] data = Bytes(5000, seed: 21);
        DumpEntry entry = await WriteDumpAsync(source, "dump-x", data, chunkSize: 1000);
        string file = Path.Combine(Path.GetTempPath(), $"replica-s3-export-{Guid.NewGuid():N}.replica");
        try
        {
            await using (var output = new Replica.Destinations.FileDestination(file))
            {
                Assert.Equal(entry, await ArchiveJob.ExportAsync(source, "dump-x", output, s_none));
            }

            DumpEntry imported = await ArchiveJob.ImportAsync(target, file, s_none);

            Assert.Equal(entry, imported);
            Assert.Equal([entry], await target.ListAsync(s_none));
            Assert.Equal(
                (await ListKeysAsync(from, "replica/dump-x/")).Select(k => k[(k.LastIndexOf('/') + 1)..]),
                (await ListKeysAsync(to, "replica/dump-x/")).Select(k => k[(k.LastIndexOf('/') + 1)..]));
            Assert.Equal(await GetBytesAsync(from, "replica/dump-x/manifest.json"), await GetBytesAsync(to, "replica/dump-x/manifest.json"));
            Assert.Equal(data, await RestoreAsync(target, "dump-x"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task RestoreAsync_ChunkReplacedInBucket_FailsIntegrity()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        await WriteDumpAsync(bridge, "dump-t", Bytes(2000, seed: 5), chunkSize: 1000);
        using (AmazonS3Client client = Server.CreateClient())
        {
            await client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket,
                Key = "replica/dump-t/p000000-000001.chunk",
                InputStream = new MemoryStream(Bytes(1000, seed: 6)),
            });
        }

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreAsync(bridge, "dump-t"));

        Assert.Contains("chunk 1", ex.Message);
        Assert.Contains("SHA-256", ex.Message);
    }

    [Fact]
    public async Task RebuildIndexAsync_IndexLost_ListsCompleteDumpsOnly()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        var entries = new List<DumpEntry>();
        for (int i = 1; i <= 3; i++)
        {
            entries.Add(await WriteDumpAsync(bridge, $"dump-{i}", Bytes(500 * i, seed: i), chunkSize: 400));
        }
        await using IDumpWriter unfinished = await bridge.BeginDumpAsync("dump-4", s_none);
        await unfinished.WriteChunkAsync(Bytes(50), s_none);
        using (AmazonS3Client client = Server.CreateClient())
        {
            await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = "replica/index.json" });
        }
        Assert.Empty(await bridge.ListAsync(s_none));

        IReadOnlyList<DumpEntry> rebuilt = await bridge.RebuildIndexAsync(s_none);

        Assert.Equal(entries, rebuilt);
        Assert.Equal(entries, await bridge.ListAsync(s_none));
        Assert.Equal(Bytes(1000, seed: 2), await RestoreAsync(bridge, "dump-2"));
        // The writer that was busy during the rebuild still lists its dump afterwards.
        await unfinished.CompleteAsync(new DumpSummary(50, "test", false, false), s_none);
        Assert.Equal(["dump-1", "dump-2", "dump-3", "dump-4"], await ListedNamesAsync(bridge));
    }

    [Fact]
    public async Task DeleteAbandonedAsync_KilledWritersLeftovers_RemovedAndNameUsableAgain()
    {
        string bucket = await Server.CreateBucketAsync();
        // What a writer killed with SIGKILL leaves: its marker and a chunk, never refreshed again.
        await PutAsync(bucket, "replica/killed/.writing", "pid 1 on host");
        await PutAsync(bucket, "replica/killed/p000000-000000.chunk", "chunk");
        using var bridge = new S3Bridge(Server.Options(bucket));
        var claimed = await Assert.ThrowsAsync<BridgeException>(() => bridge.BeginDumpAsync("killed", s_none));
        Assert.Contains("replica delete --abandoned", claimed.Message);
        // Two hours later, on the deleting machine's clock.
        using var later = new S3Bridge(Server.Options(bucket) with { TimeProvider = new ShiftedClock(TimeSpan.FromHours(2)) });

        IReadOnlyList<string> dryRun = await later.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: true, s_none);
        Assert.Equal(["killed"], dryRun);
        Assert.Equal(2, (await ListKeysAsync(bucket, "replica/killed/")).Count);
        IReadOnlyList<string> removed = await later.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, s_none);

        Assert.Equal(["killed"], removed);
        Assert.Empty(await ListKeysAsync(bucket, "replica/killed/"));
        await WriteDumpAsync(bridge, "killed", Bytes(10), chunkSize: 10);
        Assert.Equal(["killed"], await ListedNamesAsync(bridge));
    }

    [Fact]
    public async Task DeleteAbandonedAsync_YoungLeftoversAndListedDumps_AreKept()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        await WriteDumpAsync(bridge, "listed", Bytes(10), chunkSize: 10);
        await PutAsync(bucket, "replica/young/.writing", "pid 1 on host");
        using var later = new S3Bridge(Server.Options(bucket) with { TimeProvider = new ShiftedClock(TimeSpan.FromMinutes(30)) });

        IReadOnlyList<string> removed = await later.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, s_none);
        using var muchLater = new S3Bridge(Server.Options(bucket) with { TimeProvider = new ShiftedClock(TimeSpan.FromDays(30)) });
        IReadOnlyList<string> old = await muchLater.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, s_none);

        Assert.Empty(removed);
        Assert.Equal(["young"], old);
        Assert.Equal(["listed"], await ListedNamesAsync(bridge));
        Assert.Equal(Bytes(10), await RestoreAsync(bridge, "listed"));
    }

    [Fact]
    public async Task DeleteAbandonedAsync_LiveWriterRefreshesItsMarker_IsNeverRemoved()
    {
        string bucket = await Server.CreateBucketAsync();
        var fast = Server.Options(bucket) with { MarkerRefreshInterval = TimeSpan.FromSeconds(1) };
        using var bridge = new S3Bridge(fast);
        await PutAsync(bucket, "replica/dead/.writing", "pid 1 on host");
        await using IDumpWriter writer = await bridge.BeginDumpAsync("live", s_none);
        await writer.WriteChunkAsync(Bytes(10), s_none);

        // Longer than --stale-after: without refreshes the live writer's marker would look as dead as the other one.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        IReadOnlyList<string> removed = await bridge.DeleteAbandonedAsync(TimeSpan.FromSeconds(3), dryRun: false, s_none);

        Assert.Equal(["dead"], removed);
        Assert.Equal(["replica/live/.writing", "replica/live/p000000-000000.chunk"], await ListKeysAsync(bucket, "replica/live/"));
        await writer.CompleteAsync(new DumpSummary(10, "test", false, false), s_none);
        Assert.Equal(Bytes(10), await RestoreAsync(bridge, "live"));
        // No refresh brings the marker back once the dump is listed.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(["replica/live/manifest.json", "replica/live/p000000-000000.chunk"], await ListKeysAsync(bucket, "replica/live/"));
    }

    /// <summary>
    /// Regression: a writer whose folder `delete --abandoned` removed (it was paused past --stale-after, or the deleting
    /// machine's clock ran ahead) brought its marker back with its next unconditional refresh, swallowed any refresh
    /// failure, and listed a dump whose first chunks were gone ("chunk 0 ... missing" on verify). The refresh is now
    /// conditional on the marker's ETag, and the writer checks its lease before the manifest.
    /// </summary>
    [Fact]
    public async Task CompleteAsync_MarkerRemovedWhileWriting_NotBroughtBackAndNothingListed()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket) with { MarkerRefreshInterval = TimeSpan.FromMilliseconds(300) });
        BridgeException ex;
        await using (IDumpWriter writer = await bridge.BeginDumpAsync("removed", s_none))
        {
            await writer.WriteChunkAsync(Bytes(10), s_none);
            // What `delete --abandoned` does to a writer it takes for dead: its chunks, then its marker.
            using (AmazonS3Client client = Server.CreateClient())
            {
                await client.DeleteObjectAsync(bucket, "replica/removed/p000000-000000.chunk");
                await client.DeleteObjectAsync(bucket, "replica/removed/.writing");
            }
            // Several refreshes' time: none may bring the marker back.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.Empty(await ListKeysAsync(bucket, "replica/removed/"));

            ex = await Assert.ThrowsAsync<BridgeException>(() => writer.CompleteAsync(new DumpSummary(10, "test", false, false), s_none));
        }

        Assert.Contains("Dump 'removed' lost its lease on the name", ex.Message);
        Assert.Empty(await bridge.ListAsync(s_none));
        Assert.Empty(await ListKeysAsync(bucket, "replica/removed/"));
    }

    [Fact]
    public async Task DeleteAbandonedAsync_StaleAfterShorterThanTwoRefreshes_IsRefused()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));

        var ex = await Assert.ThrowsAsync<ConfigException>(() => bridge.DeleteAbandonedAsync(TimeSpan.FromSeconds(90), false, s_none));

        Assert.Contains("too short", ex.Message);
    }

    [Fact]
    public async Task RoundTrip_DumpInParts_EncryptedPartsRestoredInOrderAndAChunkMovedBetweenPartsFails()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        var config = new Replica.Config.BridgeConfig
        {
            ChunkSize = 1000,
            Compression = new Replica.Config.CompressionConfig { Algorithm = "none" },
            Encryption = new Replica.Config.EncryptionConfig { Key = Convert.ToBase64String(Bytes(32, seed: 9)) },
        };
        (string Kind, string? Table, byte[] Data)[] parts =
        [
            (PartKind.PreData, null, Bytes(1500, seed: 1)),
            (PartKind.Data, "public.orders", Bytes(2000, seed: 2)),
            (PartKind.PostData, null, Bytes(10, seed: 3)),
        ];
        var codecs = BridgeCodecs.ForNewDump(config);
        using (var codec = codecs.Codec)
        {
            await using IDumpWriter writer = await bridge.BeginDumpAsync("parted", s_none);
            foreach (var (kind, table, data) in parts)
            {
                int part = writer.BeginPart(kind, table);
                var pipe = new System.IO.Pipelines.Pipe();
                var chunking = DumpChunker.RunPartAsync(pipe.Reader, writer, part, 1000, codec, DumpChunker.DefaultWorkers, s_none);
                await pipe.Writer.WriteAsync(data, s_none);
                await pipe.Writer.CompleteAsync();
                await chunking;
            }
            await writer.CompleteAsync(new DumpSummary(3510, "test", Compressed: false, Encrypted: true)
            {
                Encryption = codecs.Encryption,
                AuthenticateChunks = codecs.AuthenticateChunks,
            }, s_none);
        }

        Assert.Equal(
            ["replica/index.json", "replica/parted/manifest.json", "replica/parted/p000000-000000.chunk", "replica/parted/p000000-000001.chunk",
             "replica/parted/p000001-000000.chunk", "replica/parted/p000001-000001.chunk", "replica/parted/p000002-000000.chunk"],
            (await ListKeysAsync(bucket)).Order(StringComparer.Ordinal));
        using var restored = new MemoryStream();
        await DumpReader.RestoreAsync(bridge, "parted", restored, m => BridgeCodecs.ForManifest(m, config), s_none);
        Assert.Equal(parts.SelectMany(p => p.Data), restored.ToArray());

        // Chunk 0 of part 1 (1000 bytes + tag) in the place of chunk 0 of part 0 (the same size).
        using (AmazonS3Client client = Server.CreateClient())
        {
            await client.CopyObjectAsync(bucket, "replica/parted/p000001-000000.chunk", bucket, "replica/parted/p000000-000000.chunk");
        }
        using var output = new MemoryStream();
        var ex = await Assert.ThrowsAsync<IntegrityException>(
            () => DumpReader.RestoreAsync(bridge, "parted", output, m => BridgeCodecs.ForManifest(m, config), s_none));
        Assert.Contains("Dump 'parted', part 0, chunk 0 (p000000-000000.chunk): SHA-256", ex.Message);
        Assert.Equal(0, output.Length);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    /// <summary>The real time, moved by a fixed amount: another machine's view of how old the objects are.</summary>
    protected sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }

    protected async Task PutAsync(string bucket, string key, string content)
    {
        using AmazonS3Client client = Server.CreateClient();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = content });
    }

    protected static byte[] Bytes(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    protected static async Task<DumpEntry> WriteDumpAsync(IBridge bridge, string name, byte[] data, int chunkSize)
    {
        await using IDumpWriter writer = await bridge.BeginDumpAsync(name, s_none);
        var pipe = new System.IO.Pipelines.Pipe();
        var chunking = DumpChunker.RunAsync(pipe.Reader, writer, chunkSize, s_none);
        await pipe.Writer.WriteAsync(data, s_none);
        await pipe.Writer.CompleteAsync();
        long read = await chunking;
        return await writer.CompleteAsync(new DumpSummary(read, "test", Compressed: false, Encrypted: false), s_none);
    }

    protected static async Task<byte[]> RestoreAsync(IBridge bridge, string name)
    {
        using var restored = new MemoryStream();
        await DumpReader.RestoreAsync(bridge, name, restored, s_none);
        return restored.ToArray();
    }

    protected static async Task<List<string>> ListedNamesAsync(IBridge bridge)
    {
        var names = new List<string>();
        foreach (DumpEntry entry in await bridge.ListAsync(s_none))
        {
            names.Add(entry.Name);
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    protected async Task<List<string>> ListKeysAsync(string bucket, string prefix = "")
    {
        using AmazonS3Client client = Server.CreateClient();
        var keys = new List<string>();
        string? continuation = null;
        do
        {
            ListObjectsV2Response page = await client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = bucket,
                Prefix = prefix,
                ContinuationToken = continuation,
            });
            foreach (S3Object item in page.S3Objects ?? [])
            {
                keys.Add(item.Key);
            }
            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    protected async Task<List<string>> ListUploadsAsync(string bucket)
    {
        using AmazonS3Client client = Server.CreateClient();
        ListMultipartUploadsResponse uploads = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket });
        var keys = new List<string>();
        foreach (MultipartUpload upload in uploads.MultipartUploads ?? [])
        {
            keys.Add(upload.Key);
        }
        return keys;
    }

    protected async Task<byte[]> GetBytesAsync(string bucket, string key)
    {
        using AmazonS3Client client = Server.CreateClient();
        using GetObjectResponse response = await client.GetObjectAsync(bucket, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    protected async Task<string> ETagAsync(string bucket, string key)
    {
        using AmazonS3Client client = Server.CreateClient();
        GetObjectMetadataResponse head = await client.GetObjectMetadataAsync(bucket, key);
        return head.ETag;
    }

    protected sealed class ScratchDirectory : IDisposable
    {
        public ScratchDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "replica-s3-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string Combine(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

/// <summary>The bridge suite against moto, plus what needs requests changed on the way (radosgw checks their signatures).</summary>
public sealed class MotoS3BridgeTests(MotoServer server, ITestOutputHelper output)
    : S3BridgeTests(server, output), IClassFixture<MotoServer>
{
    /// <summary>
    /// Regression: against a server that ignores If-None-Match and If-Match (here: a handler that strips them, as a
    /// proxy did in review), every index update and name claim succeeded, so concurrent dumps lost each other's index
    /// entries and two writers of one name both "succeeded". The bridge now checks the server before its first write.
    /// </summary>
    [Fact]
    public async Task BeginDumpAsync_ServerIgnoresConditionalWrites_RefusedBeforeAnythingIsStored()
    {
        string bucket = await Server.CreateBucketAsync();
        using var tamperer = new HeaderTamperer { StripConditions = true };
        using var bridge = new S3Bridge(Server.Options(bucket), tamperer);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => WriteDumpAsync(bridge, "dump-1", Bytes(100), chunkSize: 50));

        Assert.Contains($"S3 bucket s3://{bucket}/replica/", ex.Message);
        Assert.Contains("ignores If-None-Match", ex.Message);
        Assert.Contains("concurrent dumps would overwrite each other's index entries", ex.Message);
        Assert.True(tamperer.Stripped > 0);
        Assert.Empty(await ListKeysAsync(bucket));

        // The same bucket through the honest server: checked once, then dumps work as ever.
        using var honest = new S3Bridge(Server.Options(bucket));
        await WriteDumpAsync(honest, "dump-1", Bytes(100), chunkSize: 50);
        await WriteDumpAsync(honest, "dump-2", Bytes(100), chunkSize: 50);
        Assert.Equal(["dump-1", "dump-2"], await ListedNamesAsync(honest));
        Assert.DoesNotContain(await ListKeysAsync(bucket), key => key.Contains("probe", StringComparison.Ordinal));
    }
}

/// <summary>The bridge suite against Ceph radosgw, plus what only a server that checks signatures can show.</summary>
public sealed class RadosgwS3BridgeTests(RadosgwServer server, ITestOutputHelper output)
    : S3BridgeTests(server, output), IClassFixture<RadosgwServer>
{
    [Fact]
    public async Task ListAsync_WrongSecretKey_ErrorNamesBucketButNoSecret()
    {
        string bucket = await Server.CreateBucketAsync();
        const string secret = "wrong-secret-0123456789";
        using var bridge = new S3Bridge(Server.Options(bucket) with { SecretKey = secret });

        var ex = await Assert.ThrowsAsync<BridgeException>(() => bridge.ListAsync(CancellationToken.None));

        Assert.Contains($"s3://{bucket}/replica/index.json", ex.Message);
        Assert.Contains("SignatureDoesNotMatch", ex.Message);
        Assert.DoesNotContain(secret, ex.ToString());
        Assert.DoesNotContain(secret, bridge.Options.ToString());
    }
}
