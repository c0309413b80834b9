using System.Net;
using System.Text;

namespace Replica.Bridges.S3.Tests;

/// <summary>
/// Sits between the SDK and the network (through S3Bridge's test constructor) and answers chosen requests with an S3
/// error instead of sending them, a given number of times; everything else goes to the real server.
/// </summary>
internal sealed class FaultInjector : DelegatingHandler
{
    Func<HttpRequestMessage, bool>? _match;
    int _remaining;
    HttpStatusCode _status;
    string _code = "";
    int _injected;

    public FaultInjector()
        : base(new SocketsHttpHandler())
    {
    }

    /// <summary>How many requests were answered with the injected error.</summary>
    public int Injected => Volatile.Read(ref _injected);

    /// <summary>From now on, the next <paramref name="times"/> requests matching <paramref name="match"/> fail.</summary>
    public void Fail(Func<HttpRequestMessage, bool> match, int times, HttpStatusCode status = HttpStatusCode.InternalServerError,
        string code = "InternalError")
    {
        _status = status;
        _code = code;
        _answer = null;
        _loseAnswer = false;
        Volatile.Write(ref _remaining, times);
        Volatile.Write(ref _match, match);
    }

    /// <summary>From now on, the next <paramref name="times"/> requests matching <paramref name="match"/> get 200 and <paramref name="xml"/>.</summary>
    public void Answer(Func<HttpRequestMessage, bool> match, int times, string xml)
    {
        _status = HttpStatusCode.OK;
        _answer = xml;
        _loseAnswer = false;
        Volatile.Write(ref _remaining, times);
        Volatile.Write(ref _match, match);
    }

    string? _answer;
    bool _loseAnswer;

    /// <summary>
    /// From now on, the next <paramref name="times"/> requests matching <paramref name="match"/> reach the server, which
    /// acts on them, but their answer is lost on the way back (the connection breaks): the client sees a network error.
    /// </summary>
    public void LoseAnswer(Func<HttpRequestMessage, bool> match, int times)
    {
        _loseAnswer = true;
        _answer = null;
        Volatile.Write(ref _remaining, times);
        Volatile.Write(ref _match, match);
    }

    /// <summary>A ListObjectsV2 request (GET ?list-type=2).</summary>
    public static bool IsListing(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get && request.RequestUri!.Query.Contains("list-type=2", StringComparison.Ordinal);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _match) is { } match && match(request) && Interlocked.Decrement(ref _remaining) >= 0)
        {
            Interlocked.Increment(ref _injected);
            if (_loseAnswer)
            {
                using HttpResponseMessage lost = await base.SendAsync(request, cancellationToken);
                throw new HttpRequestException($"injected by the test: the answer ({(int)lost.StatusCode}) to {request.Method} {request.RequestUri!.AbsolutePath} was lost");
            }
            string body = _answer
                ?? $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{_code}</Code><Message>injected by the test</Message></Error>";
            return new HttpResponseMessage(_status)
            {
                Content = new StringContent(body, Encoding.UTF8, "application/xml"),
                RequestMessage = request,
            };
        }
        return await base.SendAsync(request, cancellationToken);
    }

    /// <summary>A PUT of an object whose key ends with <paramref name="keySuffix"/> (a single-request upload, not a part).</summary>
    public static Func<HttpRequestMessage, bool> PutOf(string keySuffix) => request =>
        request.Method == HttpMethod.Put
        && request.RequestUri!.AbsolutePath.EndsWith(keySuffix, StringComparison.Ordinal)
        && !request.RequestUri.Query.Contains("uploadId=", StringComparison.Ordinal);

    /// <summary>The upload of part <paramref name="partNumber"/> of any multipart upload.</summary>
    public static Func<HttpRequestMessage, bool> UploadPart(int partNumber) => request =>
        request.Method == HttpMethod.Put
        && request.RequestUri!.Query.TrimStart('?').Split('&').Contains($"partNumber={partNumber}");
}
