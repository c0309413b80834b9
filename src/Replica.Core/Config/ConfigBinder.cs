using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Replica.Config;

/// <summary>A YAML node and its dotted key path from the root ("transformers[2].columns.email").</summary>
internal readonly record struct ConfigNode(YamlNode Yaml, string Path)
{
    public ConfigNode Child(string key) => new(Yaml, Path.Length == 0 ? key : Path + "." + key);
}

/// <summary>A scalar after ${VAR} interpolation. Values that came through a variable are never shown in messages.</summary>
internal readonly record struct ConfigScalar(string Value, bool FromEnvironment, ConfigNode Node)
{
    public string Shown => FromEnvironment ? "the value (from an environment variable, not shown)" : $"'{Value}'";
}

/// <summary>
/// Binds the YAML representation model to <see cref="ReplicaConfig"/> by hand, so that each value is checked where it
/// stands and each error carries its position and key path. One instance per file.
/// </summary>
internal sealed partial class ConfigBinder
{
    /// <summary>Shortest secret accepted: HMAC over low-entropy values (emails, names) is only as strong as its key.</summary>
    public const int MinSecretLength = 16;

    readonly string _file;
    readonly IReadOnlyCollection<string> _knownTransformers;
    readonly Func<string, string?> _getEnv;
    readonly string _baseDirectory;

    // Every variable the file reads is noted here as it is read, so that child processes do not get it.
    readonly ChildEnvironment _childEnvironment = new();
    readonly List<string> _warnings = [];

    public ConfigBinder(string file, IReadOnlyCollection<string> knownTransformers, Func<string, string?> getEnv)
    {
        _file = file;
        _knownTransformers = knownTransformers;
        _getEnv = name =>
        {
            _childEnvironment.ReadByTheConfig(name);
            return getEnv(name);
        };
        _baseDirectory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? Directory.GetCurrentDirectory();
    }

    /// <summary>
    /// A path the file names (bridge directory, key files): relative paths resolve from the config file's folder, as
    /// a reader of the file expects (like compose files), not from wherever replica happens to be started.
    /// </summary>
    public string FilePath(string path) => Path.GetFullPath(path, _baseDirectory);

    public ReplicaConfig BindRoot(YamlNode root)
    {
        var node = new ConfigNode(root, "");
        if (root is not YamlMappingNode map)
        {
            throw Error(node, $"the top level must be a mapping of keys (secret:, bridge:, transformers: ...), found {Describe(root)}");
        }
        var reason = RepliByteReason(map);
        return reason is null ? BindReplica(node) : BindRepliByte(node, reason);
    }

    /// <summary>
    /// A warning when the secret key file at <paramref name="path"/> can be read by its group or by others (Unix): whoever
    /// reads it opens the dumps. Not refused, even for a private key as ssh does: Kubernetes and CI mount secret files
    /// 0644 by default, and a refusal would stop restores of dumps already stored; a file that does not exist (yet) is
    /// reported when it is read.
    /// </summary>
    void WarnIfOthersCanRead(ConfigNode at, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        UnixFileMode mode;
        try
        {
            mode = File.GetUnixFileMode(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if ((mode & others) != 0)
        {
            var octal = Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0');
            _warnings.Add($"{_file}:{ConfigLoader.ToInt(at.Yaml.Start.Line)}: {at.Path} {path} can be read or written by users other than its owner "
                + $"(mode {octal}), and whoever reads it can open the dumps; restrict it: chmod 600 {path}");
        }
    }

    // ---- errors -------------------------------------------------------------------------------------------------

    public ConfigException Error(ConfigNode at, string message) => Error(at.Yaml, at.Path, message);

    public ConfigException Error(YamlNode at, string path, string message) =>
        new(message, _file, ConfigLoader.ToInt(at.Start.Line), ConfigLoader.ToInt(at.Start.Column), path.Length == 0 ? null : path);

    public string Where(YamlNode node) =>
        string.Create(CultureInfo.InvariantCulture, $"{_file}:{node.Start.Line}:{node.Start.Column}");

    static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping (key: value lines)",
        YamlSequenceNode => "a list",
        YamlScalarNode s when IsNull(s) => "nothing (an empty value)",
        YamlScalarNode => "a single value",
        _ => "an unsupported YAML node",
    };

    // ---- structure ----------------------------------------------------------------------------------------------

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s
        && (string.IsNullOrEmpty(s.Value) || s.Value is "~" or "null" or "Null" or "NULL");

    /// <summary>
    /// The keys of a mapping, checked against <paramref name="allowed"/>. A YAML null counts as an empty mapping, so
    /// that 'source:' with nothing under it is the same as leaving it out.
    /// </summary>
    public Fields Mapping(ConfigNode node, string[] allowed, string? hint = null)
    {
        var fields = new Fields(this, node);
        if (IsNull(node.Yaml))
        {
            return fields;
        }
        if (node.Yaml is not YamlMappingNode map)
        {
            throw Error(node, $"expected a mapping with keys {List(allowed)}, found {Describe(node.Yaml)}");
        }
        foreach (var (keyNode, valueNode) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                throw Error(keyNode, node.Path, $"keys must be plain names, found {Describe(keyNode)}");
            }
            var childPath = node.Child(key).Path;
            if (Array.IndexOf(allowed, key) < 0)
            {
                var message = key == "<<"
                    ? "YAML merge keys ('<<') are not supported; write the keys out"
                    : $"unknown key '{key}'{Suggestions.DidYouMean(key, allowed)}; accepted here: {List(allowed)}";
                if (hint is not null)
                {
                    message += ". " + hint;
                }
                throw Error(keyNode, childPath, message);
            }
            fields.Add(key, new ConfigNode(valueNode, childPath));
        }
        return fields;
    }

