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
        var command = new Command("verify", """
            Re-reads every chunk of a dump: checks its size and SHA-256 against the manifest and decodes it, which checks
            the authentication tag of every encrypted chunk; an encrypted dump's manifest is checked against its own tag
            first. Writes nothing. Exits 0, or 5 naming the first bad chunk or the edited manifest.

            Examples:
              replica verify --latest
              replica verify --name nightly-2026-11-21
            """)
        {
            config, quiet, latest, name,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(latest) == (result.GetValue(name) is not null))
            {
                result.AddError("give exactly one of --latest or --name NAME");
            }
        });
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var bridge = CommonOptions.Bridge(settings);
            var verified = await RestoreJob.VerifyAsync(bridge, parse.GetValue(name), settings.Bridge, cancellationToken).ConfigureAwait(false);
            if (!parse.GetValue(quiet))
            {
                var manifest = verified.Manifest switch
                {
                    ManifestAuthentication.Authenticated => "manifest authenticated",
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
