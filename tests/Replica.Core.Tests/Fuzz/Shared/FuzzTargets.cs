using System.Buffers;
using System.Text;
using Replica.Bridges;
using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Sources;
using Replica.Transformers;

namespace Replica.Core.Tests.Fuzz;

/// <summary>What one case ended in: the input was accepted, or refused with one of Replica's documented errors.</summary>
public enum FuzzOutcome
{
    Accepted,
    Refused,
}

/// <summary>The oracle found a wrong answer that is not an exception (e.g. output that depends on where the input was split).</summary>
public sealed class FuzzOracleException(string message) : Exception(message);

/// <summary>
/// One thing to fuzz: its seeds, its mutation dictionary, and <see cref="Run"/>, which returns the outcome of one case or
/// lets an unexpected exception out: that is a crash. Documented errors are every <see cref="ReplicaException"/> (config,
/// malformed dump, bridge, integrity, transformer); a <see cref="DumpFormatException"/> must also be positioned inside the input.
/// </summary>
public abstract class FuzzTarget : IDisposable
{
    public abstract string Name { get; }
    public abstract IReadOnlyList<byte[]> Seeds { get; }
    public abstract IReadOnlyList<byte[]> Tokens { get; }

    /// <param name="seedIndex">The seed the input was mutated from.</param>
    public abstract FuzzOutcome Run(byte[] input, int seedIndex, Random random);

    /// <summary>The input of one case; by default the mutator's byte-level edits of a seed.</summary>
    public virtual byte[] Mutate(FuzzMutator mutator, Random random, out int seedIndex) => mutator.Next(out seedIndex);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Every target over the repository's fixtures and examples; <paramref name="repoRoot"/> holds Replica.sln.</summary>
    public static List<FuzzTarget> All(string repoRoot, bool includeJsonTransformer = true) =>
    [
        new RewriteTarget(repoRoot, SqlDialect.PostgreSql, includeJsonTransformer),
        new RewriteTarget(repoRoot, SqlDialect.MySql, includeJsonTransformer),
        new ConfigTarget(repoRoot),
        new BridgeTarget(repoRoot),
    ];

    internal static byte[] Read(string repoRoot, string relative) => File.ReadAllBytes(Path.Combine(repoRoot, relative));

    /// <summary>Environment variables the configs may name; anything else is unset.</summary>
    internal static string? Env(string name) => name switch
    {
        "REPLICA_SECRET" => "fuzz-secret-0123456789-abcdef-0123456789",
        "REPLICA_PASSPHRASE" => "fuzz passphrase",
        "REPLICA_KEY" => Convert.ToBase64String(new byte[32]),
        "SOURCE_DATABASE_URL" => "postgres://reader:pw@localhost:5432/shop",
        _ => null,
    };

    internal static IReadOnlyCollection<string> KnownTransformers { get; } = [.. TransformerRegistry.All.Select(t => t.Name)];
}

/// <summary>
/// The lexer and rewriter of one dialect over mutated real dumps, with one of several rule sets, fed whole and again in
/// blocks split at random points (sometimes one byte at a time). Both runs must agree: the same output, or the same
/// kind of documented error.
/// </summary>
public sealed class RewriteTarget : FuzzTarget
{
    readonly SqlDialect _dialect;
    readonly List<RewriteRules> _rules = [];
    readonly ArrayBufferWriter<byte> _whole = new();
    readonly ArrayBufferWriter<byte> _split = new();

