namespace Replica.Bridges.S3.Tests;

/// <summary>
/// Sits between the SDK and the network (through S3Bridge's test constructor) as a server or proxy that breaks
/// conditional writes would: it drops the ETag header from chosen answers, and the If-Match / If-None-Match headers from
/// requests, and passes everything else to the real server unchanged.
/// </summary>
internal sealed class HeaderTamperer : DelegatingHandler
{
    public HeaderTamperer()
        : base(new SocketsHttpHandler())
    {
    }

    /// <summary>The requests whose answers lose their ETag header; none when null.</summary>
    public Func<HttpRequestMessage, bool>? DropETag { get; set; }

    /// <summary>Sends every request without If-Match and If-None-Match, as a server that ignores them behaves.</summary>
    public bool StripConditions { get; set; }

    /// <summary>How many requests had a condition stripped.</summary>
    public int Stripped => Volatile.Read(ref _stripped);

    int _stripped;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Checked on the request as the SDK sent it: the answer no longer knows its request's headers.
        bool dropETag = DropETag is { } drop && drop(request);
        if (StripConditions && (request.Headers.Remove("If-Match") | request.Headers.Remove("If-None-Match")))
        {
            Interlocked.Increment(ref _stripped);
        }
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
        if (dropETag)
        {
            response.Headers.Remove("ETag");
        }
        return response;
    }

    /// <summary>A GET of the object whose key ends with <paramref name="keySuffix"/>.</summary>
    public static Func<HttpRequestMessage, bool> GetOf(string keySuffix) => request =>
        request.Method == HttpMethod.Get && request.RequestUri!.AbsolutePath.EndsWith(keySuffix, StringComparison.Ordinal);
}
