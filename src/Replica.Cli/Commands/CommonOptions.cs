using System.CommandLine;
using Replica.Bridges;
using Replica.Bridges.S3;
using Replica.Config;
using Replica.Pipeline;
using Replica.Transformers;

namespace Replica.Cli.Commands;

/// <summary>Options every command shares, and the run wrapper that maps failures to exit codes.</summary>
internal static class CommonOptions
{
    public const string DefaultConfigPath = "replica.yaml";

    public static Option<string> Config() => new("--config", "-c")
    {
        Description = "The config file (YAML).",
        DefaultValueFactory = _ => DefaultConfigPath,
    };

    /// <summary>--allow-unencrypted: read a dump that is not encrypted although bridge.encryption is set (refused otherwise, exit 5).</summary>
    public static Option<bool> AllowUnencrypted(string verb) => new("--allow-unencrypted")
    {
        Description = $"{verb} a dump that is not encrypted although bridge.encryption is set. Without it such a dump is refused (exit 5): "
            + "anyone who can write to the bridge could have put it there without the key.",
    };

    /// <summary>
    /// --allow-legacy: read an encrypted dump whose index entry is not authenticated (encryption header version below 4;
    /// refused otherwise, exit 5).
    /// </summary>
    public static Option<bool> AllowLegacy(string verb) => new("--allow-legacy")
    {
        Description = $"{verb} an encrypted dump written before encryption header version 4, whose index entry (name and date) cannot be authenticated. "
            + "Without it such a dump is refused (exit 5): anyone who can write to the bridge could have renamed it or dated it ahead for --latest.",
    };

    /// <summary>What --allow-legacy passes on: null without it; with it, a warning line on stderr for the dump read.</summary>
    public static Replica.Pipeline.AllowLegacy? Legacy(bool allowed) =>
        allowed ? new Replica.Pipeline.AllowLegacy(warning => Console.Error.WriteLine($"replica: warning: {Lines(warning)}")) : null;

    /// <summary>--from-file FILE: a dump archive instead of the bridge (restore, verify).</summary>
    public static Option<string?> FromFile(string description) => new("--from-file") { HelpName = "FILE", Description = description };

    /// <summary>
    /// Which dump: exactly one of --latest and --name, or --from-file (whose archive holds one dump; --name may name it).
    /// </summary>
    public static Option<string?> FromUrl(string description) =>
        new("--from-url") { HelpName = "URL", Description = description + " A link is a password: - reads it from stdin, out of sight of ps." };

    /// <summary>--from-url's link: the option's value, or with - the first line of stdin (a link in the arguments shows in ps).</summary>
    public static string? Link(string? value) =>
        value != "-" ? value : Console.In.ReadLine()?.Trim() is { Length: > 0 } line ? line : throw new UsageException("--from-url - reads the link from stdin, which gave none");

    public static void CheckDumpChoice(System.CommandLine.Parsing.CommandResult result, Option<bool> latest, Option<string?> name, Option<string?> fromFile,
        Option<string?> fromUrl)
    {
        if (result.GetValue(fromUrl) is { } url)
        {
            if (string.IsNullOrWhiteSpace(url))
            {
                result.AddError("--from-url needs the link 'replica share' printed");
            }
            if (result.GetValue(latest) || result.GetValue(fromFile) is not null)
            {
                result.AddError("--from-url reads the one dump its link shares: drop --latest and --from-file");
            }
            return;
        }
        if (result.GetValue(fromFile) is { } file)
        {
            if (string.IsNullOrWhiteSpace(file))
            {
                result.AddError("--from-file needs the name of a file 'replica export' wrote");
            }
            if (result.GetValue(latest))
            {
                result.AddError("--from-file restores the one dump of its file: drop --latest");
            }
            return;
        }
        if (result.GetValue(latest) == (result.GetValue(name) is not null))
        {
            result.AddError("give exactly one of --latest or --name NAME (or --from-file FILE, or --from-url URL)");
        }
    }

    public static Option<bool> Quiet() => new("--quiet", "-q")
    {
        Description = "No progress or summary on stderr.",
    };

    /// <summary>Loads the config; a missing default file is allowed only where <paramref name="required"/> is false.</summary>
    public static ReplicaConfig LoadConfig(string path, bool required)
    {
        if (!File.Exists(path) && !required && path == DefaultConfigPath)
        {
            return new ReplicaConfig();
        }
        if (!File.Exists(path))
        {
            throw new ConfigException(
                path == DefaultConfigPath
                    ? "no config file ./replica.yaml: pass one with -c, or start from replica.example.yaml"
                    : "the config file does not exist",
                path);
        }
        var config = ConfigLoader.Load(path, [.. TransformerRegistry.All.Select(t => t.Name)]);
        // Printed even with --quiet, like a dump's warnings: each is about the safety of what is stored.
        foreach (var warning in config.Warnings)
        {
            Console.Error.WriteLine($"replica: warning: {warning}");
        }
        return config;
    }

    /// <summary>Opens the configured bridge: local directories, and S3 buckets through Replica.Bridges.S3.</summary>
    public static BridgeFactory Bridges { get; } = new(S3BridgeFactory.Open);

    /// <summary>The configured bridge: the S3 bucket when bridge.s3 is set, else the local directory.</summary>
    public static IBridge Bridge(ReplicaConfig config) => Bridges.Open(config.Bridge);

    /// <summary>Runs a command body, printing failures as one clear line on stderr and returning their exit code.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (ReplicaException e)
        {
            await Console.Error.WriteLineAsync($"replica: {Lines(e.Message)}").ConfigureAwait(false);
            return (int)e.Kind;
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"replica: {Lines(e.Message)}").ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("replica: interrupted").ConfigureAwait(false);
            return 130;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"replica: I/O error: {Lines(e.Message)}").ConfigureAwait(false);
            return (int)ReplicaErrorKind.Bridge;
        }
        catch (Exception e)
        {
            // The safety net: every failure Replica expects is a ReplicaException above. Anything else is a bug, and still
            // ends in one line and exit code 1, never in a stack trace and SIGABRT (exit 134).
            await Console.Error.WriteLineAsync(Unexpected(e)).ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>"1 chunk", "2 chunks": the word for <paramref name="count"/> of <paramref name="noun"/>.</summary>
    public static string Plural(long count, string noun) => count == 1 ? noun : noun + "s";

    /// <summary>The one line shown for an exception Replica did not expect (a bug): its type and message, no stack trace.</summary>
    public static string Unexpected(Exception e) =>
        $"replica: unexpected error (a bug; please report it): {e.GetType().Name}: {Lines(e.Message)}";

    /// <summary>
    /// A message as shown after "replica: ", its further lines (a tool's stderr) indented: messages quote names and
    /// values from the bridge, and a newline in one began a line that replica did not write (an edited manifest's part
    /// kind of "stream\nreplica: d1 is intact" printed that verdict as a line of its own under `replica verify`: found by
    /// review). TerminalSafeWriter keeps newlines, so that a message may have several lines.
    /// </summary>
    public static string Lines(string message) => message.ReplaceLineEndings("\n  ");

    public static string Size(long bytes) => ByteSizes.Format(bytes);
}

/// <summary>The command line asks for something that cannot be done as given (exit 1, like a parse error).</summary>
internal sealed class UsageException(string message) : Exception(message);