    public RewriteTarget(string repoRoot, SqlDialect dialect, bool includeJsonTransformer)
    {
        _dialect = dialect;
        Seeds = dialect == SqlDialect.PostgreSql
            ?
            [
                Read(repoRoot, "tests/Replica.Core.Tests/Lexing/Fixtures/tricky.sql"),
                Read(repoRoot, "examples/sample-dump.sql"),
                Read(repoRoot, "examples/shop.sql"),
                Read(repoRoot, "tests/Replica.IntegrationTests/Fixtures/awkward.sql"),
                .. WideDumps.Seeds(mySql: false),
            ]
            :
            [
                Read(repoRoot, "tests/Replica.Core.Tests/Lexing/Fixtures/mysql-default.sql"),
                Read(repoRoot, "tests/Replica.Core.Tests/Lexing/Fixtures/mysql-complete-insert.sql"),
                Read(repoRoot, "tests/Replica.Core.Tests/Lexing/Fixtures/mysql-databases.sql"),
                Read(repoRoot, "tests/Replica.Core.Tests/Lexing/Fixtures/mysql-hex-blob.sql"),
                .. WideDumps.Seeds(mySql: true),
            ];
        Tokens = FuzzMutator.Tokens([.. s_commonTokens, .. dialect == SqlDialect.PostgreSql ? s_postgresTokens : s_mysqlTokens]);
        foreach (var yaml in RuleSets(dialect, includeJsonTransformer))
        {
            // Built as `replica dump` builds them. A mutated dump often lacks a rule's table or column: warn, so the run
            // goes on and its output is still compared.
            _rules.Add(DumpRequest.BuildRules(ConfigLoader.Parse(yaml + "\nunmatched_rules: warn\n", "fuzz-rules.yaml", KnownTransformers, Env)));
        }
    }

    public override string Name => _dialect == SqlDialect.PostgreSql ? "rewrite-postgresql" : "rewrite-mysql";
    public override IReadOnlyList<byte[]> Seeds { get; }
    public override IReadOnlyList<byte[]> Tokens { get; }

    public override FuzzOutcome Run(byte[] input, int seedIndex, Random random)
    {
        var rules = _rules[random.Next(_rules.Count)];
        long maxUnit = random.Next(8) == 0 ? random.Next(16, 8192) : 256L << 20;
        var whole = Rewrite(input, rules, maxUnit, _whole, []);
        // One-byte blocks now and then, on inputs small enough that the case stays fast.
        var splits = input.Length <= 8192 && random.Next(16) == 0
            ? Enumerable.Range(1, Math.Max(0, input.Length - 1)).ToArray()
            : [.. Enumerable.Range(0, random.Next(1, 5)).Select(_ => random.Next(input.Length + 1)).Order()];
        var split = Rewrite(input, rules, maxUnit, _split, splits);
        if (whole?.GetType() != split?.GetType())
        {
            throw new FuzzOracleException(
                $"whole input: {Describe(whole)}; split at {splits.Length} points: {Describe(split)}");
        }
        if (whole is null && !_whole.WrittenSpan.SequenceEqual(_split.WrittenSpan))
        {
            throw new FuzzOracleException("the output differs when the input is split");
        }
        return whole is null ? FuzzOutcome.Accepted : FuzzOutcome.Refused;
    }

    static string Describe(ReplicaException? e) => e is null ? "accepted" : $"{e.GetType().Name}: {e.Message}";

    ReplicaException? Rewrite(byte[] input, RewriteRules rules, long maxUnit, ArrayBufferWriter<byte> output, int[] splits)
    {
        output.ResetWrittenCount();
        try
        {
            using var rewriter = new DumpRewriter(rules, maxUnit, _dialect);
            var start = 0;
            foreach (var split in splits)
            {
                rewriter.Process(input.AsSpan(start, split - start), output);
                start = split;
            }
            rewriter.Process(input.AsSpan(start), output);
            rewriter.Complete(output);
            return null;
        }
        catch (DumpFormatException e)
        {
            if (e.ByteOffset < 0 || e.ByteOffset > input.Length || e.LineNumber < 1)
            {
                throw new FuzzOracleException($"positioned error outside the input (offset {e.ByteOffset} of {input.Length}, line {e.LineNumber}): {e.Message}");
            }
            return e;
        }
        catch (ReplicaException e)
        {
            return e;
        }
    }