    /// <summary>A list's items with paths "path[0]", "path[1]"; a YAML null is an empty list.</summary>
    public List<ConfigNode> Sequence(ConfigNode node, string whatItems)
    {
        var items = new List<ConfigNode>();
        if (IsNull(node.Yaml))
        {
            return items;
        }
        if (node.Yaml is not YamlSequenceNode seq)
        {
            throw Error(node, $"expected a list (lines starting with '- ') of {whatItems}, found {Describe(node.Yaml)}");
        }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            items.Add(new ConfigNode(seq.Children[i], string.Create(CultureInfo.InvariantCulture, $"{node.Path}[{i}]")));
        }
        return items;
    }

    /// <summary>
    /// A scalar with ${VAR} expanded, or null for a YAML null (nothing, ~, null). The values taken from variables are
    /// added to <paramref name="substituted"/>.
    /// </summary>
    public ConfigScalar? Scalar(ConfigNode node, string expected, ICollection<string>? substituted = null)
    {
        if (IsNull(node.Yaml))
        {
            return null;
        }
        if (node.Yaml is not YamlScalarNode scalar)
        {
            throw Error(node, $"expected {expected}, found {Describe(node.Yaml)}");
        }
        var raw = scalar.Value ?? "";
        if (!EnvInterpolation.TryExpand(raw, _getEnv, out var value, out var fromEnvironment, out var error, substituted))
        {
            throw Error(node, error!);
        }
        return new ConfigScalar(value, fromEnvironment, node);
    }

    public ConfigScalar RequiredScalar(ConfigNode node, string expected, ICollection<string>? substituted = null) =>
        Scalar(node, expected, substituted) ?? throw Error(node, $"expected {expected}, found nothing");

    /// <summary>A non-empty string.</summary>
    public string NonEmpty(ConfigNode node, string expected, ICollection<string>? substituted = null)
    {
        var s = RequiredScalar(node, expected, substituted);
        if (s.Value.Length == 0)
        {
            throw Error(node, s.FromEnvironment ? $"expected {expected}; the environment variable is empty" : $"expected {expected}, found an empty string");
        }
        return s.Value;
    }

    public bool Bool(ConfigNode node)
    {
        var s = RequiredScalar(node, "true or false");
        if (string.Equals(s.Value, "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (string.Equals(s.Value, "false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var yaml11 = s.Value.ToLowerInvariant() is "yes" or "no" or "on" or "off" or "y" or "n";
        throw Error(node, $"expected true or false, found {s.Shown}" + (yaml11 ? " (YAML 1.1 spellings like yes/no are not booleans here)" : ""));
    }

    /// <summary>A whole number within [min, max].</summary>
    public int Int(ConfigNode node, int min, int max)
    {
        var s = RequiredScalar(node, $"a whole number from {min} to {max}");
        if (!int.TryParse(s.Value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw Error(node, $"expected a whole number from {min} to {max}, found {s.Shown}");
        }
        return value;
    }

    /// <summary>A size in bytes within [min, max].</summary>
    public long Size(ConfigNode node, long min, long max)
    {
        var s = RequiredScalar(node, ByteSize.Accepted);
        if (!ByteSize.TryParse(s.Value, out var bytes))
        {
            throw Error(node, $"{s.Shown} is not a size; expected {ByteSize.Accepted}");
        }
        if (bytes < min || bytes > max)
        {
            throw Error(node, $"{s.Shown} is out of range; expected between {ByteSize.Format(min)} and {ByteSize.Format(max)}");
        }
        return bytes;
    }

    public TablePattern Table(ConfigNode node)
    {
        const string accepted = "table, schema.table, * in place of either, and \"Quoted\" names for exact case";
        var s = RequiredScalar(node, "a table name: " + accepted);
        try
        {
            return TablePattern.Parse(s.Value);
        }
        catch (FormatException e)
        {
            // NamePattern's messages quote the text; a value from a variable is described instead.
            var what = s.FromEnvironment ? $"{s.Shown} is not a table name" : e.Message;
            throw Error(node, what.Contains("is not a table name; expected", StringComparison.Ordinal)
                ? $"{what} (\"Quoted\" names are exact)"
                : $"{what}; expected a table name: {accepted}");
        }
    }

    public NamePattern Name(ConfigNode node, string text, bool fromEnvironment, string what)
    {
        var accepted = $"one {what} name, * for any, or a \"Quoted\" name for exact case (write '\"Name\"' in YAML)";
        try
        {
            return NamePattern.Parse(text);
        }
        catch (FormatException e)
        {
            throw Error(node, $"{(fromEnvironment ? "the value (from an environment variable)" : e.Message)}; expected {accepted}");
        }
    }

    /// <summary>A transformer name that must be one of the known ones.</summary>
    public string TransformerName(ConfigScalar name)
    {
        if (!_knownTransformers.Contains(name.Value))
        {
            var known = _knownTransformers.Order(StringComparer.Ordinal).ToArray();
            throw Error(name.Node, $"unknown transformer {name.Shown}{Suggestions.DidYouMean(name.Value, known)}; known transformers: {string.Join(", ", known)}");
        }
        return name.Value;
    }

    /// <summary>Transformer options: scalars become strings, lists IReadOnlyList&lt;object?&gt;, mappings IReadOnlyDictionary&lt;string, object?&gt;.</summary>
    public Dictionary<string, object?> Options(ConfigNode node)
    {
        var options = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (IsNull(node.Yaml))
        {
            return options;
        }
        if (node.Yaml is not YamlMappingNode)
        {
            throw Error(node, $"expected a mapping of option: value, found {Describe(node.Yaml)}");
        }
        return (Dictionary<string, object?>)OptionValue(node)!;
    }

    object? OptionValue(ConfigNode node)
    {
        switch (node.Yaml)
        {
            case YamlScalarNode:
                return Scalar(node, "a value")?.Value;
            case YamlSequenceNode:
                var list = new List<object?>();
                foreach (var item in Sequence(node, "values"))
                {
                    list.Add(OptionValue(item));
                }
                return list;
            case YamlMappingNode map:
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (keyNode, valueNode) in map.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key })
                    {
                        throw Error(keyNode, node.Path, $"option names must be plain names, found {Describe(keyNode)}");
                    }
                    dict[key] = OptionValue(new ConfigNode(valueNode, node.Child(key).Path));
                }
                return dict;
            default:
                throw Error(node, $"unsupported YAML node {Describe(node.Yaml)}");
        }
    }

    public TransformerConfig Spec(string name, Dictionary<string, object?> options, ConfigNode? optionsNode, bool? unique, ConfigNode at) => new(name, options)
    {
        Location = Location(at),
        OptionLocations = optionsNode is { Yaml: YamlMappingNode map } node ? OptionLocations(map, node) : new Dictionary<string, ConfigLocation>(),
        OptionsFromEnvironment = optionsNode is { Yaml: YamlMappingNode optionMap } ? OptionsFromEnvironment(optionMap) : new HashSet<string>(),
        Unique = unique,
    };

    /// <summary>The options whose value, or a value inside it, holds a ${VAR}: their values are not shown in messages.</summary>
    HashSet<string> OptionsFromEnvironment(YamlMappingNode map)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in map.Children)
        {
            if (keyNode is YamlScalarNode { Value: { } key } && UsesVariables(valueNode))
            {
                names.Add(key);
            }
        }
        return names;
    }

    bool UsesVariables(YamlNode node) => node switch
    {
        YamlScalarNode { Value: { } raw } => ExpandsVariables(raw),
        YamlSequenceNode sequence => sequence.Children.Any(UsesVariables),
        YamlMappingNode mapping => mapping.Children.Values.Any(UsesVariables),
        _ => false,
    };

    bool ExpandsVariables(string raw)
    {
        // A value that fails to expand was reported where it was read; here only "did it name a variable" counts.
        _ = EnvInterpolation.TryExpand(raw, _getEnv, out _, out var used, out _);
        return used;
    }

    /// <summary>Where each option's key was written, for errors raised when the options are bound to a transformer.</summary>
    Dictionary<string, ConfigLocation> OptionLocations(YamlMappingNode map, ConfigNode node)
    {
        var locations = new Dictionary<string, ConfigLocation>(StringComparer.Ordinal);
        foreach (var keyNode in map.Children.Keys)
        {
            if (keyNode is YamlScalarNode { Value: { } key })
            {
                locations[key] = Location(new ConfigNode(keyNode, node.Child(key).Path));
            }
        }
        return locations;
    }

    public ConfigLocation Location(ConfigNode node) =>
        new(_file, ConfigLoader.ToInt(node.Yaml.Start.Line), ConfigLoader.ToInt(node.Yaml.Start.Column)) { Key = node.Path.Length == 0 ? null : node.Path };

    // ---- settings shared by both shapes -------------------------------------------------------------------------

    public string Locale(ConfigNode node)
    {
        var scalar = RequiredScalar(node, "a Bogus locale such as en, de, fr, en_US");
        var locale = NonEmpty(node, "a Bogus locale such as en, de, fr, en_US");
        if (!Bogus.Database.LocaleResourceExists(locale))
        {
            var all = Bogus.Database.GetAllLocales().Order(StringComparer.Ordinal).ToArray();
            throw Error(node, scalar.FromEnvironment
                ? $"unknown locale {scalar.Shown}; accepted: {string.Join(", ", all)}"
                : $"unknown locale '{locale}'{Suggestions.DidYouMean(locale, all)}; accepted: {string.Join(", ", all)}");
        }
        return locale;
    }

    /// <summary>The secret from 'secret' or, when the key is absent, from REPLICA_SECRET. Never shown in messages.</summary>
    public string Secret(ConfigNode? node, IReadOnlyList<TableRule> tables, string howToSet)
    {
        string secret;
        if (node is { } n)
        {
            var s = Scalar(n, "the secret");
            secret = s?.Value ?? "";
        }
        else
        {
            secret = _getEnv(ConfigLoader.SecretVariable) ?? "";
        }

        var maskedColumns = 0;
        foreach (var table in tables)
        {
            maskedColumns += table.Columns.Count;
        }
        if (secret.Length == 0)
        {
            if (maskedColumns > 0)
            {
                var message = $"no secret is configured, but {maskedColumns} column(s) have transformers, which derive their output from it. {howToSet}";
                throw node is { } at ? Error(at, message) : new ConfigException(message, _file, key: "secret");
            }
            return "";
        }
        if (secret.Length < MinSecretLength)
        {
            var message = $"the secret is shorter than {MinSecretLength} characters; use a long random one, e.g. from 'openssl rand -base64 32'";
            throw node is { } at ? Error(at, message) : new ConfigException(message + $" (it came from {ConfigLoader.SecretVariable})", _file, key: "secret");
        }
        return secret;
    }

    /// <summary>'unmatched_rules': error (the default) or warn.</summary>
    public UnmatchedRules UnmatchedRulesSetting(ConfigNode node)
    {
        var text = RequiredScalar(node, "error or warn");
        return text.Value switch
        {
            "error" => UnmatchedRules.Error,
            "warn" => UnmatchedRules.Warn,
            _ => throw Error(node, $"expected error (the default: a rule that matches no table or column of the dump fails it) or warn (the dump completes with a warning), found {text.Shown}"),
        };
    }

    public string? ConnectionUri(ConfigNode node)
    {
        var s = Scalar(node, "a connection URI (postgres://user:password@host:port/database or mysql://...)");
        if (s is null || s.Value.Value.Length == 0)
        {
            return null;
        }
        try
        {
            Clients.DatabaseUri.Parse(s.Value.Value);
        }
        catch (ConfigException e)
        {
            // DatabaseUri's messages never repeat the URI (it may hold a password); add where it was written.
            throw Error(node, e.Message);
        }
        return s.Value.Value;
    }

    static string List(string[] keys) => string.Join(", ", keys);

    /// <summary>The checked keys of one mapping, in file order.</summary>
    internal sealed class Fields
    {
        readonly ConfigBinder _binder;
        readonly Dictionary<string, ConfigNode> _fields = new(StringComparer.Ordinal);

        public Fields(ConfigBinder binder, ConfigNode node)
        {
            _binder = binder;
            Node = node;
        }

        /// <summary>The mapping itself.</summary>
        public ConfigNode Node { get; }

        public void Add(string key, ConfigNode value) => _fields[key] = value;

        public ConfigNode? Get(string key) => _fields.TryGetValue(key, out var f) ? f : null;

        public bool Has(string key) => _fields.ContainsKey(key);

        /// <summary>A key that must be present; the error points at the mapping that lacks it.</summary>
        public ConfigNode Require(string key, string what) =>
            Get(key) ?? throw _binder.Error(Node.Yaml, Node.Child(key).Path, $"missing: expected {what} here");
    }
}
