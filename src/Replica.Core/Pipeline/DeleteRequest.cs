using Replica.Bridges;

namespace Replica.Pipeline;

/// <summary>
/// Which dumps `replica delete` removes: one named dump, or those a <see cref="RetentionPolicy"/> selects
/// (--older-than, --keep-last), or with --abandoned what killed writers left behind.
/// </summary>
public static class DeleteRequest
{
    /// <summary>
    /// The complete dumps to delete, oldest first, and how many the bridge lists. <paramref name="name"/> must name a
    /// listed dump (a <see cref="BridgeException"/> says how leftovers are removed otherwise); without it, the policy of
    /// <paramref name="olderThan"/> and <paramref name="keepLast"/> selects.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Names, int Listed)> SelectAsync(IBridge bridge, string? name, string? olderThan, int? keepLast,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        if (name is not null)
        {
            var listed = await bridge.ListAsync(cancellationToken).ConfigureAwait(false);
            if (!listed.Any(d => d.Name == name))
            {
                throw new BridgeException(
                    $"there is no complete dump named '{name}' in {bridge.Description}; what a dump that never completed left behind is removed by 'replica delete --abandoned'");
            }
            return ([name], listed.Count);
        }
        var policy = RetentionPolicy.Parse(olderThan, keepLast);
        var dumps = await bridge.ListAsync(cancellationToken).ConfigureAwait(false);
        return ([.. policy.SelectForDeletion(dumps, now).Select(d => d.Name)], dumps.Count);
    }

    /// <summary>
    /// Deletes (or with <paramref name="dryRun"/> only names) the unlisted dumps whose writer marker is older than
    /// <paramref name="staleAfter"/> (1h, 90m, 1d).
    /// </summary>
    public static async Task<IReadOnlyList<string>> DeleteAbandonedAsync(IBridge bridge, string staleAfter, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        if (!RetentionPolicy.TryParseDuration(staleAfter, out var age))
        {
            throw new ConfigException($"'{staleAfter}' is not a duration; write e.g. 1h, 90m or 1d", key: "--stale-after");
        }
        if (bridge is not IAbandonedCleanup cleanup)
        {
            throw new ConfigException($"{bridge.Description} cannot remove abandoned dumps");
        }
        return await cleanup.DeleteAbandonedAsync(age, dryRun, cancellationToken).ConfigureAwait(false);
    }
}
