using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Replica.Bridges.S3.Tests;

/// <summary>
/// The S3 bridge against a real HTTP/1.1 server on 127.0.0.1 that answers every GetObject as a broken one would: headers,
/// one byte of the body, then nothing. No S3 server can be told to do that, so this one is not moto.
/// </summary>
public sealed class S3StoreIdleTests : IDisposable
{
    const string Secret = "secret-key-value";

    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly ConcurrentBag<TcpClient> _clients = [];
    readonly CancellationTokenSource _stop = new();
    int _requests;

    public S3StoreIdleTests() => _listener.Start();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (TcpClient client in _clients)
        {
            client.Dispose();
        }
        _stop.Dispose();
    }

    int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Answers every request with a 200, a Content-Length of 1000 and one byte of it; keeps the connection open.</summary>
    void ServeStallingBodies() => _ = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _clients.Add(client);
            _ = Task.Run(async () =>
            {
                NetworkStream stream = client.GetStream();
                await ReadRequestHeadAsync(stream, _stop.Token);
                Interlocked.Increment(ref _requests);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/octet-stream\r\nETag: \"0123\"\r\n\r\n{"), _stop.Token);
                await Task.Delay(Timeout.Infinite, _stop.Token);
            });
        }
    });

    static async Task ReadRequestHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var request = new List<byte>();
        byte[] one = new byte[1];
        while (request.Count < 4 || request[^4] != '\r' || request[^3] != '\n' || request[^2] != '\r' || request[^1] != '\n')
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                return;
            }
            request.Add(one[0]);
        }
    }

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
        Assert.Equal(2, _requests);
    }
}
