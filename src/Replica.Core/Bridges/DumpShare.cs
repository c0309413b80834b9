using System.Security.Cryptography;
using System.Text.Json;

namespace Replica.Bridges;

/// <summary>
/// A dump shared by link (`replica share`, `restore --from-url`, `share --revoke`): a share object in the bridge lists
/// a link (an S3 presigned GET URL, <see cref="IPresigningStore"/>) to the dump's manifest, chunk lists and chunks, and
/// the one link printed is the share object's own. Laid out in the bridge, beside the dumps:
/// <code>
/// .shares/ID/share.json        {"format": "replica share", "version": 1, "id", "dump", "entry", "expires_at",
///                              "manifest": link, "chunk_lists": [{key, link}], "pages": [{first, last, count, size,
///                              sha256, link}]}
/// .shares/ID/page000000.json   links to up to 1,000 chunks: [{"key": "p000000-000000.chunk", "link": ...}, ...]
/// </code>
/// Chunk links sit in pages so that neither side holds a link per chunk (about 600 bytes each, 262,144 chunks per TiB)
/// at once. ".shares" is no dump name (names cannot start with '.'), so cleanup and index rebuild pass it by.
/// A reader (<see cref="ShareStore"/>) sees the share as a read-only bridge holding its one dump, so a restore from a
/// link makes every check a restore from the bridge makes (chunk hashes, the manifest's tag, the restore guard); the
/// links alone never decrypt an encrypted dump. Revoking deletes the share object and its pages: the printed link stops
/// working, but links to chunks that someone already copied out of a page work until they expire.
/// </summary>
public static class DumpShare
{
    public const string Format = "replica share";

    /// <summary>The share object format this replica writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The folder of share objects in a bridge.</summary>
    internal const string Folder = ".shares";

    internal const string ShareName = "share.json";

    /// <summary>Links per page: about 600 KB of JSON.</summary>
    internal const int PageLength = 1000;

    /// <summary>The longest a share object may be: a few hundred bytes per chunk list and page.</summary>
    internal const int MaxShareBytes = 16 << 20;

    /// <summary>The longest a page may be: <see cref="PageLength"/> links of up to 4 KiB each.</summary>
    internal const int MaxPageBytes = PageLength * 4096;

    internal static string SharePrefix(string id) => $"{Folder}/{id}/";

    internal static string ShareKey(string id) => SharePrefix(id) + ShareName;

    internal static string PageKey(string id, int page) => SharePrefix(id) + $"page{page:D6}.json";

    /// <summary>
    /// Shares complete dump <paramref name="name"/> of <paramref name="bridge"/> for <paramref name="lifetime"/>
    /// (capped at the lifetime of temporary signing credentials, with a warning): signs a link to each of its objects,
    /// stores the pages and the share object, and returns the share object's link. <see cref="ConfigException"/> when the
    /// bridge cannot sign links or the lifetime is out of range.
    /// </summary>
    public static Task<SharedDump> ShareAsync(ObjectBridge bridge, string name, TimeSpan lifetime, CancellationToken cancellationToken,
        Action<DumpManifest>? accept = null) =>
        ShareAsync(bridge, name, lifetime, PageLength, cancellationToken, accept);

    /// <summary><see cref="ShareAsync(ObjectBridge, string, TimeSpan, CancellationToken)"/> with pages of <paramref name="pageLength"/> links (tests lower it).</summary>
    internal static async Task<SharedDump> ShareAsync(ObjectBridge bridge, string name, TimeSpan lifetime, int pageLength, CancellationToken cancellationToken,
        Action<DumpManifest>? accept = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageLength, PageLength);
        ArgumentNullException.ThrowIfNull(bridge);
        IObjectStore store = bridge.ObjectStore;
        if (store is not IPresigningStore signer)
        {
            throw new ConfigException($"{bridge.Description} cannot share dumps by link: links are S3 presigned URLs, so sharing needs an S3 bridge "
                + "(bridge.s3); 'replica export' writes a dump to one file that can be handed over instead");
        }
        if (lifetime <= TimeSpan.Zero || lifetime > signer.MaxLinkLifetime)
        {
            throw new ConfigException($"--expires must be more than 0 and at most {signer.MaxLinkLifetime.TotalDays:0} days (7d): "
                + $"S3 presigned links (SigV4) cannot live longer; {Lifetime(lifetime)} was given");
        }
        DateTimeOffset now = bridge.BridgeOptions.TimeProvider.GetUtcNow();
        DateTimeOffset expires = now + lifetime;
        var warnings = new List<string>();
        (bool temporary, DateTimeOffset? credentialsExpire) = await signer.SigningCredentialsAsync(cancellationToken).ConfigureAwait(false);
        if (temporary && credentialsExpire is { } end && end < expires)
        {
            expires = end;
            warnings.Add($"the links are signed with temporary credentials (a session token) that expire at {Moment(end)}: "
                + "links die with the credentials that signed them, so the share expires then instead of when --expires says");
        }
        else if (temporary)
        {
            warnings.Add("the links are signed with temporary credentials (a session token): links die with the credentials that signed them, "
                + "so the share stops working when those expire, which may be before --expires; sign with a long-lived key to be sure");
        }

