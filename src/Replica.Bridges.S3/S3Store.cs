using System.Runtime.InteropServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Replica.Bridges.S3;

/// <summary>
/// The object mechanics of <see cref="S3Bridge"/>: one bucket, every call retried with jittered exponential backoff on
/// transient failures, every final failure turned into a <see cref="BridgeException"/> naming bucket, key and S3 error code.
/// Knows nothing of dumps. Its own methods take whole keys; as the bridge's <see cref="IObjectStore"/> (S3Store.Objects.cs)
/// keys are relative to the prefix.
/// </summary>
internal sealed partial class S3Store : IObjectStore, IDisposable
{
    /// <summary>The most keys one DeleteObjects request may name.</summary>
    const int DeleteBatchSize = 1000;

    readonly AmazonS3Client _client;
    readonly S3BridgeOptions _options;
    // Guards the once-per-store check that the server honours conditional writes (S3Store.Objects.cs).
    readonly SemaphoreSlim _probeLock = new(1, 1);
    volatile bool _conditionalWritesChecked;

    public S3Store(S3BridgeOptions options, HttpMessageHandler? testHandler)
    {
        _options = options;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Our own retry loop (RunAsync) is the only one, so the retry count and backoff are what the options say.
            MaxErrorRetry = 0,
            // Ceph radosgw (and other S3-compatible servers) reject the trailing checksums the SDK sends by default.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.EndpointUrl is not null)
        {
            config.ServiceURL = options.EndpointUrl;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
        }
        else if (options.Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        if (testHandler is not null)
        {
            config.HttpClientFactory = new HandlerFactory(testHandler);
        }

        try
        {
            _client = options.AccessKey is not null
                ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
                : new AmazonS3Client(config);
        }
        catch (AmazonClientException ex)
        {
            // E.g. no region anywhere in the default chain. The SDK's message names what is missing, never a secret.
            throw new BridgeException($"Cannot set up the S3 client for bucket '{options.Bucket}': {ex.Message}", ex);
        }
    }

    public string Bucket => _options.Bucket;

    public S3BridgeOptions Options => _options;

    public void Dispose()
    {
        _client.Dispose();
        _probeLock.Dispose();
    }

    /// <summary>
    /// Runs one S3 call, retrying transient failures. <paramref name="expected"/> picks S3 answers the caller handles
    /// itself (404 for "absent", 412 for a lost race): those are rethrown as they are, at once. Anything else that
    /// still fails becomes a BridgeException "Cannot {what} s3://bucket/key: ...".
    /// </summary>
    public async Task<T> RunAsync<T>(string what, string key, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken,
        Func<AmazonS3Exception, bool>? expected = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (expected is not null && expected(ex))
            {
                throw;
            }
            catch (Exception ex) when (attempt <= _options.MaxRetries && S3Errors.IsTransient(ex, cancellationToken))
            {
                await Task.Delay(RetryDelay(attempt), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (S3Errors.IsS3Failure(ex, cancellationToken))
            {
                throw S3Errors.Failed(what, Bucket, key, ex, attempt);
            }
        }
    }

    /// <summary>"Equal jitter": half of base * 2^(attempt-1) (capped) plus a random part of the other half.</summary>
    TimeSpan RetryDelay(int attempt)
    {
        double capMs = Math.Min(_options.RetryMaxDelay.TotalMilliseconds,
            _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromMilliseconds(capMs / 2 + Random.Shared.NextDouble() * capMs / 2);
    }

    /// <summary>
    /// Reads a whole object; null when there is no such key. <paramref name="buffer"/> sees the length before anything
    /// is allocated, may throw (a chunk must have the size its manifest says) and returns where the bytes go (see
    /// <see cref="StoredObject.Target"/>).
    /// </summary>
    public async Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync<StoredObject?>(what, key, async ct =>
            {
                using GetObjectResponse response = await _client.GetObjectAsync(
                    new GetObjectRequest { BucketName = Bucket, Key = key }, ct).ConfigureAwait(false);
                long length = response.ContentLength;
                Memory<byte> data = StoredObject.Target(length, buffer, () => $"{what} s3://{Bucket}/{key}");
                // Read errors here (a connection cut mid-body, a body gone silent) are retried like any other, from the start.
                // The SDK's timeout ends with the headers: without the idle limit a silent body held the read forever.
                int filled = await IdleBody.ReadAsync(response.ResponseStream, data, _options.BodyIdleTimeout, "the S3 server", ct).ConfigureAwait(false);
                if (filled < data.Length)
                {
                    throw new EndOfStreamException($"the S3 server ended the body after {filled} of its {length} bytes");
                }
                return new StoredObject(data, Unquote(response.ETag));
            }, cancellationToken, S3Errors.IsNoSuchKey).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsNoSuchKey(ex))
        {
            return null;
        }
    }

    /// <summary>
    /// Stores <paramref name="data"/> with one PUT and returns the new ETag (unquoted). <paramref name="ifMatch"/> (an
    /// ETag) or <paramref name="ifNoneMatch"/> ("*": only if absent) make the write conditional; a failed condition is
    /// rethrown as the AmazonS3Exception (412/409) for the caller, see <see cref="S3Errors.IsConditionFailed"/>.
    /// <paramref name="sha256"/>, when given, is sent as x-amz-checksum-sha256 so that the server can verify the bytes.
    /// <paramref name="notFoundExpected"/>: a 404 (an If-Match on an object that is gone, as AWS answers it) is rethrown
    /// for the caller as well.
    /// </summary>
    public async Task<string> PutAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken,
        string? ifMatch = null, string? ifNoneMatch = null, ReadOnlyMemory<byte> sha256 = default, string contentType = "application/octet-stream",
        bool notFoundExpected = false)
    {
        // The SDK leaves an empty condition out of the request: the write would silently be unconditional.
        if (ifMatch is { Length: 0 } || ifNoneMatch is { Length: 0 })
        {
            throw new ArgumentException($"An empty If-Match or If-None-Match for s3://{Bucket}/{key} would make the write unconditional.");
        }
        string? checksum = sha256.IsEmpty ? null : Convert.ToBase64String(sha256.Span);
        PutObjectResponse response = await RunAsync(what, key, ct =>
        {
            var request = new PutObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                // A fresh stream per try: a failed try may have read part of the previous one.
                InputStream = ReadStream(data),
                AutoCloseStream = true,
                ContentType = contentType,
                // Unquoted: radosgw only matches an unquoted ETag; AWS and moto accept both.
                IfMatch = ifMatch,
                IfNoneMatch = ifNoneMatch,
            };
            if (checksum is not null)
            {
                request.ChecksumSHA256 = checksum;
            }
            return _client.PutObjectAsync(request, ct);
        }, cancellationToken, ex => S3Errors.IsConditionFailed(ex) || (notFoundExpected && S3Errors.IsNoSuchKey(ex))).ConfigureAwait(false);
        return Unquote(response.ETag);
    }

    /// <summary>
    /// Stores <paramref name="data"/> as one object in parts of <see cref="S3BridgeOptions.PartSize"/>, at most
    /// <see cref="S3BridgeOptions.MultipartConcurrency"/> at a time. The parts are slices of <paramref name="data"/>, so
    /// nothing is copied. On any failure (or cancellation) the upload is aborted before the exception propagates, so no
    /// invisible parts are left to pay for. With <paramref name="onlyIfAbsent"/> the object is created only if there is
    /// none at <paramref name="key"/> (false when there is, the upload aborted): the completion says If-None-Match: *, as
    /// AWS and moto honour it; radosgw ignores it there (measured: Ceph's radosgw of the tests completed the upload over
    /// an existing object), so the key is also checked with one HEAD right before the completion. On such a server the
    /// object is then protected but for that request's time, at one request more per multipart upload (which takes at
    /// least four already; chunks are single PUTs, honoured everywhere, below the 16 MiB threshold).
    /// </summary>
    public async Task<bool> UploadMultipartAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken,
        bool onlyIfAbsent = false)
    {
        InitiateMultipartUploadResponse started = await RunAsync($"start the multipart upload to {what}", key,
            ct => _client.InitiateMultipartUploadAsync(
                new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key, ContentType = "application/octet-stream" }, ct),
            cancellationToken).ConfigureAwait(false);
        string uploadId = started.UploadId;
        try
        {
            int partSize = _options.PartSize;
            int partCount = (int)((data.Length + (long)partSize - 1) / partSize);
            var parts = new PartETag[partCount];
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MultipartConcurrency, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(1, partCount), parallel, async (partNumber, ct) =>
            {
                int offset = (partNumber - 1) * partSize;
                ReadOnlyMemory<byte> part = data.Slice(offset, Math.Min(partSize, data.Length - offset));
                UploadPartResponse uploaded = await RunAsync($"upload part {partNumber} of {partCount} to {what}", key,
                    c => _client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = Bucket,
                        Key = key,
                        UploadId = uploadId,
                        PartNumber = partNumber,
                        PartSize = part.Length,
                        InputStream = ReadStream(part),
                        IsLastPart = partNumber == partCount,
                    }, c), ct).ConfigureAwait(false);
                parts[partNumber - 1] = new PartETag(partNumber, uploaded.ETag);
            }).ConfigureAwait(false);

            if (onlyIfAbsent && await GetLengthAsync(key, what, cancellationToken).ConfigureAwait(false) >= 0)
            {
                await AbortUploadAsync(key, uploadId).ConfigureAwait(false);
                return false;
            }
            try
            {
                await RunAsync($"complete the multipart upload to {what}", key,
                    ct => _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                    {
                        BucketName = Bucket,
                        Key = key,
                        UploadId = uploadId,
                        PartETags = [.. parts],
                        IfNoneMatch = onlyIfAbsent ? "*" : null,
                    }, ct), cancellationToken, ex => ex.ErrorCode == "NoSuchUpload" || (onlyIfAbsent && S3Errors.IsConditionFailed(ex))).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (onlyIfAbsent && S3Errors.IsConditionFailed(ex))
            {
                await AbortUploadAsync(key, uploadId).ConfigureAwait(false);
                return false;
            }
            catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchUpload")
            {
                // A retried Complete whose first try succeeded but whose answer was lost: the object is there.
                long stored = await GetLengthAsync(key, what, cancellationToken).ConfigureAwait(false);
                if (stored != data.Length)
                {
                    throw S3Errors.Failed($"complete the multipart upload to {what}", Bucket, key, ex, 1);
                }
            }
            return true;
        }
        catch
        {
            await AbortUploadAsync(key, uploadId).ConfigureAwait(false);
            throw;
        }
    }

    async Task<long> GetLengthAsync(string key, string what, CancellationToken cancellationToken)
    {
        try
        {
            GetObjectMetadataResponse head = await RunAsync($"check {what}", key,
                ct => _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }, ct),
                cancellationToken, S3Errors.IsNoSuchKey).ConfigureAwait(false);
            return head.ContentLength;
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsNoSuchKey(ex))
        {
            return -1;
        }
    }

    /// <summary>Aborts one multipart upload, best effort: it runs while another failure is already on its way up.</summary>
    async Task AbortUploadAsync(string key, string uploadId)
    {
        try
        {
            await RunAsync("abort the multipart upload of", key,
                ct => _client.AbortMultipartUploadAsync(
                    new AbortMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = uploadId }, ct),
                CancellationToken.None, ex => ex.ErrorCode == "NoSuchUpload").ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BridgeException or AmazonS3Exception)
        {
            // The writer's DisposeAsync aborts every upload left under the dump's prefix again.
        }
    }

    /// <summary>Aborts every multipart upload in progress under <paramref name="prefix"/>; returns how many there were.</summary>
    public async Task<int> AbortUploadsAsync(string prefix, CancellationToken cancellationToken)
    {
        int aborted = 0;
        string? keyMarker = null;
        string? uploadIdMarker = null;
        while (true)
        {
            ListMultipartUploadsResponse page = await RunAsync("list the multipart uploads under", prefix,
                ct => _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest
                {
                    BucketName = Bucket,
                    Prefix = prefix,
                    KeyMarker = keyMarker,
                    UploadIdMarker = uploadIdMarker,
                }, ct), cancellationToken).ConfigureAwait(false);
            foreach (MultipartUpload upload in page.MultipartUploads ?? [])
            {
                // Some servers ignore Prefix on this call: never touch an upload outside our prefix.
                if (!upload.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }
                await RunAsync("abort the multipart upload of", upload.Key,
                    ct => _client.AbortMultipartUploadAsync(
                        new AbortMultipartUploadRequest { BucketName = Bucket, Key = upload.Key, UploadId = upload.UploadId }, ct),
                    cancellationToken, ex => ex.ErrorCode == "NoSuchUpload").ConfigureAwait(false);
                aborted++;
            }
            if (page.IsTruncated != true || (page.NextKeyMarker is null && page.NextUploadIdMarker is null))
            {
                return aborted;
            }
            keyMarker = page.NextKeyMarker;
            uploadIdMarker = page.NextUploadIdMarker;
        }
    }

    /// <summary>Every object whose key starts with <paramref name="prefix"/>, page by page (1000 keys per request).</summary>
    public async IAsyncEnumerable<S3Object> ListAsync(string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuation = null;
        while (true)
        {
            ListObjectsV2Response page = await RunAsync("list", prefix,
                ct => _client.ListObjectsV2Async(new ListObjectsV2Request
                {
                    BucketName = Bucket,
                    Prefix = prefix,
                    ContinuationToken = continuation,
                }, ct), cancellationToken).ConfigureAwait(false);
            foreach (S3Object item in page.S3Objects ?? [])
            {
                yield return item;
            }
            if (page.IsTruncated != true || page.NextContinuationToken is null)
            {
                yield break;
            }
            continuation = page.NextContinuationToken;
        }
    }

    /// <summary>The "folders" directly under <paramref name="prefix"/> (common prefixes at '/'), each ending with '/'.</summary>
    public async Task<List<string>> ListFoldersAsync(string prefix, CancellationToken cancellationToken)
    {
        var folders = new List<string>();
        string? continuation = null;
        while (true)
        {
            ListObjectsV2Response page = await RunAsync("list the folders under", prefix,
                ct => _client.ListObjectsV2Async(new ListObjectsV2Request
                {
                    BucketName = Bucket,
                    Prefix = prefix,
                    Delimiter = "/",
                    ContinuationToken = continuation,
                }, ct), cancellationToken).ConfigureAwait(false);
            folders.AddRange(page.CommonPrefixes ?? []);
            if (page.IsTruncated != true || page.NextContinuationToken is null)
            {
                return folders;
            }
            continuation = page.NextContinuationToken;
        }
    }

    /// <summary>Deletes the given keys (absent ones are fine), up to 1000 per request.</summary>
    public async Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        for (int start = 0; start < keys.Count; start += DeleteBatchSize)
        {
            int count = Math.Min(DeleteBatchSize, keys.Count - start);
            var batch = new List<KeyVersion>(count);
            for (int i = start; i < start + count; i++)
            {
                batch.Add(new KeyVersion { Key = keys[i] });
            }
            string first = keys[start];
            DeleteObjectsResponse response = await RunAsync("delete objects starting with", first,
                ct => _client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = Bucket, Objects = batch, Quiet = true }, ct),
                cancellationToken).ConfigureAwait(false);
            if (response.DeleteErrors is { Count: > 0 } errors)
            {
                DeleteError error = errors[0];
                var failure = new BridgeException(
                    $"Cannot delete s3://{Bucket}/{error.Key}: S3 error {error.Code}: {error.Message}"
                    + (errors.Count > 1 ? $" ({errors.Count - 1} more keys failed too)" : ""));
                failure.Data[S3Errors.BucketData] = Bucket;
                failure.Data[S3Errors.KeyData] = error.Key;
                failure.Data[S3Errors.ErrorCodeData] = error.Code;
                throw failure;
            }
        }
    }

    /// <summary>ETags come quoted ("\"abc\""); conditional writes send them back unquoted, which every server accepts.</summary>
    static string Unquote(string? etag) => etag is null ? "" : etag.Trim('"');

    /// <summary>A read-only stream over <paramref name="data"/>, without copying when it is backed by an array (chunks are).</summary>
    static MemoryStream ReadStream(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            // Native or pinned memory: one copy, the only way to give the SDK a seekable stream over it.
            : new MemoryStream(data.ToArray(), writable: false);

    /// <summary>Test hook: routes the SDK's HTTP requests through a given handler (fault injection).</summary>
    sealed class HandlerFactory(HttpMessageHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
    }
}
