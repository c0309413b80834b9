using System.Net.Sockets;
using System.Text;
using Replica.Bridges;
using Replica.TestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>
/// <see cref="ShareStore"/> (`--from-url`) against a real HTTP/1.1 server on 127.0.0.1 that answers as a broken or slow
/// one would: headers, then a body that stalls or trickles.
/// </summary>
public sealed class ShareStoreTests : IDisposable
{
    static readonly TimeSpan s_idle = TimeSpan.FromMilliseconds(500);

    readonly LoopbackHttpServer _server = new();

    public void Dispose() => _server.Dispose();

    int Port => _server.Port;

    // The path and the query are the link's secret: no message may show them.
    Uri Link => new($"http://127.0.0.1:{Port}/shares/path-secret/share.json?X-Amz-Signature=query-secret");

    void Serve(Func<NetworkStream, CancellationToken, Task> respond) => _server.Serve(respond);

    static Task WriteAsync(NetworkStream stream, string text, CancellationToken cancellationToken) =>
        stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken).AsTask();

    /// <summary>
    /// Found by review: HttpClient's timeout ends with the headers (ResponseHeadersRead), and a server that then sent one
    /// byte of the body and nothing more held `verify --from-url` forever.
    /// </summary>
    [Fact]
    public async Task GetAsync_BodyStallsAfterOneByte_FailsSayingHowManyBytesCameWithoutTheLink()
    {
        Serve(async (stream, cancellationToken) =>
        {
            await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{", cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        });
        var store = new ShareStore(Link, s_idle);
        // Before the fix the read waited for ever: the test's own limit turns that into a failure.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var ex = await Assert.ThrowsAsync<BridgeException>(() => store.GetAsync(ObjectBridge.IndexKey, "read", null, limit.Token));

        Assert.Contains($"127.0.0.1:{Port} sent 1 byte of the body, then nothing for 500 ms", ex.Message);
        Assert.DoesNotContain("secret", ex.Message);
        Assert.Equal(3, _server.Requests);
    }

    /// <summary>The idle timeout counts from the last bytes that came, not from the start: a slow body is read whole.</summary>
    [Fact]
    public async Task GetAsync_BodyTricklesSlowerThanTheIdleTimeoutInAll_IsReadWhole()
    {
        const string body = "not a share!";
        // Ten pauses fit in the idle timeout: a loaded machine that runs a pause late does not fail the test.
        TimeSpan idle = TimeSpan.FromSeconds(2);
        Serve(async (stream, cancellationToken) =>
        {
            await WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n", cancellationToken);
            foreach (char c in body)
            {
                await Task.Delay(idle / 10, cancellationToken);
                await WriteAsync(stream, c.ToString(), cancellationToken);
            }
            await Task.Delay(Timeout.Infinite, cancellationToken);
        });
        var store = new ShareStore(Link, idle);

        // The whole body came (12 bytes over ~2.4 s, more than the idle timeout), and it is not a share object.
        var ex = await Assert.ThrowsAsync<BridgeException>(() => store.GetAsync(ObjectBridge.IndexKey, "read", null, CancellationToken.None));

        Assert.Contains("is not a share replica can read", ex.Message);
        Assert.Equal(1, _server.Requests);
    }
}