        (DumpManifest manifest, _) = await bridge.ReadListedManifestAsync(name, cancellationToken).ConfigureAwait(false);
        accept?.Invoke(manifest);
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        string dumpPrefix = ObjectBridge.DumpPrefix(name);
        var share = new ShareObject(Format, Version, id, name, ObjectBridge.EntryOf(manifest), now.ToUnixTimeMilliseconds(), expires.ToUnixTimeMilliseconds(),
            (await signer.PresignGetAsync(ObjectBridge.ManifestKey(name), expires, cancellationToken).ConfigureAwait(false)).AbsoluteUri, [], []);
        int objects = 1;
        try
        {
            foreach (PartInfo part in manifest.PartsOf())
            {
                foreach (ChunkListInfo list in part.ChunkLists ?? [])
                {
                    Uri link = await signer.PresignGetAsync(dumpPrefix + list.Key, expires, cancellationToken).ConfigureAwait(false);
                    share.ChunkLists.Add(new SharedLink(list.Key, link.AbsoluteUri));
                    objects++;
                }
            }
            var page = new List<SharedLink>(pageLength);
            foreach (ChunkInfo chunk in manifest.Chunks)
            {
                Uri link = await signer.PresignGetAsync(dumpPrefix + chunk.Key, expires, cancellationToken).ConfigureAwait(false);
                page.Add(new SharedLink(chunk.Key, link.AbsoluteUri));
                objects++;
                if (page.Count == pageLength)
                {
                    await StorePageAsync(page).ConfigureAwait(false);
                }
            }
            if (page.Count > 0)
            {
                await StorePageAsync(page).ConfigureAwait(false);
            }
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(share, BridgeJsonContext.Default.ShareObject);
            await store.PutAsync(ShareKey(id), json, SHA256.HashData(json), $"share object {id}", cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A share that was not completed is deleted: half of it would only be clutter in the bridge. What failed
            // first is what the user needs to hear; a cleanup that fails too (the same outage) must not hide it.
            try
            {
                await DeleteShareAsync(store, id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (BridgeException)
            {
            }
            throw;
        }
        Uri url = await signer.PresignGetAsync(ShareKey(id), expires, cancellationToken).ConfigureAwait(false);
        return new SharedDump(id, url, share.Entry, expires, objects, warnings);

        async Task StorePageAsync(List<SharedLink> links)
        {
            byte[] json = JsonSerializer.SerializeToUtf8Bytes([.. links], BridgeJsonContext.Default.SharedLinkArray);
            string key = PageKey(id, share.Pages.Count);
            await store.PutAsync(key, json, SHA256.HashData(json), $"page {share.Pages.Count} of share {id}", cancellationToken).ConfigureAwait(false);
            Uri link = await signer.PresignGetAsync(key, expires, cancellationToken).ConfigureAwait(false);
            share.Pages.Add(new SharePage(links.Select(l => l.Key).Min(StringComparer.Ordinal)!, links.Select(l => l.Key).Max(StringComparer.Ordinal)!, links.Count,
                json.Length, Convert.ToHexStringLower(SHA256.HashData(json)), link.AbsoluteUri));
            links.Clear();
        }
    }

    /// <summary>
    /// Deletes share <paramref name="id"/> (its share object first, then its pages): its link stops working. Returns
    /// how many objects were deleted; <see cref="BridgeException"/> when there is no such share.
    /// </summary>
    public static async Task<int> RevokeAsync(ObjectBridge bridge, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        if (!IsShareId(id))
        {
            throw new ConfigException($"'{id}' is not a share id: 'replica share' prints one, 16 lowercase hex digits");
        }
        int deleted = await DeleteShareAsync(bridge.ObjectStore, id, cancellationToken).ConfigureAwait(false);
        return deleted > 0 ? deleted : throw new BridgeException($"There is no share '{id}' in {bridge.Description}: it was revoked already, or never made there.");
    }

    static async Task<int> DeleteShareAsync(IObjectStore store, string id, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (ObjectInfo item in store.ListAsync(SharePrefix(id), cancellationToken).ConfigureAwait(false))
        {
            keys.Add(item.Key);
        }
        // The share object first: once it is gone the link is dead, whatever happens to the pages.
        keys.Sort((a, b) => (b == ShareKey(id)).CompareTo(a == ShareKey(id)));
        await store.DeleteAsync(keys, cancellationToken).ConfigureAwait(false);
        return keys.Count;
    }

    /// <summary>
    /// The shares in <paramref name="bridge"/>, oldest first: id, dump, when made and when their links expire. Reads one
    /// share object at a time and keeps only that; a share object that cannot be read is listed with a null dump.
    /// </summary>
    public static async Task<IReadOnlyList<ShareListing>> ListAsync(ObjectBridge bridge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        IObjectStore store = bridge.ObjectStore;
        var listings = new List<ShareListing>();
        await foreach (ObjectInfo item in store.ListAsync(Folder + "/", cancellationToken).ConfigureAwait(false))
        {
            string id = item.Key.Length == Folder.Length + 2 + 16 + ShareName.Length && item.Key.EndsWith("/" + ShareName, StringComparison.Ordinal)
                ? item.Key.Substring(Folder.Length + 1, 16)
                : "";
            if (!IsShareId(id) || item.Key != ShareKey(id))
            {
                continue;
            }
            ShareObject? share = null;
            if (await store.GetAsync(item.Key, $"read share object {id}", length => length <= MaxShareBytes
                    ? new byte[length]
                    : throw new BridgeException($"share object {store.Show(item.Key)} is {length} bytes, more than any share object"), cancellationToken)
                .ConfigureAwait(false) is { } stored)
            {
                try
                {
                    share = JsonSerializer.Deserialize(stored.Data.Span, BridgeJsonContext.Default.ShareObject);
                }
                catch (JsonException)
                {
                }
            }
            listings.Add(share is { Format: Format } && share.Id == id
                ? new ShareListing(id, share.Dump, DateTimeOffset.FromUnixTimeMilliseconds(share.CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(share.ExpiresAt))
                : new ShareListing(id, null, null, null));
        }
        listings.Sort((a, b) => Nullable.Compare(a.CreatedAt, b.CreatedAt) is var c and not 0 ? c : string.CompareOrdinal(a.Id, b.Id));
        return listings;
    }

    /// <summary>
    /// Deletes every share whose links have expired (by the bridge's clock) and every share whose object cannot be read;
    /// returns their ids. Active shares stay.
    /// </summary>
    public static async Task<IReadOnlyList<string>> PruneAsync(ObjectBridge bridge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        DateTimeOffset now = bridge.BridgeOptions.TimeProvider.GetUtcNow();
        var deleted = new List<string>();
        foreach (ShareListing share in await ListAsync(bridge, cancellationToken).ConfigureAwait(false))
        {
            if (share.ExpiresAt is not { } expires || expires <= now)
            {
                await DeleteShareAsync(bridge.ObjectStore, share.Id, cancellationToken).ConfigureAwait(false);
                deleted.Add(share.Id);
            }
        }
        return deleted;
    }

    /// <summary>
    /// Deletes every share of dump <paramref name="name"/> (its links could only fail now that the dump is gone);
    /// returns their ids.
    /// </summary>
    internal static async Task<IReadOnlyList<string>> DeleteSharesOfAsync(ObjectBridge bridge, string name, CancellationToken cancellationToken)
    {
        var deleted = new List<string>();
        foreach (ShareListing share in await ListAsync(bridge, cancellationToken).ConfigureAwait(false))
        {
            if (share.Dump == name)
            {
                await DeleteShareAsync(bridge.ObjectStore, share.Id, cancellationToken).ConfigureAwait(false);
                deleted.Add(share.Id);
            }
        }
        return deleted;
    }

    /// <summary>A moment as share messages show it: "2026-12-05 17:36:28 UTC", whatever the machine's culture.</summary>
    public static string Moment(DateTimeOffset moment) =>
        moment.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC";

    internal static bool IsShareId(string? id) => id is { Length: 16 } && id.All(char.IsAsciiHexDigitLower);

    /// <summary>
    /// Opens the share behind <paramref name="url"/> (a link 'replica share' printed) as a read-only bridge holding its
    /// one dump. Nothing is fetched until the bridge is read.
    /// </summary>
    public static ObjectBridge Open(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? link) || link.Scheme is not ("https" or "http"))
        {
            throw new ConfigException("--from-url needs the http(s) link 'replica share' printed");
        }
        return new ObjectBridge(new ShareStore(link));
    }

    static string Lifetime(TimeSpan t) => t.TotalDays >= 1 ? $"{t.TotalDays:0.##} days" : t.TotalHours >= 1 ? $"{t.TotalHours:0.##} hours" : $"{t.TotalSeconds:0} seconds";
}

/// <summary>What `replica share` made: the share's id (for --revoke), its one link, the dump, when the links expire.</summary>
public sealed record SharedDump(string Id, Uri Url, DumpEntry Entry, DateTimeOffset ExpiresAt, int Objects, IReadOnlyList<string> Warnings);

/// <summary>A share in a bridge (`replica share --list`): its id, its dump and its times (null when its share object cannot be read).</summary>
public sealed record ShareListing(string Id, string? Dump, DateTimeOffset? CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>The share object (see <see cref="DumpShare"/>).</summary>
internal sealed record ShareObject(string Format, int Version, string Id, string Dump, DumpEntry Entry, long CreatedAt, long ExpiresAt,
    string Manifest, List<SharedLink> ChunkLists, List<SharePage> Pages);

/// <summary>A link to one object of the dump, by its key in the dump's folder.</summary>
internal sealed record SharedLink(string Key, string Link);

/// <summary>A page of chunk links: the lowest and highest key in it (ordinal), how many, and the page's own size, SHA-256 and link.</summary>
internal sealed record SharePage(string First, string Last, int Count, long Size, string Sha256, string Link);
