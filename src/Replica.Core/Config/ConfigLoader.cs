using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Replica.Config;

/// <summary>
/// Reads replica.yaml, or a RepliByte conf.yaml as is, into a <see cref="ReplicaConfig"/>. Every problem is a
/// <see cref="ConfigException"/> naming file, line, column, the key's dotted path and what is accepted there.
/// Unknown keys are errors: a misspelt 'colums' must never silently leave a column unmasked.
/// See replica.example.yaml for every key.
/// </summary>
public static partial class ConfigLoader
{
    /// <summary>Environment variable read for the secret when the file has no 'secret' key (always so for RepliByte files).</summary>
    public const string SecretVariable = "REPLICA_SECRET";

    /// <summary>Reads and parses the file at <paramref name="path"/>.</summary>
    /// <param name="knownTransformers">Names a column may use; anything else is an error listing these.</param>
    /// <param name="getEnv">Looks up environment variables; defaults to <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    public static ReplicaConfig Load(string path, IReadOnlyCollection<string> knownTransformers, Func<string, string?>? getEnv = null)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException(
                $"config file not found (looked at {Path.GetFullPath(path)}); create it from replica.example.yaml or pass another path",
                path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read the config file: {e.Message}", path);
        }
        return Parse(text, path, knownTransformers, getEnv);
    }

    /// <summary>Parses config text; <paramref name="fileName"/> is only used in messages and <see cref="ReplicaConfig.File"/>.</summary>
    public static ReplicaConfig Parse(string yaml, string fileName, IReadOnlyCollection<string> knownTransformers, Func<string, string?>? getEnv = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(knownTransformers);

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(EnvInterpolation.ProtectBraces(yaml)));
        }
        catch (AnchorNotFoundException e) when (FindAlias(yaml, e) is var (line, column, alias))
        {
            // YamlDotNet resolves aliases after parsing and loses their position; an unquoted '*' wildcard is the usual cause.
            throw new ConfigException(
                $"not valid YAML: '*{alias}' is read as a YAML alias, and no anchor '&{alias}' exists; quote wildcards: '*{alias}'",
                fileName, line, column);
        }
        catch (YamlException e)
        {
            throw new ConfigException($"not valid YAML: {StripMark(e)}", fileName, ToInt(e.Start.Line), ToInt(e.Start.Column));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException)
        {
            // YamlDotNet 16 throws these, without a position, on some malformed text (found by fuzzing: ": [\nH" in its
            // scanner, " : a" in its node parser). The text is the cause, so it is a config error like any other bad YAML.
            throw new ConfigException("not valid YAML: the YAML parser stopped on malformed text", fileName);
        }

        if (stream.Documents.Count == 0)
        {
            throw new ConfigException("the file is empty; see replica.example.yaml for what it should contain", fileName);
        }
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode;
            throw new ConfigException("the file holds more than one YAML document ('---'); put the whole config in one",
                fileName, ToInt(second.Start.Line), ToInt(second.Start.Column));
        }

        var binder = new ConfigBinder(fileName, knownTransformers, getEnv ?? Environment.GetEnvironmentVariable);
        return binder.BindRoot(stream.Documents[0].RootNode);
    }

    /// <summary>Where "*alias" first appears in the text, for an alias whose anchor does not exist.</summary>
    static (int Line, int Column, string Alias)? FindAlias(string yaml, AnchorNotFoundException e)
    {
        var match = AnchorName().Match(e.Message);
        if (!match.Success)
        {
            return null;
        }
        var alias = match.Groups[1].Value;
        var index = yaml.IndexOf("*" + alias, StringComparison.Ordinal);
        if (index < 0)
        {
            return null;
        }
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < index; i++)
        {
            if (yaml[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, index - lineStart + 1, alias);
    }

    internal static int ToInt(long value) => value > int.MaxValue ? int.MaxValue : (int)value;

    // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (Line: ..): "; the position is already in ours.
    static string StripMark(YamlException e)
    {
        var message = MarkPrefix().Replace(e.Message, "");
        return e.InnerException is { } inner && message.Length == 0 ? inner.Message : message;
    }

    [GeneratedRegex("anchor '([^']*)'")]
    private static partial Regex AnchorName();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();
}
