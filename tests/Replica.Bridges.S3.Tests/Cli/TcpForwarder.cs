using System.Net;
using System.Net.Sockets;

namespace Replica.Bridges.S3.Tests.Cli;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a test server, that a test can pull the plug on: <see cref="Stop"/> closes the
/// open connections and refuses new ones, as a server that went away mid-dump would. The fixture's server itself stays
/// up for the other tests.
/// </summary>
public sealed class TcpForwarder : IDisposable
{
    readonly TcpListener _listener;
    readonly int _targetPort;
    readonly List<TcpClient> _connections = [];
    readonly CancellationTokenSource _stop = new();
    readonly Task _accepting;

    public TcpForwarder(int targetPort)
    {
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public string EndpointUrl => $"http://127.0.0.1:{Port}";

    async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var server = new TcpClient();
            lock (_connections)
            {
                _connections.Add(client);
                _connections.Add(server);
            }
            _ = RelayAsync(client, server);
        }
    }

    async Task RelayAsync(TcpClient client, TcpClient server)
    {
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            NetworkStream fromClient = client.GetStream();
            NetworkStream fromServer = server.GetStream();
            // Whichever side ends first ends the pair.
            await Task.WhenAny(fromClient.CopyToAsync(fromServer, _stop.Token), fromServer.CopyToAsync(fromClient, _stop.Token));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // The plug was pulled, or one side hung up.
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    /// <summary>Refuses new connections and cuts the open ones.</summary>
    public void Stop()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        _stop.Cancel();
        _listener.Stop();
        lock (_connections)
        {
            foreach (TcpClient connection in _connections)
            {
                connection.Dispose();
            }
            _connections.Clear();
        }
        _accepting.Wait(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }
}