    static IEnumerable<string> RuleSets(SqlDialect dialect, bool includeJson)
    {
        yield return "secret: ${REPLICA_SECRET}\n";
        // Every column of every table, with transformers that fit any type.
        yield return """
            secret: ${REPLICA_SECRET}
            transformers:
              - table: '*'
                columns:
                  '*': random
            """;
        yield return """
            secret: ${REPLICA_SECRET}
            transformers:
              - table: '*'
                columns:
                  '*': { transformer: redact, options: { keep: 1 } }
            """;
        // One column only: regex-replace compiles its pattern per column, which would dominate the case.
        yield return """
            secret: ${REPLICA_SECRET}
            transformers:
              - table: '*'
                columns:
                  email: { transformer: regex-replace, options: { pattern: '[aeiou]+', replacement: 'x$0' } }
                  '*': { transformer: hash, options: { encoding: base64, length: 8 } }
            """;
        // Names from the fixtures, with the fakes, and tables dropped and skipped.
        var schema = dialect == SqlDialect.PostgreSql ? "public" : "*";
        yield return $"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            transformers:
              - table: '{schema}.customers'
                columns:
                  email: email
                  first_name: first-name
                  last_name: last-name
                  name: full-name
                  phone: phone-number
                  birth_date: date-shift
                  street: street-address
                  city: city
                  country: country
              - table: '{schema}.orders'
                data: skip
              - table: '{schema}.audit_log'
                drop: true
              - table: '{schema}.audit'
                drop: true
              - table: '*'
                columns:
                  id: {"{"} transformer: number-noise, options: {"{"} percent: 50 {"}"} {"}"}
                  created_at: date-shift
                  email: {"{"} transformer: hash, options: {"{"} length: 12 {"}"} {"}"}
                  card_number: credit-card
                  ip: ip-address
                  note: keep-first-char
                  msg: constant
                  body: 'null'
            """.Replace("msg: constant", "msg: { transformer: constant, options: { value: 'a\tb\\c''d' } }", StringComparison.Ordinal);
        yield return $"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            only_tables: ['{schema}.customers', '*.blobs', '"Odd Schema".*']
            transformers:
              - table: '*'
                columns:
                  '*': {"{"} transformer: template, options: {"{"} template: '{"{{"}id{"}}"}-{"{{"}email|upper{"}}"}' {"}"} {"}"}
            """;
        if (includeJson)
        {
            yield return """
                secret: ${REPLICA_SECRET}
                transformers:
                  - table: '*'
                    columns:
                      '*': { transformer: json, options: { path: '$.contact.email', transformer: email } }
                """;
        }
    }

    static readonly string[] s_commonTokens =
    [
        "\t", "\n", "\r\n", "\\", "'", "''", "\"", ";", "--", "-- x\n", "/*", "*/", "(", ")", "),(", ",", "NULL", "0", "-1", "1e9",
        "INSERT INTO ", " VALUES (", "CREATE TABLE ", "ALTER TABLE ", "DROP TABLE ", "\0", "\u00e9", "\U0001F600", "\xff", "\xc3",
        "\ud800", " ", "x",
    ];

    static readonly string[] s_postgresTokens =
    [
        "\\.", "\\.\n", "\\N", "\\\\", "\\t", "\\n", "\\x41", "\\101", "\\x", "E'", "U&'", "B'", "X'", "$$", "$_$", "$a$",
        "COPY public.customers (id, email) FROM stdin;\n", "COPY ", " FROM stdin;\n", "\\connect shop\n", "\\restrict key\n",
        "\\unrestrict key\n", "SET standard_conforming_strings = off;\n", "SET standard_conforming_strings = on;\n",
        "CREATE FUNCTION f() RETURNS text AS $$ SELECT 1 $$ LANGUAGE sql;\n", "public.", "\"Odd Schema\".",
    ];

    static readonly string[] s_mysqlTokens =
    [
        "`", "``", "\\'", "\\0", "\\Z", "\\%", "0x", "0x4A", "_binary ", "_utf8mb4'", "/*!40101 ", "/*!", "#", "# x\n",
        "DELIMITER ;;\n", "DELIMITER ;\n", ";;", "LOCK TABLES `t` WRITE;\n", "INSERT INTO `customers` VALUES (", "USE `shop`;\n",
        "CREATE DATABASE `x`;\n", "b'", "X'", "`odd``name`", "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a=1; END ;;\n",
    ];
}

/// <summary>The config loader over mutated YAML: replica.example.yaml, the examples and the bench configs.</summary>
public sealed class ConfigTarget(string repoRoot) : FuzzTarget
{
    public override string Name => "config";

