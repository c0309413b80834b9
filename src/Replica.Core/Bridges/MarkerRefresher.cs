namespace Replica.Bridges;

/// <summary>
/// Keeps a writer's .writing marker fresh while the writer works: runs <c>refresh</c> every interval on the bridge's
/// clock until disposed. `replica delete --abandoned` takes a marker that stopped being refreshed for longer than its
/// --stale-after as the sign of a dead writer, so the interval must be a small part of that (1 minute against 1 hour).
/// A refresh that fails is tried again at the next tick: a marker that stays stale for a while only matters to that
/// command, and a dump must not fail for it.
/// </summary>
internal sealed class MarkerRefresher : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;

    public MarkerRefresher(TimeSpan interval, TimeProvider timeProvider, Func<CancellationToken, Task> refresh)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _loop = Task.Run(() => RunAsync(interval, timeProvider, refresh, _stop.Token));
    }

    static async Task RunAsync(TimeSpan interval, TimeProvider timeProvider, Func<CancellationToken, Task> refresh, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await refresh(stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ReplicaException or IOException or UnauthorizedAccessException)
                {
                    // Tried again at the next tick (see the class comment).
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// <see cref="ConfigException"/> unless <paramref name="staleAfter"/> is at least twice the refresh interval: a
    /// marker younger than that may belong to a writer that is alive and about to refresh it.
    /// </summary>
    public static void RequireStaleAfter(TimeSpan staleAfter, TimeSpan refreshInterval)
    {
        if (staleAfter < 2 * refreshInterval)
        {
            throw new ConfigException(
                $"--stale-after {staleAfter} is too short: writers refresh their marker every {refreshInterval}, so only a marker " +
                $"older than {2 * refreshInterval} shows that its writer is gone", key: "--stale-after");
        }
    }

    /// <summary>Stops refreshing and waits for a refresh in flight, so nothing touches the marker afterwards.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
