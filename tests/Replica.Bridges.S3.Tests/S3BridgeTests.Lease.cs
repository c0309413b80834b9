using Amazon.S3;
using Replica.Pipeline;

namespace Replica.Bridges.S3.Tests;

// A writer's claim on its dump's name against a real server: answers lost on the way back, and a writer that lost its
// lease while paused (`delete --abandoned` took it for dead) and whose name another writer claimed.
public abstract partial class S3BridgeTests
{
    static readonly DumpSummary s_tenBytes = new(10, "test", false, false);

    /// <summary>
    /// Regression: the claim's PUT (If-None-Match: *) created the marker but its answer was lost; the retry got 412 and
    /// the writer took its own marker for another writer's, so the name stayed blocked until --stale-after (found by review).
    /// </summary>
    [Fact]
    public async Task BeginDumpAsync_ClaimsAnswerLost_RetryFindsItsOwnMarkerAndTheDumpCompletes()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket), faults);
        faults.LoseAnswer(FaultInjector.PutOf("/claimed/.writing"), times: 1);
        byte[] data = Bytes(3000, seed: 11);

        await WriteDumpAsync(bridge, "claimed", data, chunkSize: 1000);

        Assert.Equal(1, faults.Injected);
        Assert.Equal(data, await RestoreAsync(bridge, "claimed"));
        Assert.DoesNotContain("replica/claimed/.writing", await ListKeysAsync(bucket));
    }

    /// <summary>A chunk's PUT (If-None-Match: *) whose answer was lost: the retry's 412 finds the same bytes, and the dump goes on.</summary>
    [Fact]
    public async Task WriteChunkAsync_ChunksAnswerLost_RetryFindsItsOwnChunkAndTheDumpCompletes()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket), faults);
        faults.LoseAnswer(FaultInjector.PutOf("/p000000-000001.chunk"), times: 1);
        byte[] data = Bytes(3000, seed: 12);

        await WriteDumpAsync(bridge, "retried", data, chunkSize: 1000);

        Assert.Equal(1, faults.Injected);
        Assert.Equal(data, await RestoreAsync(bridge, "retried"));
    }

    /// <summary>
    /// Regression: a writer whose folder was removed while it was paused, and whose name another writer claimed, stored
    /// its next chunk over the other writer's (found by review): that dump was listed and failed its integrity check on
    /// restore. Chunks are PUT with If-None-Match: * now.
    /// </summary>
    [Fact]
    public async Task WriteChunkAsync_NameTakenOverWhilePaused_FailsWithLeaseLostAndLeavesTheOtherWritersChunks()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        using var other = new S3Bridge(Server.Options(bucket));
        IDumpWriter paused = await bridge.BeginDumpAsync("taken", s_none);
        await paused.WriteChunkAsync(Bytes(10, seed: 1), s_none);
        // What `delete --abandoned` does to a writer it takes for dead: its marker, then its chunks.
        using (AmazonS3Client client = Server.CreateClient())
        {
            await client.DeleteObjectAsync(bucket, "replica/taken/.writing");
            await client.DeleteObjectAsync(bucket, "replica/taken/p000000-000000.chunk");
        }
        IDumpWriter next = await other.BeginDumpAsync("taken", s_none);
        await next.WriteChunkAsync(Bytes(10, seed: 2), s_none);
        await next.WriteChunkAsync(Bytes(10, seed: 3), s_none);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => paused.WriteChunkAsync(Bytes(10, seed: 4), s_none));
        await paused.DisposeAsync();
        await next.CompleteAsync(s_tenBytes, s_none);
        await next.DisposeAsync();

        Assert.StartsWith("Dump 'taken' lost its lease on the name: s3://", ex.Message);
        Assert.Contains("/replica/taken/p000000-000001.chunk (chunk 1 of part 0 of dump 'taken') was stored by another writer", ex.Message);
        Assert.Equal(["taken"], (await other.ListAsync(s_none)).Select(e => e.Name));
        Assert.Equal(Bytes(10, seed: 2).Concat(Bytes(10, seed: 3)).ToArray(), await RestoreAsync(other, "taken"));
    }

    /// <summary>
    /// Regression: a listed dump's writer removed its marker by key, unconditionally; when the dump was deleted and a new
    /// writer claimed the name in between, the new writer's marker went (found by review), and with it what keeps
    /// `delete --abandoned` off that writer's chunks. The second writer's lease holds.
    /// </summary>
    [Fact]
    public async Task ReleaseAsync_ListedDumpDeletedAndItsNameClaimedByANewWriterFirst_LeavesTheNewWritersMarker()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        IWriterLease first = await bridge.ObjectStore.AcquireLeaseAsync("nightly", "first writer\n"u8.ToArray(), s_none);
        // `replica delete nightly` once it is listed: its objects go, the marker with them.
        using (AmazonS3Client client = Server.CreateClient())
        {
            await client.DeleteObjectAsync(bucket, "replica/nightly/.writing");
        }
        IWriterLease second = await bridge.ObjectStore.AcquireLeaseAsync("nightly", "second writer\n"u8.ToArray(), s_none);

        await first.ReleaseAsync(abandoned: false, s_none);

        Assert.Equal("second writer\n"u8.ToArray(), await GetBytesAsync(bucket, "replica/nightly/.writing"));
        Assert.True(await second.RefreshAsync(s_none));
        await second.ReleaseAsync(abandoned: false, s_none);
        Assert.DoesNotContain("replica/nightly/.writing", await ListKeysAsync(bucket));
        await first.DisposeAsync();
        await second.DisposeAsync();
    }

    /// <summary>
    /// A chunk above the multipart threshold is created only if absent too (If-None-Match: * on the upload's completion):
    /// another writer's object stays as it was, and the upload is aborted.
    /// </summary>
    [Fact]
    public async Task PutNewAsync_MultipartChunkOverAnotherWritersObject_RefusedAndUploadAborted()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        await PutAsync(bucket, "replica/taken/p000000-000000.chunk", "another writer's chunk");
        byte[] data = Bytes(17 * MiB, seed: 13);

        bool stored = await bridge.ObjectStore.PutNewAsync("taken/p000000-000000.chunk", data,
            System.Security.Cryptography.SHA256.HashData(data), "chunk 0 of part 0 of dump 'taken'", s_none);

        Assert.False(stored);
        Assert.Equal("another writer's chunk"u8.ToArray(), await GetBytesAsync(bucket, "replica/taken/p000000-000000.chunk"));
        Assert.Empty(await ListUploadsAsync(bucket));
    }

    /// <summary>
    /// Regression: the writer's last lease check came before the index's compare-and-swap; a real `delete --abandoned`
    /// that ran between that check and the index write (the writer paused there, or its clock behind the deleting
    /// machine's) emptied the folder, and the writer listed it anyway (found by review).
    /// </summary>
    [Fact]
    public async Task CompleteAsync_AbandonedCleanupBetweenLeaseCheckAndIndexWrite_ListsNothing()
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket));
        using var cleaner = new S3Bridge(Server.Options(bucket) with { MarkerRefreshInterval = TimeSpan.FromSeconds(1) });
        IDumpWriter late = await bridge.BeginDumpAsync("late", s_none);
        await late.WriteChunkAsync(Bytes(10), s_none);
        bool fired = false;
        bridge.BeforeIndexWrite = async ct =>
        {
            if (!fired)
            {
                fired = true;
                // The writer's marker and manifest age past --stale-after 2 s while it waits here.
                await Task.Delay(TimeSpan.FromSeconds(3), ct);
                Assert.Equal(["late"], await cleaner.DeleteAbandonedAsync(TimeSpan.FromSeconds(2), dryRun: false, ct));
            }
        };

        var ex = await Assert.ThrowsAsync<BridgeException>(() => late.CompleteAsync(s_tenBytes, s_none));
        await late.DisposeAsync();

        Assert.True(fired);
        Assert.StartsWith("Dump 'late' lost its lease on the name: its writer marker s3://", ex.Message);
        Assert.Contains("is gone", ex.Message);
        Assert.Empty(await bridge.ListAsync(s_none));
        Assert.Empty(await ListKeysAsync(bucket, "replica/late/"));
    }

    /// <summary>
    /// Regression: `replica delete` of a listed dump deletes its manifest, unlists it, then deletes its chunks. When that
    /// DeleteObjects was carried out but its answer lost, the name was free and its folder empty until the retry: a writer
    /// that claimed the name then stored chunks of the same names, the retry deleted them, and the new dump was listed
    /// without them (found by review). The delete holds the name until its last object is gone.
    /// </summary>
    [Fact]
    public async Task DeleteAsync_ChunksDeleteRetriedAfterItsAnswerWasLost_NeverDeletesANewWritersChunks()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket), faults);
        using var other = new S3Bridge(Server.Options(bucket));
        await WriteDumpAsync(bridge, "reused", Bytes(3000, seed: 1), chunkSize: 1000);
        byte[] data = Bytes(3000, seed: 2);
        Exception? claim = null;
        int deletes = 0;
        // DeleteObjects: the manifest, then the chunks (answer lost), then their retry, before which the other writer runs.
        faults.LoseAnswer(request =>
        {
            if (request.Method != HttpMethod.Post || !request.RequestUri!.Query.Contains("delete", StringComparison.Ordinal))
            {
                return false;
            }
            int number = Interlocked.Increment(ref deletes);
            if (number == 3)
            {
                try
                {
                    WriteDumpAsync(other, "reused", data, chunkSize: 1000).GetAwaiter().GetResult();
                }
                catch (BridgeException ex)
                {
                    claim = ex;
                }
            }
            return number == 2;
        }, times: 1);

        await bridge.DeleteAsync("reused", s_none);

        Assert.Equal(1, faults.Injected);
        BridgeException refused = Assert.IsType<BridgeException>(claim);
        Assert.StartsWith("A dump named 'reused' is being written to", refused.Message);
        Assert.Empty(await ListedNamesAsync(bridge));
        Assert.Empty(await ListKeysAsync(bucket, "replica/reused/"));
        await WriteDumpAsync(other, "reused", data, chunkSize: 1000);
        Assert.Equal(data, await RestoreAsync(other, "reused"));
    }
}
