
namespace Replica.Bridges.S3;

/// <summary>
/// A bridge in an S3 bucket (AWS or any S3-compatible server): the <see cref="ObjectBridge"/> protocol over the bucket
/// (<see cref="S3Store"/>), laid out like the local bridge under the prefix:
/// <code>
/// prefix/index.json              complete dumps: {"version":1,"dumps":[...]}, updated by compare-and-swap
/// prefix/dump-1/p000000-000000.chunk ... chunk 0 of part 0, zero-padded so that key order is restore order
/// prefix/dump-1/manifest.json    written once (If-None-Match: *) after the last chunk; the source of truth
/// prefix/dump-1/.writing         the writer's claim on the name (If-None-Match: *), rewritten every minute while the
///                                writer works (its age tells a dead writer), removed once the dump is listed
/// </code>
/// There is no lock: index.json is read with its ETag and written back with If-Match (If-None-Match: * when absent);
/// a writer that loses the race reads again, merges and retries after a random delay. A dump is listed only after
/// every chunk and its manifest are stored. Thread-safe; several processes may share one prefix.
/// </summary>
public sealed class S3Bridge : ObjectBridge, IDisposable
{
    readonly S3BridgeOptions _options;
    readonly S3Store _store;

    /// <summary>Checks <paramref name="options"/> (<see cref="ConfigException"/> when invalid) and sets up the S3 client.</summary>
    public S3Bridge(S3BridgeOptions options)
        : this(options, testHandler: null)
    {
    }

    /// <summary>Test hook: <paramref name="testHandler"/> carries every HTTP request (fault injection).</summary>
    internal S3Bridge(S3BridgeOptions options, HttpMessageHandler? testHandler)
        : this(CreateStore(options, testHandler))
    {
    }

    S3Bridge(S3Store store)
        : base(store, new ObjectBridgeOptions
        {
            TimeProvider = store.Options.TimeProvider,
            MarkerRefreshInterval = store.Options.MarkerRefreshInterval,
            IndexUpdateAttempts = store.Options.IndexUpdateAttempts,
            AbandonedAfter = store.Options.AbandonedAfter,
            ChunkListLength = store.Options.ChunkListLength,
        })
    {
        _store = store;
        _options = store.Options;
    }

    static S3Store CreateStore(S3BridgeOptions options, HttpMessageHandler? testHandler)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new S3Store(options, testHandler);
    }

    public S3BridgeOptions Options => _options;

    /// <summary>The whole key of <paramref name="key"/> (relative to the prefix, as the bridge names objects).</summary>
    string Full(string key) => _options.Prefix + key;

    public void Dispose() => _store.Dispose();

    protected override Task RemovingAbandonedAsync(string name, CancellationToken cancellationToken) =>
        // A multipart upload cut short leaves parts nobody sees but everybody pays for.
        _store.AbortUploadsAsync(Full(DumpPrefix(name)), cancellationToken);
}
