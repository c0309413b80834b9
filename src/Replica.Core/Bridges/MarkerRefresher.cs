namespace Replica.Bridges;

/// <summary>
/// Keeps a writer's .writing marker fresh while the writer works: runs <c>refresh</c> every interval on the bridge's
/// clock until disposed. `replica delete --abandoned` takes a marker that stopped being refreshed for longer than its
/// --stale-after as the sign of a dead writer, so the interval must be a small part of that (1 minute against 1 hour).
/// A refresh that fails is tried again at the next tick: a marker that stays stale for a while only matters to that
/// command, and a dump must not fail for it. A refresh that finds the lease lost (the marker gone or replaced: that
/// command took the writer for dead) ends the refreshing for good, and <see cref="EnsureHeld"/> then fails the dump, as
/// it does when the last successful refresh is so old that the command may be removing the folder right now.
/// </summary>
internal sealed class MarkerRefresher : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    readonly TimeSpan _interval;
    readonly TimeProvider _timeProvider;
    // When the last successful refresh (or the claim) was sent, on the monotonic clock (TimeProvider.GetTimestamp): a
    // paused process or a wall clock set back cannot make it look younger than it is.
    long _lastRefreshed;
    volatile bool _lost;

    /// <param name="claimedAt">When the marker was created (<see cref="TimeProvider.GetTimestamp"/>, taken before the claim was sent).</param>
    public MarkerRefresher(TimeSpan interval, TimeProvider timeProvider, long claimedAt, Func<CancellationToken, Task<bool>> refresh)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _interval = interval;
        _timeProvider = timeProvider;
        _lastRefreshed = claimedAt;
        _loop = Task.Run(() => RunAsync(refresh, _stop.Token));
    }

    /// <summary>A refresh found the marker gone or replaced; nothing refreshes it any more.</summary>
    public bool IsLost => _lost;

    /// <summary>
    /// The longest a writer may go without a successful refresh and still complete: half an interval less than the
    /// shortest --stale-after that `delete --abandoned` accepts (<see cref="RequireStaleAfter"/>, twice the interval), so
    /// that the marker cannot have looked stale to it. A margin of half an interval covers the time from this check to
    /// the index write and a clock on the deleting machine that runs a little ahead.
    /// </summary>
    public TimeSpan MaxSilence => 2 * _interval - _interval / 2;

    /// <summary>
    /// Throws the "lease lost" <see cref="BridgeException"/> for dump <paramref name="name"/> when a refresh found the
    /// marker gone or replaced, or when the last successful refresh is older than <see cref="MaxSilence"/> (the writer
    /// was paused, or its refreshes kept failing): `delete --abandoned` may have removed what it stored.
    /// </summary>
    public void EnsureHeld(string name)
    {
        if (_lost)
        {
            throw LeaseLost(name, "its writer marker was removed or replaced while it worked");
        }
        TimeSpan silence = _timeProvider.GetElapsedTime(Volatile.Read(ref _lastRefreshed));
        if (silence > MaxSilence)
        {
            throw LeaseLost(name, $"its writer marker was last refreshed {silence.TotalSeconds:F0} s ago, longer than the "
                + $"{MaxSilence.TotalSeconds:F0} s after which 'replica delete --abandoned' may take it for a dead writer's");
        }
    }

    /// <summary>The failure of a writer that lost its claim on the name; the dump is not (and will not be) listed.</summary>
    public static BridgeException LeaseLost(string name, string why) =>
        new($"Dump '{name}' lost its lease on the name: {why}. 'replica delete --abandoned' may have removed what it stored "
            + "(a writer paused or cut off for longer than --stale-after, or clocks that disagree), so the dump is not listed; "
            + "run it again.");

    async Task RunAsync(Func<CancellationToken, Task<bool>> refresh, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_interval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                // Taken before the request goes out: the marker is at least this young once it succeeds.
                long sent = _timeProvider.GetTimestamp();
                try
                {
                    if (!await refresh(stop).ConfigureAwait(false))
                    {
                        _lost = true;
                        return;
                    }
                    Volatile.Write(ref _lastRefreshed, sent);
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
