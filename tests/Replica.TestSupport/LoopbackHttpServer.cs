using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Replica.TestSupport;

/// <summary>
/// An HTTP/1.1 server on 127.0.0.1 that answers as a broken or slow one would: each connection's request head is read,
/// then the test's respond writes whatever it likes (headers, part of a body, nothing) and the connection stays open
/// until the server is disposed. For the readers' idle limits (ShareStore's links, the S3 store's GetObject).
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly ConcurrentBag<TcpClient> _clients = [];
    readonly CancellationTokenSource _stop = new();
    int _requests;

    public LoopbackHttpServer() => _listener.Start();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Requests whose head was read (one a connection: the readers do not reuse a stalled one).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Answers every connection's request with <paramref name="respond"/>, and keeps the connection open.</summary>
    public void Serve(Func<NetworkStream, CancellationToken, Task> respond) => _ = Task.Run(async () =>
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
                await respond(stream, _stop.Token);
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
}