    public override IReadOnlyList<byte[]> Seeds { get; } =
    [
        Read(repoRoot, "replica.example.yaml"),
        Read(repoRoot, "examples/replica.yaml"),
        Read(repoRoot, "examples/replibyte.yaml"),
        .. Directory.GetFiles(Path.Combine(repoRoot, "bench"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllBytes),
    ];

    public override IReadOnlyList<byte[]> Tokens { get; } = FuzzMutator.Tokens(
        ": ", "- ", "\n", "\n  ", "\n    ", "\n      ", "  ", "\t", "${", "}", "${REPLICA_SECRET}", "${X:-", "${UNSET}", "$VAR", "'", "''",
        "\"", "\\", "*", "'*'", "&a ", "*a", "<<: *a", "!!str ", "!!binary ", "!!int ", "!x ", "{", "}", "[", "]", ",", "#", "|", ">", "---\n",
        "...\n", "~", "null", "'null'", "true", "yes", "1e9", "-1", "0", "0x10", "99999999999999999999", "1KiB", "8MiB", "9999TiB", "?", "%YAML 1.2\n",
        "transformer: ", "options: ", "table: ", "columns: ", "data: skip", "drop: true", "only_tables: ", "unique: true",
        "secret: ", "bridge: ", "local: ", "s3: ", "encryption: ", "compression: ", "limits: ", "source: ", "destination: ",
        "connection_uri: ", "postgres://u:p@h:5432/db?sslmode=require", "mysql://u@h/db", "%00", "\0", "\u00e9", "\ud800", "\xff",
        "email", "hash", "redact", "json", "template", "regex-replace", "custom", "date-shift", "number-noise", "'(a+)+$'",
        "'{{id}}'", "path: $.a[*].b", "locale: xx", "transformers:\n  - table: '*'\n    columns:\n      '*': ");

    public override FuzzOutcome Run(byte[] input, int seedIndex, Random random)
    {
        try
        {
            // Invalid UTF-8 reads as U+FFFD, as File.ReadAllText does.
            var config = ConfigLoader.Parse(Encoding.UTF8.GetString(input), "fuzz.yaml", KnownTransformers, Env);
            DumpRequest.BuildRules(config);
            return FuzzOutcome.Accepted;
        }
        catch (ReplicaException)
        {
            return FuzzOutcome.Refused;
        }
    }
}

/// <summary>
/// The index and manifest readers of the local bridge over mutated index.json and manifest.json, followed by what `list`,
/// `verify` and `restore` do with them: resolve the latest dump, read its manifest, fetch, check and decode its chunks.
/// The seeds are two real dumps (zstd; zstd + AES-256-GCM) made at start-up in a temporary directory.
/// </summary>
public sealed class BridgeTarget : FuzzTarget
{
    static readonly string[] s_names = ["fuzz-plain", "fuzz-encrypted"];
    readonly string _root;
    readonly LocalBridge _bridge;
    readonly BridgeConfig _settings;
    readonly byte[] _index;
    readonly byte[][] _manifests;

    public BridgeTarget(string repoRoot)
    {
        _root = Directory.CreateTempSubdirectory("replica-fuzz-bridge-").FullName;
        _bridge = new LocalBridge(_root);
        var plain = ConfigLoader.Parse("bridge:\n  chunk_size: 512\n", "fuzz.yaml", KnownTransformers, Env).Bridge;
        _settings = ConfigLoader.Parse("bridge:\n  chunk_size: 512\n  encryption: { key: ${REPLICA_KEY} }\n", "fuzz.yaml", KnownTransformers, Env).Bridge;
        var dump = Path.Combine(repoRoot, "tests/Replica.Core.Tests/Lexing/Fixtures/tricky.sql");
        foreach (var (name, settings) in new[] { (s_names[0], plain), (s_names[1], _settings) })
        {
            using var rewriter = new DumpRewriter(RewriteRules.None);
            DumpJob.RunAsync(new FileDumpSource(dump), rewriter, _bridge, name, settings, CancellationToken.None).GetAwaiter().GetResult();
        }
        _index = File.ReadAllBytes(Path.Combine(_root, "index.json"));
        _manifests = [.. s_names.Select(n => File.ReadAllBytes(Path.Combine(_root, n, "manifest.json")))];
        // Seeds: index.json, then each manifest; a case mutates one of them and keeps the others as they were.
        Seeds = [_index, .. _manifests];
    }

