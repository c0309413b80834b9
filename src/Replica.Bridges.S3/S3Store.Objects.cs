using Amazon.S3;
using Amazon.S3.Model;

namespace Replica.Bridges.S3;

// The bucket as the ObjectBridge's store: keys relative to the prefix, conditional writes by ETag (If-Match) and
// If-None-Match: *, and the writer lease as a marker object claimed with If-None-Match: * and rewritten to refresh it.
internal sealed partial class S3Store
{
    public string Description =>
        _options.EndpointUrl is null
            ? $"S3 bucket s3://{Bucket}/{_options.Prefix}"
            : $"S3 bucket s3://{Bucket}/{_options.Prefix} at {_options.EndpointUrl}";

    string Full(string key) => _options.Prefix + key;

    public string Show(string key) => $"s3://{Bucket}/{Full(key)}";

    Task<StoredObject?> IObjectStore.GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken) =>
        GetAsync(Full(key), what, buffer, cancellationToken);

    async Task IObjectStore.PutAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what,
        CancellationToken cancellationToken)
    {
        if (data.Length > _options.MultipartThreshold)
        {
            await UploadMultipartAsync(Full(key), data, what, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // The SHA-256 we record goes along as x-amz-checksum-sha256: a server that checks it refuses damaged bytes.
            await PutAsync(Full(key), data, $"store {what} at", cancellationToken, sha256: sha256).ConfigureAwait(false);
        }
        // The S3 client leaves young garbage behind every request; with the default gen0 budget (sized from the CPU
        // cache) it piled up to ~175 MiB RSS on a 1 GB dump. One gen0 collection per stored chunk keeps it flat
        // (~130 MiB measured with moto) for well under a millisecond per chunk.
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
    }

    /// <summary>
    /// A dump's object, created only if absent: the same PUT as <see cref="IObjectStore.PutAsync"/> with If-None-Match: *,
    /// which costs no request (the check that the server honours it ran before the writer's claim), or a multipart upload
    /// that completes only if absent (see <see cref="UploadMultipartAsync"/>).
    /// </summary>
    async Task<bool> IObjectStore.PutNewAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what,
        CancellationToken cancellationToken)
    {
        await EnsureConditionalWritesAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (data.Length > _options.MultipartThreshold)
            {
                return await UploadMultipartAsync(Full(key), data, what, cancellationToken, onlyIfAbsent: true).ConfigureAwait(false);
            }
            await PutAsync(Full(key), data, $"store {what} at", cancellationToken, ifNoneMatch: "*", sha256: sha256).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex))
        {
            return false;
        }
        finally
        {
            // See IObjectStore.PutAsync.
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        }
    }

    async Task<bool> IObjectStore.PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken)
    {
        await EnsureConditionalWritesAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await PutAsync(Full(key), data, what, cancellationToken, ifNoneMatch: "*", contentType: "application/json").ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex))
        {
            return false;
        }
    }

    async Task<bool> IObjectStore.PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string? etag, string what,
        CancellationToken cancellationToken)
    {
        if (etag is not null && string.IsNullOrWhiteSpace(etag))
        {
            // The object was read without an ETag (a server or proxy that drops the header): there is nothing to make the
            // write conditional on, and the SDK sends an empty If-Match as no If-Match at all. Writing anyway would replace
            // whatever another writer stored meanwhile, so concurrent dumps would lose each other's index entries.
            throw new BridgeException(
                $"Cannot {what} {Show(key)}: {Description} returned it without an ETag, so it cannot be replaced only if "
                + "unchanged. The server (or a proxy in between) does not support the conditional writes (ETag, If-Match) "
                + "the bridge's index relies on; concurrent dumps would overwrite each other's index entries. Nothing was written.");
        }
        await EnsureConditionalWritesAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await PutAsync(Full(key), data, what, cancellationToken, ifMatch: etag, ifNoneMatch: etag is null ? "*" : null,
                contentType: "application/json").ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex))
        {
            return false;
        }
    }

    async IAsyncEnumerable<ObjectInfo> IObjectStore.ListAsync(string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string full = Full(prefix);
        await foreach (S3Object item in ListAsync(full, cancellationToken).ConfigureAwait(false))
        {
            DateTimeOffset? modified = item.LastModified is { } time ? new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero) : null;
            yield return new ObjectInfo(Relative(item.Key, full), modified);
        }
    }

    /// <summary>
    /// A listed key without the bridge's prefix. A server that answers a listing with a key outside what was asked for
    /// (a broken or hostile S3 implementation, a proxy) is an error: nothing is done with such a key.
    /// </summary>
    string Relative(string key, string listed)
    {
        if (key is null || !key.StartsWith(listed, StringComparison.Ordinal))
        {
            throw new BridgeException($"s3://{_options.Bucket}: a listing of '{listed}' returned the key '{key}', which is not under it; "
                + "the server does not follow the S3 API, nothing was done with that key");
        }
        return key[_options.Prefix.Length..];
    }

    async Task<IReadOnlyList<string>> IObjectStore.ListFoldersAsync(CancellationToken cancellationToken)
    {
        List<string> folders = await ListFoldersAsync(_options.Prefix, cancellationToken).ConfigureAwait(false);
        // "prefix/dump-1/" -> "dump-1"
        return folders.ConvertAll(folder => Relative(folder, _options.Prefix) is { Length: > 1 } name && name[^1] == '/'
            ? name[..^1]
            : throw new BridgeException($"s3://{_options.Bucket}: a listing of the folders of '{_options.Prefix}' returned '{folder}', "
                + "which is not one; the server does not follow the S3 API"));
    }

    Task IObjectStore.DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var full = new List<string>(keys.Count);
        foreach (string key in keys)
        {
            full.Add(Full(key));
        }
        return DeleteAsync(full, cancellationToken);
    }

    async Task<IWriterLease> IObjectStore.AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken)
    {
        string markerKey = Full(ObjectBridge.MarkerKey(name));
        await EnsureConditionalWritesAsync(cancellationToken).ConfigureAwait(false);
        string etag;
        try
        {
            // Claims the name atomically: of two writers starting the same dump, exactly one gets here.
            etag = await PutAsync(markerKey, owner, $"claim the name of dump '{name}' with", cancellationToken,
                ifNoneMatch: "*", contentType: "text/plain").ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex))
        {
            // Our own claim, sent again by the retry after its answer was lost, finds the marker it created: then it holds
            // our bytes (no other writer's marker does), and the name is ours. Taken for another writer's, it blocked the
            // name until --stale-after (found by review).
            StoredObject? current = await GetAsync(markerKey, $"read the writer marker of dump '{name}' from", null, cancellationToken)
                .ConfigureAwait(false);
            if (current is not null && current.Data.Span.SequenceEqual(owner.Span) && current.ETag.Length > 0)
            {
                return new Lease(this, name, markerKey, owner.ToArray(), current.ETag);
            }
            throw new BridgeException(
                $"A dump named '{name}' is being written to {Description} by another process (s3://{Bucket}/{markerKey} exists); "
                + "if that writer died, 'replica delete --abandoned' removes what it left once its marker is older than --stale-after (1 h).",
                ex);
        }
        if (etag.Length == 0)
        {
            // The probe saw ETags; a proxy that drops only some would leave the lease nothing to refresh it on.
            throw new BridgeException($"Cannot claim the name of dump '{name}' with s3://{Bucket}/{markerKey}: {Description} answered "
                + "without an ETag, so the writer marker cannot be refreshed only while it is still this writer's. Remove it with 'replica delete --abandoned'.");
        }
        return new Lease(this, name, markerKey, owner.ToArray(), etag);
    }

    /// <summary>
    /// Makes sure, once per store (process), before its first conditional write, that the server refuses conditional
    /// writes whose condition fails (<see cref="ProbeConditionalWritesAsync"/>). Only a successful check is remembered: a
    /// check that failed (a network error) is made again by the next write.
    /// </summary>
    async Task EnsureConditionalWritesAsync(CancellationToken cancellationToken)
    {
        if (_conditionalWritesChecked)
        {
            return;
        }
        await _probeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_conditionalWritesChecked)
            {
                await ProbeConditionalWritesAsync(cancellationToken).ConfigureAwait(false);
                _conditionalWritesChecked = true;
            }
        }
        finally
        {
            _probeLock.Release();
        }
    }

    /// <summary>
    /// Index updates and name claims are conditional writes; a server (or a proxy in between) that ignores
    /// If-None-Match or If-Match lets every one of them succeed, so concurrent dumps silently drop each other's index
    /// entries and two writers of the same name both succeed. Nothing in the answers to those writes shows it, so the
    /// server is asked directly, with a probe object of its own under the prefix (".replica-probe-...": a dump name
    /// cannot start with '.', and a key without '/' is no dump folder): created with If-None-Match: *, then written
    /// again with If-None-Match: * and with If-Match on an ETag it never had, both of which must be refused (412, or
    /// 409); then deleted. There is deliberately no setting to skip this: a bridge on such a server cannot keep its
    /// promises, and only a check at the first write tells before anything is stored.
    /// </summary>
    async Task ProbeConditionalWritesAsync(CancellationToken cancellationToken)
    {
        string key = _options.Prefix + ".replica-probe-" + Guid.NewGuid().ToString("N");
        byte[] body = "replica checks that this server refuses conditional writes whose condition fails; deleted at once\n"u8.ToArray();
        const string What = "check that the server refuses failed conditional writes with";
        try
        {
            string etag;
            try
            {
                etag = await PutAsync(key, body, What, cancellationToken, ifNoneMatch: "*", contentType: "text/plain").ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex))
            {
                throw Unsupported(key, "refused to create a new object with If-None-Match: * as if it existed", ex);
            }
            if (etag.Length == 0)
            {
                throw Unsupported(key, "answered a PUT without an ETag, so nothing can be replaced only if unchanged", null);
            }
            if (await IsStoredAsync(ifMatch: null, ifNoneMatch: "*").ConfigureAwait(false))
            {
                throw Unsupported(key, "replaced an existing object although the PUT said If-None-Match: * (it ignores If-None-Match)", null);
            }
            if (await IsStoredAsync(ifMatch: "replica-probe-bogus-etag", ifNoneMatch: null).ConfigureAwait(false))
            {
                throw Unsupported(key, "replaced an object although the PUT's If-Match named an ETag it does not have (it ignores If-Match)", null);
            }
        }
        catch (Exception ex) when (ex is BridgeException or AmazonS3Exception)
        {
            try
            {
                await DeleteAsync([key], CancellationToken.None).ConfigureAwait(false);
            }
            catch (BridgeException)
            {
                // The failure on its way up says more; a probe object left behind harms nothing.
            }
            throw;
        }
        await DeleteAsync([key], cancellationToken).ConfigureAwait(false);

        async Task<bool> IsStoredAsync(string? ifMatch, string? ifNoneMatch)
        {
            try
            {
                await PutAsync(key, body, What, cancellationToken, ifMatch, ifNoneMatch, contentType: "text/plain").ConfigureAwait(false);
                return true;
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex))
            {
                return false;
            }
        }
    }

    /// <summary>The failed check of <see cref="ProbeConditionalWritesAsync"/>: what the server did, and why that rules it out.</summary>
    BridgeException Unsupported(string probeKey, string what, Exception? inner) =>
        new($"{Description} cannot hold a bridge: the server {what} (checked with s3://{Bucket}/{probeKey}). The bridge's index "
            + "and the claim on a dump's name rely on the server refusing conditional writes (If-None-Match, If-Match) whose "
            + "condition fails; without that, concurrent dumps would overwrite each other's index entries and two writers of "
            + "one name would both succeed. Nothing was stored; use a server (or a proxy) that passes those headers on and honours them.",
            inner);

    /// <summary>
    /// The writer's marker object: rewriting it moves its Last-Modified, which `delete --abandoned` reads as its age. It is
    /// rewritten only if it is still the version this writer wrote last (If-Match on its ETag): once `delete --abandoned`
    /// took the writer for dead and removed it, a refresh must not bring it back over a folder whose chunks are gone.
    /// </summary>
    sealed class Lease(S3Store store, string name, string markerKey, byte[] owner, string etag) : IWriterLease
    {
        // Only the marker refresher uses it, one refresh at a time.
        string _etag = etag;

        public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
        {
            string what = $"refresh the writer marker of dump '{name}' at";
            try
            {
                _etag = await store.PutAsync(markerKey, owner, what, cancellationToken, ifMatch: _etag, contentType: "text/plain",
                    notFoundExpected: true).ConfigureAwait(false);
                return true;
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex) || S3Errors.IsNoSuchKey(ex))
            {
                // Gone, or another version. A retry of our own refresh whose answer was lost also gets here (the ETag
                // moved under it): the marker then still holds our bytes, and the lease is still ours.
                StoredObject? current = await store.GetAsync(markerKey, $"read the writer marker of dump '{name}' from", null,
                    cancellationToken).ConfigureAwait(false);
                if (current is null || !current.Data.Span.SequenceEqual(owner) || current.ETag.Length == 0)
                {
                    return false;
                }
                _etag = current.ETag;
                return true;
            }
        }

        /// <summary>
        /// Removes the marker while it is still this writer's. A listed dump's writer releases outside the index's
        /// compare-and-swap: by then the dump may have been deleted and its name claimed by a new writer, whose marker
        /// (what keeps `delete --abandoned` off its chunks) must stay. Read first (a marker holding other bytes is left
        /// alone), then deleted with If-Match on what was read, which closes the gap in between on servers that honour a
        /// conditional delete (AWS S3, moto, recent Ceph); one that ignores it deletes as before.
        /// </summary>
        public async Task ReleaseAsync(bool abandoned, CancellationToken cancellationToken)
        {
            if (abandoned)
            {
                // A multipart upload cut short leaves parts nobody sees but everybody pays for.
                await store.AbortUploadsAsync(store.Full(ObjectBridge.DumpPrefix(name)), cancellationToken).ConfigureAwait(false);
            }
            StoredObject? current = await store.GetAsync(markerKey, $"read the writer marker of dump '{name}' from", null, cancellationToken).ConfigureAwait(false);
            if (current is null || !current.Data.Span.SequenceEqual(owner))
            {
                return;
            }
            try
            {
                await store.RunAsync($"remove the writer marker of dump '{name}' at", markerKey,
                    ct => store._client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = store.Bucket, Key = markerKey, IfMatch = current.ETag }, ct),
                    cancellationToken, expected: ex => S3Errors.IsConditionFailed(ex) || S3Errors.IsNoSuchKey(ex)).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsConditionFailed(ex) || S3Errors.IsNoSuchKey(ex))
            {
                // Another writer's by now, or gone (a retry of our own delete whose answer was lost finds nothing).
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
