using System.Buffers;
using System.Text;
using System.Text.Json;
using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

/// <summary>
/// Seeded fuzzing of the json transformer over random and mutated documents, with lone surrogate escapes and invalid
/// UTF-8 among the strings and names (a json column keeps both): a value either transforms or fails with the
/// transformer's own <see cref="TransformerException"/>, never anything else (an unhandled exception ends the process).
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

    [Fact(Timeout = 120_000)]
    public async Task Json_RandomAndMutatedDocuments_TransformOrFailWithTransformerExceptionOnly()
    {
        await Task.Run(() =>
        {
            var transformers = s_rules.Select(r => Create(Spec("json", ("path", r.Path), ("transformer", Inner(r.Inner))), Column(TypeCategory.Json, "json"))).ToList();
            var random = new Random(20261202);
            var output = new ArrayBufferWriter<byte>();
            var failures = 0;
            var transformed = 0;
            try
            {
                for (var i = 0; i < 4000; i++)
                {
                    var document = RandomDocument(random);
                    var mutated = i % 3 != 0 ? document : Mutate(document, random);
                    foreach (var transformer in transformers)
                    {
                        output.ResetWrittenCount();
                        try
                        {
                            if (transformer.Transform(mutated, false, EmptyRowContext.Instance, output) == TransformResult.Value)
                            {
                                transformed++;
                                AssertWellFormed(output.WrittenSpan, mutated);
                            }
                        }
                        catch (TransformerException)
                        {
                            failures++;
                        }
                        catch (Exception e)
                        {
                            Assert.Fail($"seed 20261202, document {i}: {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(mutated)}");
                        }
                    }
                }
            }
            finally
            {
                transformers.ForEach(t => t.Dispose());
            }
            // The generator reaches both outcomes often, or the test proves little.
            Assert.True(transformed > 2000 && failures > 2000, $"transformed {transformed}, failed {failures}");
        });
    }

    static object Inner(string name) => name switch
    {
        "constant" => new Dictionary<string, object?> { ["transformer"] = "constant", ["options"] = new Dictionary<string, object?> { ["value"] = "c" } },
        _ => name,
    };

    /// <summary>What a transformer wrote is still one JSON value (its bytes may still hold what the path did not reach).</summary>
    static void AssertWellFormed(ReadOnlySpan<byte> json, byte[] input)
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
            Assert.Fail($"output is not JSON ({e.Message}) for input {Convert.ToHexString(input)}: {Convert.ToHexString(json)}");
        }
    }

    static byte[] RandomDocument(Random random)
    {
        var bytes = new List<byte>();
        WriteValue(bytes, random, 0, random.Next(4) == 0 ? 6 : 4); // an array or, mostly, an object
        return [.. bytes];
    }

    static void WriteValue(List<byte> bytes, Random random, int depth, int? kind = null)
    {
        switch (kind ?? random.Next(depth >= 4 ? 4 : 7))
        {
            case 0:
                WriteString(bytes, random);
                break;
            case 1:
                Append(bytes, random.Next(3) switch { 0 => "42", 1 => "-0.5e3", _ => "12345678901234567890" });
                break;
            case 2:
                Append(bytes, random.Next(3) switch { 0 => "true", 1 => "false", _ => "null" });
                break;
            case 3:
                WriteString(bytes, random);
                break;
            case 4:
            case 5:
            {
                bytes.Add((byte)'{');
                var members = random.Next(0, 5);
                for (var m = 0; m < members; m++)
                {
                    if (m > 0)
                    {
                        Append(bytes, random.Next(2) == 0 ? "," : ", ");
                    }
                    bytes.Add((byte)'"');
                    if (random.Next(6) == 0)
                    {
                        bytes.AddRange(s_rawNames[random.Next(s_rawNames.Length)]);
                    }
                    else
                    {
                        Append(bytes, s_names[random.Next(s_names.Length)]);
                    }
                    Append(bytes, "\": ");
                    WriteValue(bytes, random, depth + 1);
                }
                bytes.Add((byte)'}');
                break;
            }
            default:
            {
                bytes.Add((byte)'[');
                var items = random.Next(0, 4);
                for (var m = 0; m < items; m++)
                {
                    if (m > 0)
                    {
                        bytes.Add((byte)',');
                    }
                    WriteValue(bytes, random, depth + 1);
                }
                bytes.Add((byte)']');
                break;
            }
        }
    }

    static void WriteString(List<byte> bytes, Random random)
    {
        bytes.Add((byte)'"');
        if (random.Next(5) == 0)
        {
            bytes.AddRange(s_rawNames[random.Next(s_rawNames.Length)]);
        }
        Append(bytes, s_strings[random.Next(s_strings.Length)]);
        bytes.Add((byte)'"');
    }

    static byte[] Mutate(byte[] document, Random random)
    {
        var bytes = document.ToList();
        var count = random.Next(1, 3);
        for (var k = 0; k < count && bytes.Count > 0; k++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 4), bytes.Count - at));
                    break;
                case 2:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(random.Next(4) switch { 0 => "\\ud800", 1 => "\\", 2 => "\"", _ => "{" }));
                    break;
                case 3:
                    bytes.InsertRange(at, s_rawNames[random.Next(s_rawNames.Length)]);
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at); // truncated
                    break;
            }
        }
        return [.. bytes];
    }

    static void Append(List<byte> bytes, string text) => bytes.AddRange(Encoding.UTF8.GetBytes(text));
}