    public override string Name => "bridge-json";
    public override IReadOnlyList<byte[]> Seeds { get; }

    public override IReadOnlyList<byte[]> Tokens { get; } = FuzzMutator.Tokens(
        "null", "[]", "{}", "[null]", "[null,", "{\"a\":", "-1", "0", "1", "1e999", "9223372036854775808", "-9223372036854775809", "2147483648",
        "\"\"", "\"../x\"", "\"..\"", "\"index.json\"", "\"/etc/passwd\"", "\"dump-1\"", "true", "false", ",", ":", "\"", "\\u0000", "\\ud800",
        "\"chunks\":", "\"name\":", "\"index\":", "\"key\":", "\"size\":", "\"sha256\":", "\"status\":", "\"complete\"", "\"dumps\":",
        "\"version\":", "\"encryption\":", "\"compression\":", "\"zstd\"", "\"gzip\"", "\"none\"", "\"compressed\": true", "\"encrypted\": true",
        "\"size_out\":", "\"000000.chunk\"", "\"fuzz-plain\"", "\"fuzz-encrypted\"", "\"wrapped_keys\":", "\"kdf\":", "\"AAAA\"",
        "\"parts\":", "\"part\":", "\"kind\":", "\"table\":", "\"chunk_count\":", "\"stream\"", "\"data\"", "\"p000000-000000.chunk\"");

    /// <summary>
    /// Half the cases edit bytes; the other half keep the JSON well-formed and replace one value (a null in a list, a
    /// negative size, a name that is a path...), which reaches the checks behind the parser.
    /// </summary>
    public override byte[] Mutate(FuzzMutator mutator, Random random, out int seedIndex)
    {
        if (random.Next(2) == 0)
        {
            return mutator.Next(out seedIndex);
        }
        seedIndex = random.Next(Seeds.Count);
        var root = System.Text.Json.Nodes.JsonNode.Parse(Seeds[seedIndex])!;
        for (var edits = random.Next(1, 4); edits > 0; edits--)
        {
            var nodes = new List<System.Text.Json.Nodes.JsonNode>();
            Collect(root, nodes);
            if (nodes.Count == 0)
            {
                break;
            }
            var node = nodes[random.Next(nodes.Count)];
            var replacement = s_values[random.Next(s_values.Length)];
            var value = replacement is null ? null : System.Text.Json.Nodes.JsonNode.Parse(replacement);
            switch (node.Parent)
            {
                case System.Text.Json.Nodes.JsonObject parent:
                    if (random.Next(8) == 0)
                    {
                        parent.Remove(node.GetPropertyName());
                    }
                    else
                    {
                        parent[node.GetPropertyName()] = value;
                    }
                    break;
                case System.Text.Json.Nodes.JsonArray array:
                    var at = node.GetElementIndex();
                    if (random.Next(4) == 0)
                    {
                        array.Insert(at, value);
                    }
                    else
                    {
                        array[at] = value;
                    }
                    break;
            }
        }
        // JsonNode cannot write a lone surrogate escape; it is put in as text.
        return System.Text.Encoding.UTF8.GetBytes(root.ToJsonString().Replace("LONE_SURROGATE", "\\ud800", StringComparison.Ordinal));
    }

    static void Collect(System.Text.Json.Nodes.JsonNode node, List<System.Text.Json.Nodes.JsonNode> nodes)
    {
        if (node.Parent is not null)
        {
            nodes.Add(node);
        }
        if (node is System.Text.Json.Nodes.JsonObject o)
        {
            foreach (var (_, child) in o)
            {
                if (child is not null)
                {
                    Collect(child, nodes);
                }
            }
        }
        else if (node is System.Text.Json.Nodes.JsonArray a)
        {
            foreach (var child in a)
            {
                if (child is not null)
                {
                    Collect(child, nodes);
                }
            }
        }
    }

