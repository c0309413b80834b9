using System.Text;
using Replica.TestSupport;

namespace Replica.Bridges.S3.Tests;

/// <summary>
/// The S3 bridge against a real HTTP/1.1 server on 127.0.0.1 that answers every GetObject as a broken one would: headers,
/// one byte of the body, then nothing. No S3 server can be told to do that, so this one is not moto.
/// </summary>
public sealed class S3StoreIdleTests : IDisposable
{
    const string Secret = "secret-key-value";

    readonly LoopbackHttpServer _server = new();

    public void Dispose() => _server.Dispose();

    int Port => _server.Port;

    /// <summary>Answers every request with a 200, a Content-Length of 1000 and one byte of it; keeps the connection open.</summary>
    void ServeStallingBodies() => _server.Serve(async (stream, cancellationToken) =>
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/octet-stream\r\nETag: \"0123\"\r\n\r\n{"), cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    });

    /// <summary>
    /// Found by review: the SDK's timeout ends with the headers, and a server that then sent one byte of the body and
    /// nothing more held `list`, `restore` and `verify` forever.
    /// </summary>
    [Fact]
    public async Task ListAsync_IndexBodyStallsAfterOneByte_FailsNamingTheKeyAfterItsRetries()
    {
        ServeStallingBodies();
        using var bridge = new S3Bridge(new S3BridgeOptions
        {
            Bucket = "bucket",
            Prefix = "replica/",
            Region = "us-east-1",
            EndpointUrl = $"http://127.0.0.1:{Port}",
            ForcePathStyle = true,
            AccessKey = "AKIDEXAMPLE",
            SecretKey = Secret,
            MaxRetries = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            RetryMaxDelay = TimeSpan.FromMilliseconds(20),
            BodyIdleTimeout = TimeSpan.FromMilliseconds(500),
        });
        // Before the fix the read waited for ever: the test's own limit turns that into a failure.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var ex = await Assert.ThrowsAsync<BridgeException>(() => bridge.ListAsync(limit.Token));

        Assert.Contains("s3://bucket/replica/index.json: the S3 server sent 1 byte of the body, then nothing for 500 ms (after 2 tries)", ex.Message);
        Assert.DoesNotContain(Secret, ex.ToString());
        Assert.Equal(2, _server.Requests);
    }
}
