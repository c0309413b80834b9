using Replica.Bridges;

namespace Replica.Pipeline;

/// <summary>
/// `replica share`, `share --list` and `share --revoke`: a dump of an S3 bridge handed out as one link (<see cref="DumpShare"/>);
/// `restore --from-url` and `verify --from-url` read it back (<see cref="RestoreOptions.FromUrl"/>).
/// </summary>
public static class ShareJob
{
    /// <summary>The default lifetime of a share's links.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(24);

    /// <summary>
    /// Shares the named dump, or the newest complete one when <paramref name="name"/> is null, for <paramref name="lifetime"/>.
    /// An encrypted dump whose index entry is not authenticated (header version below 4) is refused unless
    /// <paramref name="allowLegacy"/> (<see cref="BridgeCodecs.CheckEntryAuthenticated"/>).
    /// </summary>
    public static async Task<SharedDump> ShareAsync(IBridge bridge, string? name, TimeSpan lifetime, CancellationToken cancellationToken,
        AllowLegacy? allowLegacy = null)
    {
        ObjectBridge objects = ArchiveJob.Objects(bridge, "share dumps by link");
        string shared = name ?? (await DumpReader.ResolveLatestAsync(bridge, cancellationToken).ConfigureAwait(false)).Name;
        return await DumpShare.ShareAsync(objects, shared, lifetime, cancellationToken,
            manifest => BridgeCodecs.CheckEntryAuthenticated(manifest, allowLegacy)).ConfigureAwait(false);
    }

    /// <summary>The shares of the bridge, oldest first (`share --list`).</summary>
    public static Task<IReadOnlyList<ShareListing>> ListAsync(IBridge bridge, CancellationToken cancellationToken) =>
        DumpShare.ListAsync(ArchiveJob.Objects(bridge, "share dumps by link"), cancellationToken);

    /// <summary>Deletes the expired (and unreadable) shares (`share --prune`); returns their ids.</summary>
    public static Task<IReadOnlyList<string>> PruneAsync(IBridge bridge, CancellationToken cancellationToken) =>
        DumpShare.PruneAsync(ArchiveJob.Objects(bridge, "share dumps by link"), cancellationToken);

    /// <summary>Deletes share <paramref name="id"/>: its link stops working. Returns how many objects went.</summary>
    public static Task<int> RevokeAsync(IBridge bridge, string id, CancellationToken cancellationToken) =>
        DumpShare.RevokeAsync(ArchiveJob.Objects(bridge, "share dumps by link"), id, cancellationToken);
}
