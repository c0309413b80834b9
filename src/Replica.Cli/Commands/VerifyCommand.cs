using System.CommandLine;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

internal static class VerifyCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var quiet = CommonOptions.Quiet();
        var latest = new Option<bool>("--latest") { Description = "Verify the newest complete dump." };
        var name = new Option<string?>("--name", "-n") { Description = "Verify the dump with this name." };
        var fromFile = CommonOptions.FromFile("Verify the dump of a file 'replica export' wrote instead of one in the bridge.");
        var fromUrl = CommonOptions.FromUrl("Verify the dump shared at a link 'replica share' printed (no bucket credentials needed; an encrypted dump still needs its key).");
        var allowUnencrypted = CommonOptions.AllowUnencrypted("Verify");
        var allowLegacy = CommonOptions.AllowLegacy("Verify");
        var json = JsonReport.Option("the dump's name, chunks, parts, bytes and how its manifest is authenticated");
        var command = new Command("verify", """
            Re-reads every chunk of a dump: checks its size and SHA-256 against the manifest and decodes it, which checks
            the authentication tag of every encrypted chunk; an encrypted dump's manifest is checked against its own tag
            first, and the dump's index entry against its manifest. Writes nothing. Exits 0, or 5 naming the first bad
            chunk, the edited manifest or the index entry's field that does not match it. With bridge.encryption set, a
            dump that is not encrypted is refused (exit 5) unless --allow-unencrypted; an encrypted dump whose index entry
            is not authenticated (written before encryption header version 4) unless --allow-legacy.

            Examples:
              replica verify --latest
              replica verify --name nightly-2026-11-21
              replica verify --from-file shop.replica
            """)
        {
            config, quiet, latest, name, fromFile, fromUrl, allowUnencrypted, allowLegacy, json,
        };
        command.Validators.Add(result => CommonOptions.CheckDumpChoice(result, latest, name, fromFile, fromUrl));
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var (bridge, dump) = RestoreRequest.OpenBridge(settings,
                new RestoreOptions { Name = parse.GetValue(name), FromFile = parse.GetValue(fromFile), FromUrl = CommonOptions.Link(parse.GetValue(fromUrl)) }, CommonOptions.Bridges);
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            var verified = await RestoreJob.VerifyAsync(bridge, dump, settings.Bridge, cancellationToken, parse.GetValue(allowUnencrypted),
                CommonOptions.Legacy(parse.GetValue(allowLegacy))).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                JsonReport.Write(new
                {
                    Command = "verify",
                    verified.Name,
                    Intact = true,
                    Chunks = verified.ChunkCount,
                    Parts = verified.PartCount,
                    verified.Bytes,
                    Manifest = JsonReport.Manifest(verified.Manifest),
                    DurationSeconds = JsonReport.Seconds(stopwatch.Elapsed),
                });
            }
            if (!parse.GetValue(quiet))
            {
                var manifest = verified.Manifest switch
                {
                    ManifestAuthentication.AuthenticatedWithEntry =>
                        "manifest authenticated, with the name, created_at and sizes its index entry matched",
                    ManifestAuthentication.OpenedWithPrivateKey =>
                        "manifest matches its tag, but the dump is NOT authenticated: it opened with a private key (recipients), and anyone holding the recipient's public key "
                        + "(e.g. any dumping machine's config) and write access to the bridge could have written it, its name, created_at and content included",
                    ManifestAuthentication.Authenticated =>
                        "manifest's chunk list authenticated; its index entry (name, created_at, sizes) is not covered (written by an older version of replica)",
                    ManifestAuthentication.WrittenBeforeTags =>
                        "manifest not authenticated (written before replica tagged manifests; its chunks are authenticated)",
                    _ => "not encrypted, so nothing guards against deliberate edits",
                };
                await Console.Error.WriteLineAsync(
                    $"replica: {verified.Name} is intact: {verified.ChunkCount} {CommonOptions.Plural(verified.ChunkCount, "chunk")} in {verified.PartCount} {CommonOptions.Plural(verified.PartCount, "part")}, {CommonOptions.Size(verified.Bytes)} of dump; {manifest}").ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }
}
