using System.Net;
using System.Security.Cryptography;
using System.Text.Json;

namespace Replica.Bridges;

/// <summary>
/// A dump shared by link (<see cref="DumpShare"/>) as a read-only <see cref="IObjectStore"/> holding its one dump:
/// index.json is the share's entry for the dump, and the manifest, chunk lists and chunks are read through the links
/// the share object lists, with plain HTTP GETs and no credentials. The share object is read on first use and checked
/// (its format and version, plain file names only, every link to the same server as the share's own link, so that an
/// edited share cannot send a restore anywhere else); pages of chunk links are read when a chunk in them is asked for,
/// a few kept at a time. Links are bearer credentials: messages name the server, never a link.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification =
    "The SemaphoreSlim's wait handle is never asked for, so it holds nothing to dispose; an ObjectBridge never disposes its store.")]
internal sealed class ShareStore : ReadOnlyObjectStore
{
    /// <summary>Pages of chunk links kept: restore lanes read neighbouring chunks, never far apart.</summary>
    const int CachedPages = 4;

    const int Attempts = 3;

    // One client for the process (connections are pooled); redirects are not followed: a link answers itself or fails.
    static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = TimeSpan.FromMinutes(5),
    };

    readonly Uri _url;
    readonly TimeSpan _idleTimeout;
    readonly SemaphoreSlim _gate = new(1, 1);
    readonly List<(SharePage Page, Dictionary<string, string> Links)> _pages = [];
    volatile ShareObject? _share;

    /// <param name="url">The share's own link.</param>
    /// <param name="idleTimeout">How long a response body may send nothing; <see cref="IdleBody.DefaultTimeout"/> unless a test wants it short.</param>
    public ShareStore(Uri url, TimeSpan? idleTimeout = null)
    {
        _url = url;
        _idleTimeout = idleTimeout ?? IdleBody.DefaultTimeout;
    }

    string Server => _url.IsDefaultPort ? _url.Host : $"{_url.Host}:{_url.Port}";

    public override string Description => $"the dump shared by link from {Server}";

    public override string Show(string key) => $"{key} (shared by link from {Server})";

    public override async Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken)
    {
        ShareObject share = await ShareAsync(cancellationToken).ConfigureAwait(false);
        if (key == ObjectBridge.IndexKey)
        {
            var index = new BridgeIndex { Dumps = [share.Entry] };
            return new StoredObject(JsonSerializer.SerializeToUtf8Bytes(index, BridgeJsonContext.Default.BridgeIndex), "");
        }
        string prefix = ObjectBridge.DumpPrefix(share.Dump);
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        string file = key[prefix.Length..];
        string? link = file == ObjectBridge.ManifestName ? share.Manifest
            : share.ChunkLists.Find(l => l.Key == file)?.Link ?? await ChunkLinkAsync(share, file, cancellationToken).ConfigureAwait(false);
        if (link is null)
        {
            return null;
        }
        Memory<byte> data = await FetchAsync(link, $"{what} {Show(key)}", share, buffer, cancellationToken).ConfigureAwait(false);
        return new StoredObject(data, "");
    }

    async Task<ShareObject> ShareAsync(CancellationToken cancellationToken)
    {
        if (_share is { } known)
        {
            return known;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_share is null)
            {
                Memory<byte> json = await FetchAsync(_url.AbsoluteUri, $"read the share object from {Server}", null, length =>
                    length <= DumpShare.MaxShareBytes ? new byte[length]
                        : throw NotAShare($"the link gives {length} bytes, more than a share object holds ({DumpShare.MaxShareBytes})"),
                    cancellationToken).ConfigureAwait(false);
                _share = ReadShare(json.Span);
            }
            return _share;
        }
        finally
        {
            _gate.Release();
        }
    }

    ShareObject ReadShare(ReadOnlySpan<byte> json)
    {
        ShareObject? share;
        try
        {
            share = JsonSerializer.Deserialize(json, BridgeJsonContext.Default.ShareObject);
        }
        catch (JsonException ex)
        {
            throw NotAShare($"it is not a share object ({ex.Message})");
        }
        if (share is null || share.Format != DumpShare.Format)
        {
            throw NotAShare($"it does not say \"format\": \"{DumpShare.Format}\"");
        }
        if (share.Version != DumpShare.Version)
        {
            throw new BridgeException($"The link from {Server} is a share of version {share.Version}; this replica reads version {DumpShare.Version}. "
                + "It was made by a newer replica: upgrade to read it.");
        }
        if (!DumpName.IsValid(share.Dump, out string? problem))
        {
            throw NotAShare($"it names an invalid dump: {problem}");
        }
        if (share.Entry.Name != share.Dump || share.Entry.Status != DumpEntry.Complete)
        {
            throw NotAShare($"its entry is not that of complete dump '{share.Dump}'");
        }
        CheckLink(share.Manifest, "the manifest");
        foreach (SharedLink list in share.ChunkLists)
        {
            CheckName(list.Key, "a chunk list");
            CheckLink(list.Link, $"chunk list {list.Key}");
        }
        for (int i = 0; i < share.Pages.Count; i++)
        {
            SharePage page = share.Pages[i];
            CheckName(page.First, $"page {i}");
            CheckName(page.Last, $"page {i}");
            CheckLink(page.Link, $"page {i}");
            if (page.Count is < 1 or > DumpShare.PageLength || page.Size is < 1 or > DumpShare.MaxPageBytes || !BridgeJson.IsSha256Text(page.Sha256))
            {
                throw NotAShare($"page {i} has a count, size or SHA-256 out of range");
            }
        }
        return share;
    }

    void CheckName(string key, string what)
    {
        if (!ObjectBridge.IsPlainName(key))
        {
            throw NotAShare($"{what} has a key that is not a plain file name");
        }
    }

    /// <summary>Every link must lead to the server of the share's own link: an edited share cannot send requests elsewhere.</summary>
    void CheckLink(string link, string what)
    {
        if (!Uri.TryCreate(link, UriKind.Absolute, out Uri? uri) || uri.Scheme != _url.Scheme
            || !string.Equals(uri.Host, _url.Host, StringComparison.OrdinalIgnoreCase) || uri.Port != _url.Port)
        {
            throw NotAShare($"the link of {what} does not lead to {_url.Scheme}://{Server}, where the share is");
        }
    }

    BridgeException NotAShare(string problem) =>
        new($"The link from {Server} is not a share replica can read: {problem}.");

    /// <summary>The link to chunk <paramref name="file"/>, from the page that holds it (read and checked when not kept); null when no page does.</summary>
    async Task<string?> ChunkLinkAsync(ShareObject share, string file, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach ((SharePage _, Dictionary<string, string> links) in _pages)
            {
                if (links.TryGetValue(file, out string? kept))
                {
                    return kept;
                }
            }
            for (int i = 0; i < share.Pages.Count; i++)
            {
                SharePage page = share.Pages[i];
                if (string.CompareOrdinal(page.First, file) > 0 || string.CompareOrdinal(file, page.Last) > 0 || _pages.Exists(p => p.Page == page))
                {
                    continue;
                }
                Dictionary<string, string> links = await ReadPageAsync(share, i, cancellationToken).ConfigureAwait(false);
                if (_pages.Count == CachedPages)
                {
                    _pages.RemoveAt(0);
                }
                _pages.Add((page, links));
                if (links.TryGetValue(file, out string? link))
                {
                    return link;
                }
            }
            return null;
        }
        finally
        {
            _gate.Release();
        }
    }

    async Task<Dictionary<string, string>> ReadPageAsync(ShareObject share, int number, CancellationToken cancellationToken)
    {
        SharePage page = share.Pages[number];
        Memory<byte> json = await FetchAsync(page.Link, $"read page {number} of the share from {Server}", share, length =>
            length == page.Size ? new byte[length] : throw NotAShare($"page {number} has {length} bytes, the share object says {page.Size}"),
            cancellationToken).ConfigureAwait(false);
        if (Convert.ToHexStringLower(SHA256.HashData(json.Span)) != page.Sha256)
        {
            throw NotAShare($"page {number} does not have the SHA-256 the share object gives: it was changed");
        }
        SharedLink[]? links;
        try
        {
            links = JsonSerializer.Deserialize(json.Span, BridgeJsonContext.Default.SharedLinkArray);
        }
        catch (JsonException ex)
        {
            throw NotAShare($"page {number} is not valid ({ex.Message})");
        }
        if (links is null || links.Length != page.Count)
        {
            throw NotAShare($"page {number} holds {links?.Length ?? 0} links, the share object says {page.Count}");
        }
        var byKey = new Dictionary<string, string>(links.Length, StringComparer.Ordinal);
        foreach (SharedLink link in links)
        {
            CheckName(link.Key, $"a link of page {number}");
            if (string.CompareOrdinal(page.First, link.Key) > 0 || string.CompareOrdinal(link.Key, page.Last) > 0 || !byKey.TryAdd(link.Key, link.Link))
            {
                throw NotAShare($"page {number} holds {link.Key} twice or outside {page.First} .. {page.Last}");
            }
            CheckLink(link.Link, link.Key);
        }
        return byKey;
    }

    /// <summary>GETs one link (retrying network failures and server errors); a refusal is a <see cref="BridgeException"/> that says why it may have happened.</summary>
    async Task<Memory<byte>> FetchAsync(string link, string attempt, ShareObject? share, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken)
    {
        for (int tried = 1; ; tried++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, link);
                using HttpResponseMessage response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    long length = response.Content.Headers.ContentLength
                        ?? throw new BridgeException($"Cannot {attempt}: the server did not say how long the object is (no Content-Length).");
                    Memory<byte> data = StoredObject.Target(length, buffer, () => attempt);
                    int filled = await ReadBodyAsync(response, data, cancellationToken).ConfigureAwait(false);
                    if (filled < data.Length)
                    {
                        // Retried as any connection cut mid-body.
                        throw new EndOfStreamException($"the server ended the body after {filled} of its {length} bytes");
                    }
                    return data;
                }
                if ((int)response.StatusCode >= 500 && tried < Attempts)
                {
                    continue;
                }
                string reason = await ReasonAsync(response, cancellationToken).ConfigureAwait(false);
                throw new BridgeException($"Cannot {attempt}: the link was refused (HTTP {(int)response.StatusCode}{reason}). " + response.StatusCode switch
                {
                    HttpStatusCode.NotFound when share is null => "The share was revoked ('replica share --revoke'), or the link is wrong.",
                    HttpStatusCode.NotFound => "The dump was deleted from its bridge, or the share was revoked.",
                    // The local clock only explains a refusal, never causes one: it may be off.
                    HttpStatusCode.Forbidden or HttpStatusCode.BadRequest when share is not null && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > share.ExpiresAt =>
                        $"The share expired at {Time(share.ExpiresAt)}; ask for a new link ('replica share').",
                    HttpStatusCode.Forbidden or HttpStatusCode.BadRequest =>
                        "The link has expired, was changed, or the credentials that signed it expired or were revoked; ask for a new link ('replica share').",
                    _ => "The server holding the share failed.",
                });
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && tried < Attempts)
            {
                // A connection that failed or was cut mid-body: tried again, from the start.
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                throw new BridgeException($"Cannot {attempt}: {ex.Message}", ex);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (tried >= Attempts)
                {
                    throw new BridgeException($"Cannot {attempt}: {Server} did not answer in {Http.Timeout.TotalMinutes:0} minutes.", ex);
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200 * tried), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads <paramref name="response"/>'s body into <paramref name="data"/> until it is full or the body ends; returns how
    /// many bytes came. A body that goes silent for <see cref="_idleTimeout"/> fails (<see cref="IdleBody"/>), naming the
    /// server, never the link (a bearer credential).
    /// </summary>
    async Task<int> ReadBodyAsync(HttpResponseMessage response, Memory<byte> data, CancellationToken cancellationToken)
    {
        // With ResponseHeadersRead the stream is already there: only its reads wait for the network.
        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            return await IdleBody.ReadAsync(body, data, _idleTimeout, Server, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The S3 error code and message of a refusal (", AccessDenied: Request has expired"), from the first 4 KiB of its body.</summary>
    async Task<string> ReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        byte[] head = new byte[4096];
        int filled = await ReadBodyAsync(response, head, cancellationToken).ConfigureAwait(false);
        string text = System.Text.Encoding.UTF8.GetString(head, 0, filled);
        string? code = Element(text, "Code");
        string? message = Element(text, "Message");
        return code is null ? "" : message is null ? $", {code}" : $", {code}: {message}";
    }

    /// <summary>The text of the first &lt;name&gt; element, when it is short plain text (nothing a link could hide in).</summary>
    static string? Element(string xml, string name)
    {
        int start = xml.IndexOf($"<{name}>", StringComparison.Ordinal);
        int end = start < 0 ? -1 : xml.IndexOf($"</{name}>", start, StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }
        string value = xml[(start + name.Length + 2)..end];
        return value.Length <= 200 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '.' or ',' or '-' or '_') ? value : null;
    }

    static string Time(long unixMs) => DumpShare.Moment(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));

    public override async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ShareObject share = await ShareAsync(cancellationToken).ConfigureAwait(false);
        string manifest = ObjectBridge.ManifestKey(share.Dump);
        if (manifest.StartsWith(prefix, StringComparison.Ordinal))
        {
            yield return new ObjectInfo(manifest, null);
        }
    }

    public override async Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken) =>
        [(await ShareAsync(cancellationToken).ConfigureAwait(false)).Dump];
}
