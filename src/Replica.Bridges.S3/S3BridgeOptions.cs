namespace Replica.Bridges.S3;

/// <summary>
/// Where and how <see cref="S3Bridge"/> stores dumps. Only <see cref="Bucket"/> is required: without an endpoint the
/// bridge talks to AWS, and without keys it uses the standard AWS credential chain (environment, profile, instance role).
/// </summary>
public sealed record S3BridgeOptions
{
    /// <summary>S3's minimum size of every part of a multipart upload but the last.</summary>
    public const int MinPartSize = 5 * 1024 * 1024;

    /// <summary>The bucket; it must exist, the bridge never creates it.</summary>
    public required string Bucket { get; init; }

    /// <summary>
    /// A key prefix holding the bridge ("" for the bucket root). Must end with '/' so that dump folders and index.json
    /// sit under it as under a directory, e.g. "replica/prod/", and be a plain folder: no empty, '.' or '..' segment,
    /// no '\' (see <see cref="Replica.Config.S3Config.PrefixProblem"/>).
    /// </summary>
    public string Prefix { get; init; } = "";

    /// <summary>The region, e.g. "eu-west-1"; null: the AWS chain's (AWS_REGION, profile), or "us-east-1" with an endpoint.</summary>
    public string? Region { get; init; }

    /// <summary>An S3-compatible server instead of AWS, e.g. "http://127.0.0.1:7480" (MinIO, Ceph radosgw, moto).</summary>
    public string? EndpointUrl { get; init; }

    /// <summary>Addresses buckets as endpoint/bucket/key rather than bucket.endpoint/key; most self-hosted servers need it.</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary>Access key id; null (with <see cref="SecretKey"/> null too): the standard AWS credential chain.</summary>
    public string? AccessKey { get; init; }

    /// <summary>Secret access key; never printed (see <see cref="ToString"/>).</summary>
    public string? SecretKey { get; init; }

    /// <summary>How often a failed S3 request (5xx, throttling, network error, timeout) is retried before giving up.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>The first retry waits about this long; each next one twice as long (with jitter), up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between two tries.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often an index.json update is tried when other writers keep changing it in between (412/409 answers to the
    /// conditional write). Each loss waits a random, growing delay, so 16 simultaneous writers need a few tries each.
    /// </summary>
    public int IndexUpdateAttempts { get; init; } = 64;

    /// <summary>Chunks larger than this are uploaded in parts (multipart upload); smaller ones with one PUT.</summary>
    public long MultipartThreshold { get; init; } = 16 * 1024 * 1024;

    /// <summary>The size of each part of a multipart upload (the last part may be smaller); at least 5 MiB.</summary>
    public int PartSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>How many parts of one chunk are uploaded at the same time.</summary>
    public int MultipartConcurrency { get; init; } = 4;

    /// <summary>
    /// An unlisted dump whose writer marker is older than this counts as abandoned (its writer died): DeleteAsync may
    /// remove it. Younger ones are taken as still being written and are left alone.
    /// </summary>
    public TimeSpan AbandonedAfter { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How many chunk entries a chunk list object of bridge format v3 holds (default 1024: one list per 4 GiB of 4 MiB
    /// chunks). A part with more chunks than this has its chunks stored in lists as it goes instead of kept for the
    /// manifest, so a writer's memory does not grow with the dump. Not a config key: tests lower it.
    /// </summary>
    public int ChunkListLength { get; init; } = Replica.Bridges.ObjectBridgeOptions.DefaultChunkListLength;

    /// <summary>
    /// How often a writer rewrites its .writing marker while it works, so that its age tells a live writer from a dead
    /// one; `delete --abandoned` needs markers older than at least twice this. Default 1 minute.
    /// </summary>
    public TimeSpan MarkerRefreshInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long an object's body may send nothing before its read fails (and is retried): 1 minute. Not a config key:
    /// tests shorten it.
    /// </summary>
    internal TimeSpan BodyIdleTimeout { get; init; } = IdleBody.DefaultTimeout;

    /// <summary>The clock that stamps created_at and ages writer markers; tests pass a fixed one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws <see cref="ConfigException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            throw new ConfigException("the S3 bucket is required.", key: "bucket");
        }
        if (Replica.Config.S3Config.PrefixProblem(Prefix) is { } problem)
        {
            throw new ConfigException($"the S3 prefix '{Prefix}' is not a plain folder of the bucket: {problem}, e.g. 'replica/prod/'.", key: "prefix");
        }
        if (EndpointUrl is not null)
        {
            // The endpoint appears in messages (Description), so it must hold no credentials; and these messages do not
            // repeat a value that might (anything with an '@').
            if (!Uri.TryCreate(EndpointUrl, UriKind.Absolute, out Uri? endpoint) || (endpoint.Scheme != "http" && endpoint.Scheme != "https"))
            {
                throw new ConfigException(EndpointUrl.Contains('@', StringComparison.Ordinal)
                    ? "the S3 endpoint is not an http:// or https:// URL."
                    : $"the S3 endpoint '{EndpointUrl}' is not an http:// or https:// URL.", key: "endpoint");
            }
            if (endpoint.UserInfo.Length > 0)
            {
                throw new ConfigException("the S3 endpoint URL must not hold a user name or password (user:password@host): "
                    + "give the keys as the access key and the secret key.", key: "endpoint");
            }
        }
        if ((AccessKey is null) != (SecretKey is null))
        {
            throw new ConfigException(
                "give both the S3 access key and the secret key, or neither (then the standard AWS credential chain is used).",
                key: AccessKey is null ? "access_key_id" : "secret_access_key");
        }
        if (MaxRetries < 0)
        {
            throw new ConfigException($"the retry count must be 0 or more, not {MaxRetries}.", key: "max_retries");
        }
        if (RetryBaseDelay < TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            throw new ConfigException("the retry delays must be positive, the maximum at least the base.", key: "retry_base_delay");
        }
        if (IndexUpdateAttempts < 1)
        {
            throw new ConfigException($"the index update attempts must be 1 or more, not {IndexUpdateAttempts}.", key: "index_update_attempts");
        }
        if (PartSize < MinPartSize)
        {
            throw new ConfigException($"the multipart part size must be at least {MinPartSize} bytes (S3's minimum), not {PartSize}.",
                key: "part_size");
        }
        if (MultipartThreshold < 1)
        {
            throw new ConfigException($"the multipart threshold must be positive, not {MultipartThreshold}.", key: "multipart_threshold");
        }
        if (MarkerRefreshInterval <= TimeSpan.Zero)
        {
            throw new ConfigException($"the marker refresh interval must be positive, not {MarkerRefreshInterval}.", key: "marker_refresh_interval");
        }
        if (MultipartConcurrency < 1)
        {
            throw new ConfigException($"the multipart concurrency must be 1 or more, not {MultipartConcurrency}.", key: "multipart_concurrency");
        }
    }

    /// <summary>The settings for messages and logs; the secret key is never shown, the access key only as set/unset.</summary>
    public override string ToString() =>
        $"S3BridgeOptions {{ Bucket = {Bucket}, Prefix = {Prefix}, Region = {Region}, EndpointUrl = {EndpointUrl}, "
        + $"ForcePathStyle = {ForcePathStyle}, Credentials = {(AccessKey is null ? "AWS default chain" : "(given)")}, "
        + $"MaxRetries = {MaxRetries}, MultipartThreshold = {MultipartThreshold}, PartSize = {PartSize} }}";
}
