using System.Net;
using System.Net.Sockets;

namespace Replica.TestSupport;

/// <summary>One try at starting a server: the free port to listen on, the try's number (1-based), and whether it is the last.</summary>
public readonly record struct StartAttempt(int Port, int Number, bool IsLast);

/// <summary>
/// A throwaway server for tests (PostgreSQL, MariaDB, moto, radosgw) on a port of 127.0.0.1 the kernel reported free.
/// <see cref="InitializeAsync"/> prepares it once, starts it on a new free port until it runs (another process may take
/// the port between the check and the server binding it), then makes it ready; if any of that fails, the server is
/// disposed before the error propagates, so a fixture that cannot start leaves nothing running. A server that cannot be
/// started fails the fixture, never skips: tests that silently do not run prove nothing.
/// </summary>
public abstract class ServerFixture : IAsyncLifetime
{
    /// <summary>The TCP port on 127.0.0.1 the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>How many ports to try before giving up.</summary>
    protected abstract int StartAttempts { get; }

    public async Task InitializeAsync()
    {
        try
        {
            await PrepareAsync().ConfigureAwait(false);
            for (int number = 1; ; number++)
            {
                Port = FreePort();
                var attempt = new StartAttempt(Port, number, number >= StartAttempts);
                if (await TryStartAsync(attempt).ConfigureAwait(false))
                {
                    break;
                }
                if (attempt.IsLast)
                {
                    throw new InvalidOperationException($"{GetType().Name} did not start on any of {number} free ports.");
                }
            }
            await WhenStartedAsync().ConfigureAwait(false);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>What is done once before the first start: find the programs, create the data directory.</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    /// <summary>
    /// Starts the server on <see cref="StartAttempt.Port"/>: true when it runs; false, after cleaning up what this try
    /// started, when another port may succeed (the port was taken meanwhile). Throws, with what the server said, when
    /// another try would not help or <see cref="StartAttempt.IsLast"/>.
    /// </summary>
    protected abstract Task<bool> TryStartAsync(StartAttempt attempt);

    /// <summary>What is done once the server runs: accounts, a first query that proves it answers.</summary>
    protected virtual Task WhenStartedAsync() => Task.CompletedTask;

    /// <summary>Stops the server and removes its files; safe to call when it never started or was disposed already.</summary>
    public abstract Task DisposeAsync();

    /// <summary>A TCP port on 127.0.0.1 that nothing listened on a moment ago (a server started on it may still find it taken).</summary>
    public static int FreePort()
    {
        // Port 0 lets the kernel pick a free port.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
