using System.Buffers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

/// <summary>
/// Generated documents for the json transformer, a third of them mutated, with lone surrogate escapes and invalid UTF-8
/// among the strings and names (a json column keeps both): a value either transforms into well-formed JSON or fails
/// with the transformer's own <see cref="TransformerException"/>, never anything else (an unhandled exception ends the
/// process). A CsCheck property over seeded cases: a failure shrinks to the smallest document and mutations that fail.
/// </summary>
public class JsonFuzzTests
{
    static readonly string[] s_names = ["email", "a", "b", "items", "\\ud800", "\\udc00x", "\\u0065mail", "é", "\\ud83d\\ude00"];

    static readonly byte[][] s_rawNames = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [(byte)'e', 0x80]];

    static readonly string[] s_strings =
    [
        "jane@example.org", "", "x", "\\ud800", "\\udc00", "a\\ud800b", "\\ud800\\ud800", "\\ud83d\\ude00", "\\u0041\\n\\t\\\"",
        "ünï 😀", "\\\\", "2024-01-31", "4111 1111 1111 1111",
    ];

    static readonly (string Path, string Inner)[] s_rules =
    [
        ("email", "email"), ("items[*].email", "hash"), ("*", "random"), ("a.b", "keep-first-char"), ("items[0]", "redact"),
        ("*.*", "credit-card"), ("$[\"\\ud800\"]", "first-name"), ("é", "constant"),
    ];

    /// <summary>A string: one of <see cref="s_strings"/>, one time in five after invalid UTF-8.</summary>
    static readonly Gen<byte[]> s_string = Gen.Select(
        Gen.Frequency((4, Gen.Const(Array.Empty<byte>())), (1, Gen.OneOf(s_rawNames))),
        Gen.OneOf(s_strings),
        (raw, text) => Concat(Utf8("\""), raw, Utf8(text), Utf8("\"")));

    /// <summary>A member name: one of <see cref="s_names"/>, or one time in six invalid UTF-8.</summary>
    static readonly Gen<byte[]> s_name = Gen.Frequency((5, Gen.OneOf(s_names).Select(Utf8)), (1, Gen.OneOf(s_rawNames)));

    static readonly Gen<byte[]> s_scalar = Gen.Frequency(
        (2, s_string),
        (1, Gen.OneOf("42", "-0.5e3", "12345678901234567890").Select(Utf8)),
        (1, Gen.OneOf("true", "false", "null").Select(Utf8)));

    /// <summary>A whole document: mostly an object, else an array, nested at most five deep.</summary>
    static readonly Gen<byte[]> s_document = Gen.Frequency((3, JsonObject(0)), (1, JsonArray(0)));

    /// <summary>One to two mutations for a third of the documents: a byte replaced, bytes cut, an escape or quote inserted, invalid UTF-8 inserted, the document truncated.</summary>
    static readonly Gen<Mutation[]> s_mutations = Gen.Frequency(
        (2, Gen.Const(Array.Empty<Mutation>())),
        (1, Gen.Select(Gen.Int[0, 4], Gen.Int[0, 1 << 16], Gen.Int[1, 3], Gen.Byte, (kind, at, length, value) => new Mutation(kind, at, length, value)).Array[1, 2]));

    static readonly Gen<(byte[] Document, Mutation[] Mutations)> s_case = Gen.Select(s_document, s_mutations);

    [Fact(Timeout = 120_000)]
    public async Task Json_GeneratedAndMutatedDocuments_TransformOrFailWithTransformerExceptionOnly()
    {
        await Task.Run(() =>
        {
            var transformers = s_rules.Select(r => Create(Spec("json", ("path", r.Path), ("transformer", Inner(r.Inner))), Column(TypeCategory.Json, "json"))).ToList();
            var output = new ArrayBufferWriter<byte>();
            var failures = 0;
            var transformed = 0;
            try
            {
                s_case.ForAll(c =>
                {
                    var input = Apply(c.Document, c.Mutations);
                    for (var t = 0; t < transformers.Count; t++)
                    {
                        output.ResetWrittenCount();
                        try
                        {
                            if (transformers[t].Transform(input, false, EmptyRowContext.Instance, output) == TransformResult.Value)
                            {
                                transformed++;
                                AssertWellFormed(output.WrittenSpan, s_rules[t].Path);
                            }
                        }
                        catch (TransformerException)
                        {
                            failures++;
                        }
                        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                        {
                            Assert.Fail($"path {s_rules[t].Path}: {e.GetType().Name}: {e.Message}");
                        }
                    }
                }, cases: 4000, print: c => $"{Convert.ToHexString(Apply(c.Document, c.Mutations))} (document {Encoding.UTF8.GetString(c.Document)}, mutations {string.Join(", ", c.Mutations)})");
            }
            finally
            {
                transformers.ForEach(t => t.Dispose());
            }
            // The generator reaches both outcomes often, or the test proves little. A path that ends at an object or
            // array fails (its strings would stay in clear), so the wildcard paths fail more often than they transform.
            Assert.True(transformed > 600 && failures > 2000, $"transformed {transformed}, failed {failures}");
        });
    }

    /// <summary>
    /// The oracle of one scan for several paths: the same document through a json transformer of one path per rule,
    /// one after another, each on the last one's output (what paths: did before it scanned once). Same bytes out, same
    /// outcome, same counts of where each path was found, over seeded documents and path lists (some over the 64 paths
    /// one scan follows, so scans are chained too).
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Json_SeveralPathsInOneScan_WriteWhatOnePathAtATimeWrites()
    {
        (string Path, string Inner)[] rules =
        [
            .. s_rules, ("$.a", "hash"), ("$['a']", "constant"), ("$", "redact"), ("items[*]", "credit-card"), ("items[1].email", "email"),
            ("*.email", "hash"), ("a", "random"), ("b.*", "keep-first-char"), ("items", "redact"), ("$.a", "null"),
            ("*", "seven"), ("*.*", "seven"), ("items[*].email", "null"),
        ];
        // Paths that match nothing in these documents push a list past one scan without changing what it does.
        var filler = Enumerable.Range(0, 64).Select(i => (Path: $"$.items[{i + 3}].email", Inner: "email"));
        var lists = Gen.Frequency(
            (9, Gen.Int[0, rules.Length - 1].Array[1, 6].Select(picks => picks.Select(i => rules[i]).DistinctBy(r => r.Path).ToArray())),
            (1, Gen.Int[0, rules.Length - 1].Array[1, 3].Select(picks => filler.Concat(picks.Select(i => rules[i]).DistinctBy(r => r.Path)).ToArray())));
        var scanned = 0;
        await Task.Run(() => Gen.Select(s_case, lists).Sample((c, list) =>
        {
            var document = Apply(c.Document, c.Mutations);
            var paths = new Dictionary<string, object?>();
            foreach (var (path, inner) in list)
            {
                paths[path] = Inner(inner);
            }
            using var together = Create(Spec("json", ("paths", paths)), Column(TypeCategory.Json, "json"));
            var apart = list.Select(r => Create(Spec("json", ("path", r.Path), ("transformer", Inner(r.Inner))), Column(TypeCategory.Json, "json"))).ToList();
            try
            {
                var expected = Chain(apart, document);
                var actual = Outcome(together, document);
                Assert.Equal(expected, actual);
                if (!expected.StartsWith("fails", StringComparison.Ordinal))
                {
                    scanned++;
                    Assert.Equal(apart.SelectMany(t => t.Places).Select(p => (p.Path, p.Searched, p.Found)), together.Places.Select(p => (p.Path, p.Searched, p.Found)));
                }
            }
            finally
            {
                apart.ForEach(t => t.Dispose());
            }
        }, iter: 3000, print: c => $"{Convert.ToHexString(Apply(c.Item1.Document, c.Item1.Mutations))} paths {string.Join(", ", c.Item2.Select(r => $"{r.Path}: {r.Inner}"))}"));
        Assert.True(scanned > 1000, $"only {scanned} documents were scanned without failing");
    }

    /// <summary>The document after each transformer in turn, or how the first failure failed.</summary>
    static string Chain(List<Transformer> transformers, byte[] document)
    {
        foreach (var transformer in transformers)
        {
            var outcome = Outcome(transformer, document);
            if (outcome.StartsWith("fails", StringComparison.Ordinal))
            {
                return outcome;
            }
            document = Convert.FromHexString(outcome);
        }
        return Convert.ToHexString(document);
    }

    /// <summary>The bytes the column holds after the transformer (hex), or "fails" for its own exception.</summary>
    static string Outcome(Transformer transformer, byte[] document)
    {
        var output = new ArrayBufferWriter<byte>();
        try
        {
            return transformer.Transform(document, false, EmptyRowContext.Instance, output) == TransformResult.Value
                ? Convert.ToHexString(output.WrittenSpan)
                : Convert.ToHexString(document);
        }
        catch (TransformerException)
        {
            return "fails";
        }
    }

    static object Inner(string name) => name switch
    {
        "constant" => new Dictionary<string, object?> { ["transformer"] = "constant", ["options"] = new Dictionary<string, object?> { ["value"] = "c" } },
        "seven" => new Dictionary<string, object?> { ["transformer"] = "constant", ["options"] = new Dictionary<string, object?> { ["value"] = "7" } }, // reads as a number
        _ => name,
    };

    /// <summary>What a transformer wrote is still one JSON value (its bytes may still hold what the path did not reach).</summary>
    static void AssertWellFormed(ReadOnlySpan<byte> json, string path)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 1024 });
        try
        {
            while (reader.Read())
            {
            }
        }
        catch (JsonException e)
        {
            Assert.Fail($"path {path}: output is not JSON ({e.Message}): {Convert.ToHexString(json)}");
        }
    }

    static Gen<byte[]> Value(int depth) =>
        depth >= 4 ? s_scalar : Gen.Frequency((4, s_scalar), (2, JsonObject(depth)), (1, JsonArray(depth)));

    /// <summary>Up to four members, separated by ',' or ', '.</summary>
    static Gen<byte[]> JsonObject(int depth) =>
        Gen.Select(Gen.Bool, s_name, Value(depth + 1), (spaced, name, value) => (spaced, name, value)).Array[0, 4]
            .Select(members =>
            {
                var bytes = new List<byte> { (byte)'{' };
                for (var m = 0; m < members.Length; m++)
                {
                    if (m > 0)
                    {
                        Append(bytes, members[m].spaced ? ", " : ",");
                    }
                    bytes.Add((byte)'"');
                    bytes.AddRange(members[m].name);
                    Append(bytes, "\": ");
                    bytes.AddRange(members[m].value);
                }
                bytes.Add((byte)'}');
                return bytes.ToArray();
            });

    /// <summary>Up to three items.</summary>
    static Gen<byte[]> JsonArray(int depth) =>
        Value(depth + 1).Array[0, 3].Select(items =>
        {
            var bytes = new List<byte> { (byte)'[' };
            for (var m = 0; m < items.Length; m++)
            {
                if (m > 0)
                {
                    bytes.Add((byte)',');
                }
                bytes.AddRange(items[m]);
            }
            bytes.Add((byte)']');
            return bytes.ToArray();
        });

    /// <summary>One edit of a document at <see cref="At"/> (modulo its length).</summary>
    readonly record struct Mutation(int Kind, int At, int Length, byte Value);

    static byte[] Apply(byte[] document, Mutation[] mutations)
    {
        var bytes = document.ToList();
        foreach (var mutation in mutations)
        {
            if (bytes.Count == 0)
            {
                break;
            }
            var at = mutation.At % bytes.Count;
            switch (mutation.Kind)
            {
                case 0:
                    bytes[at] = mutation.Value;
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(mutation.Length, bytes.Count - at));
                    break;
                case 2:
                    bytes.InsertRange(at, Utf8((mutation.Value % 4) switch { 0 => "\\ud800", 1 => "\\", 2 => "\"", _ => "{" }));
                    break;
                case 3:
                    bytes.InsertRange(at, s_rawNames[mutation.Value % s_rawNames.Length]);
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at); // truncated
                    break;
            }
        }
        return [.. bytes];
    }

    static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    static void Append(List<byte> bytes, string text) => bytes.AddRange(Encoding.UTF8.GetBytes(text));
}
