using System.CommandLine;
using System.Globalization;
using Replica.Bridges;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

/// <summary>`replica share`: a dump of an S3 bridge as one link, and `share --revoke ID` (ShareJob).</summary>
internal static class ShareCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var quiet = CommonOptions.Quiet();
        var name = new Argument<string?>("name") { Description = "The dump to share.", Arity = ArgumentArity.ZeroOrOne };
        var latest = new Option<bool>("--latest") { Description = "Share the newest complete dump." };
        var expires = new Option<string?>("--expires")
        {
            HelpName = "DURATION",
            Description = "How long the link works: 30m, 24h, 7d (at most 7 days, the limit of S3 presigned links). Default 24h.",
        };
        var revoke = new Option<string?>("--revoke") { HelpName = "ID", Description = "Delete share ID (printed by 'replica share'): its link stops working." };
        var list = new Option<bool>("--list") { Description = "List the bridge's shares: id, dump, when made, when their links expire (never the links)." };
        var prune = new Option<bool>("--prune") { Description = "Delete every share whose links have expired (active shares stay)." };
        var allowLegacy = CommonOptions.AllowLegacy("Share");
        var json = JsonReport.Option("the share's id, link, dump and expiry (or what --revoke deleted, or the --list)");
        var command = new Command("share", """
            Shares a dump of an S3 bridge as one link: stores a share object listing presigned links to the dump's
            manifest and chunks, and prints its own link on stdout. 'replica restore --from-url LINK' restores from it
            without bucket credentials; an encrypted dump still needs its key. The links stop working when they expire,
            when the credentials that signed them do, or (for the printed link) when the share is revoked; links to
            chunks that someone already copied out of the share live until they expire.

            Examples:
              replica share -c replica.yaml --latest --expires 48h
              replica share -c replica.yaml nightly-2026-11-21
              replica share -c replica.yaml --list
              replica share -c replica.yaml --prune
              replica share -c replica.yaml --revoke 3f9a0c1e5b7d2468

            An encrypted dump whose index entry is not authenticated (written before encryption header version 4) is
            refused (exit 5) unless --allow-legacy. Deleting a dump (replica delete, retention) deletes its shares too.
            """)
        {
            config, quiet, name, latest, expires, revoke, list, prune, allowLegacy, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(list) || result.GetValue(prune))
            {
                if (result.GetValue(latest) || result.GetValue(name) is not null || result.GetValue(expires) is not null || result.GetValue(revoke) is not null
                    || (result.GetValue(list) && result.GetValue(prune)))
                {
                    result.AddError("--list and --prune work on all shares: give one alone, without a dump, --expires or --revoke");
                }
                return;
            }
            if (result.GetValue(revoke) is not null)
            {
                if (result.GetValue(latest) || result.GetValue(name) is not null || result.GetValue(expires) is not null)
                {
                    result.AddError("--revoke ID deletes a share: give it alone, without a dump or --expires");
                }
                return;
            }
            if (result.GetValue(latest) == (result.GetValue(name) is not null))
            {
                result.AddError("give exactly one of --latest or a dump NAME (or --revoke ID, or --list)");
            }
            if (result.GetValue(expires) is { } text && !RetentionPolicy.TryParseDuration(text, out _))
            {
                result.AddError($"--expires takes a duration such as 30m, 24h or 7d, not '{text}'");
            }
        });
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var bridge = CommonOptions.Bridge(settings);
            var isQuiet = parse.GetValue(quiet);
            if (parse.GetValue(list))
            {
                return await ListAsync(bridge, parse.GetValue(json), cancellationToken).ConfigureAwait(false);
            }
            if (parse.GetValue(prune))
            {
                var pruned = await ShareJob.PruneAsync(bridge, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(json))
                {
                    JsonReport.Write(new { Command = "share", Pruned = pruned });
                }
                if (!isQuiet)
                {
                    await Console.Error.WriteLineAsync($"replica: pruned {pruned.Count} expired {CommonOptions.Plural(pruned.Count, "share")}{(pruned.Count > 0 ? ": " + string.Join(", ", pruned) : "")}")
                        .ConfigureAwait(false);
                }
                return 0;
            }
            if (parse.GetValue(revoke) is { } id)
            {
                int deleted = await ShareJob.RevokeAsync(bridge, id, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(json))
                {
                    JsonReport.Write(new { Command = "share", Revoked = id, Objects = deleted });
                }
                if (!isQuiet)
                {
                    await Console.Error.WriteLineAsync($"replica: revoked share {id} ({deleted} {CommonOptions.Plural(deleted, "object")} deleted); its link no longer works").ConfigureAwait(false);
                }
                return 0;
            }
            // Checked by the validator above.
            var lifetime = parse.GetValue(expires) is { } given && RetentionPolicy.TryParseDuration(given, out var parsed) ? parsed : ShareJob.DefaultLifetime;
            SharedDump share = await ShareJob.ShareAsync(bridge, parse.GetValue(name), lifetime, cancellationToken,
                CommonOptions.Legacy(parse.GetValue(allowLegacy))).ConfigureAwait(false);
            var until = DumpShare.Moment(share.ExpiresAt);
            if (parse.GetValue(json))
            {
                JsonReport.Write(new
                {
                    Command = "share",
                    share.Entry.Name,
                    share.Id,
                    Url = share.Url.AbsoluteUri,
                    ExpiresAt = share.ExpiresAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                    Chunks = share.Entry.ChunkCount,
                    share.Entry.SizeOut,
                    share.Entry.Encrypted,
                    share.Warnings,
                });
            }
            else
            {
                Console.Out.WriteLine(share.Url.AbsoluteUri);
            }
            foreach (string warning in share.Warnings)
            {
                await Console.Error.WriteLineAsync($"replica: warning: {warning}").ConfigureAwait(false);
            }
            if (!isQuiet)
            {
                var key = share.Entry.Encrypted ? "; it is encrypted: whoever restores it needs its key as well" : "; it is NOT encrypted: the link alone reads it";
                await Console.Error.WriteLineAsync(
                    $"replica: shared {share.Entry.Name} ({share.Entry.ChunkCount} {CommonOptions.Plural(share.Entry.ChunkCount, "chunk")}, {CommonOptions.Size(share.Entry.SizeOut)}) as share {share.Id} until {until}{key}. "
                    + $"Restore: replica restore --from-url LINK. Revoke: replica share --revoke {share.Id}").ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }

    /// <summary>`share --list`: a line per share (or a JSON array), its state judged by the local clock.</summary>
    static async Task<int> ListAsync(IBridge bridge, bool json, CancellationToken cancellationToken)
    {
        var shares = await ShareJob.ListAsync(bridge, cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        static string? Iso(DateTimeOffset? moment) => moment?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        string State(ShareListing share) => share.Dump is null ? "unreadable" : share.ExpiresAt <= now ? "expired" : "active";
        if (json)
        {
            JsonReport.Write(shares.Select(share => new { share.Id, share.Dump, CreatedAt = Iso(share.CreatedAt), ExpiresAt = Iso(share.ExpiresAt), State = State(share) }).ToList());
            return 0;
        }
        if (shares.Count == 0)
        {
            await Console.Error.WriteLineAsync("replica: no shares in this bridge").ConfigureAwait(false);
            return 0;
        }
        foreach (var share in shares)
        {
            Console.Out.WriteLine(share.Dump is null
                ? $"{share.Id}  (its share object cannot be read; replica share --revoke {share.Id} deletes it)"
                : $"{share.Id}  {share.Dump}  made {DumpShare.Moment(share.CreatedAt!.Value)}  {(State(share) == "expired" ? "expired" : "expires")} {DumpShare.Moment(share.ExpiresAt!.Value)}");
        }
        return 0;
    }
}