    static readonly string?[] s_values =
    [
        null, "null", "[]", "{}", "[null]", "-1", "0", "1", "2", "1e300", "9223372036854775807", "-9223372036854775808", "2147483647", "-2147483648",
        "\"\"", "\"../x\"", "\"..\"", "\"index.json\"", "\"/etc/passwd\"", "\"dump-1\"", "\"fuzz-plain\"", "\"fuzz-encrypted\"",
        "\"000000.chunk\"", "\"000001.chunk\"", "\"p000000-000001.chunk\"", "\"stream\"", "\"data\"", "\"post-data\"", "\"zstd\"", "\"gzip\"", "\"none\"", "\"xz\"", "\"complete\"", "\"writing\"",
        "true", "false", "\"\\u0000\"", "\"LONE_SURROGATE\"", "\"AAAA\"", "\"" + new string('A', 64) + "\"", "[1,2,3]", "{\"a\":1}",
    ];

    public override FuzzOutcome Run(byte[] input, int seedIndex, Random random)
    {
        // The input replaces the file its seed came from.
        var which = seedIndex;
        File.WriteAllBytes(Path.Combine(_root, "index.json"), which == 0 ? input : IndexMatching(s_names[which - 1], input));
        for (var i = 0; i < s_names.Length; i++)
        {
            File.WriteAllBytes(Path.Combine(_root, s_names[i], "manifest.json"), which == i + 1 ? input : _manifests[i]);
        }
        try
        {
            // What `list` and `verify --latest` do with an index; what `verify --name` does with that dump's manifest.
            if (which == 0)
            {
                _bridge.ListAsync(CancellationToken.None).GetAwaiter().GetResult();
                try
                {
                    RestoreJob.VerifyAsync(_bridge, name: null, _settings, CancellationToken.None, allowUnencrypted: true).GetAwaiter().GetResult();
                }
                catch (ReplicaException)
                {
                    // Verify refuses an entry that no longer matches its manifest, which is what most edits of an index
                    // entry are: the index was still read and listed (it must not crash either way), so the case counts
                    // as accepted by `list`; else hardly any index edit would be accepted, and the cases test nothing deep.
                }
            }
            else
            {
                // --allow-unencrypted: the plain seed dump is read under the encrypting settings too, which would refuse
                // it by policy before any of its manifest's checks run (the refusal has its own tests).
                RestoreJob.VerifyAsync(_bridge, s_names[which - 1], _settings, CancellationToken.None, allowUnencrypted: true).GetAwaiter().GetResult();
            }
            return FuzzOutcome.Accepted;
        }
        catch (ReplicaException)
        {
            return FuzzOutcome.Refused;
        }
    }

    /// <summary>
    /// index.json with dump <paramref name="name"/>'s entry copied from the edited manifest where it can be (as someone
    /// editing both files would, or `index rebuild`): restore and verify refuse an entry that does not match its
    /// manifest, and without this most manifest edits would stop at that check instead of reaching the ones behind it.
    /// </summary>
    byte[] IndexMatching(string name, byte[] manifest)
    {
        try
        {
            if (System.Text.Json.Nodes.JsonNode.Parse(manifest) is not System.Text.Json.Nodes.JsonObject edited
                || edited["chunks"] is not System.Text.Json.Nodes.JsonArray chunks
                || System.Text.Json.Nodes.JsonNode.Parse(_index) is not { } index
                || index["dumps"] is not System.Text.Json.Nodes.JsonArray dumps)
            {
                return _index;
            }
            foreach (var entry in dumps)
            {
                if (entry is System.Text.Json.Nodes.JsonObject listed && listed["name"]?.GetValue<string>() == name)
                {
                    foreach (var field in (ReadOnlySpan<string>)["created_at", "size_in", "size_out", "compressed", "encrypted"])
                    {
                        listed[field] = edited[field]?.DeepClone();
                    }
                    listed["chunk_count"] = chunks.Count;
                }
            }
            return System.Text.Encoding.UTF8.GetBytes(index.ToJsonString());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            return _index;
        }
    }

    public override void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        base.Dispose();
    }
}
