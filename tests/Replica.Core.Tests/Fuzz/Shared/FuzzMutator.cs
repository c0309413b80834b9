using System.Text;

namespace Replica.Core.Tests.Fuzz;

/// <summary>
/// A seeded, dictionary-aware byte mutator (the havoc stage of afl, in small): each case stacks a few edits on one
/// seed: bit flips, random and special bytes, deletions, insertions of the target's tokens, duplicated ranges, splices
/// with another seed, truncation, and long repeats (deep nesting, long tokens). Shared by the CI test and bench/Replica.Fuzz.
/// </summary>
public sealed class FuzzMutator(Random random, IReadOnlyList<byte[]> seeds, IReadOnlyList<byte[]> tokens)
{
    /// <summary>The tokens as UTF-8, and byte sequences that are not UTF-8 (a stray continuation byte, a lone surrogate, a truncated sequence).</summary>
    public static byte[][] Tokens(params string[] tokens) => [.. tokens.Select(Encoding.UTF8.GetBytes), [0xFF], [0x80], [0xC3], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98]];

    public byte[] Next(out int seedIndex)
    {
        seedIndex = random.Next(seeds.Count);
        var data = new List<byte>(seeds[seedIndex]);
        // Mostly few edits, so that most cases get deep into the input; sometimes many.
        var edits = random.Next(4) == 0 ? random.Next(1, 32) : random.Next(1, 5);
        for (var e = 0; e < edits; e++)
        {
            Mutate(data);
        }
        return [.. data];
    }

    void Mutate(List<byte> data)
    {
        var at = data.Count == 0 ? 0 : random.Next(data.Count + 1);
        var inside = Math.Min(at, Math.Max(0, data.Count - 1));
        switch (random.Next(11))
        {
            case 0 when data.Count > 0:
                data[inside] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[inside] = (byte)random.Next(256);
                break;
            case 2 when data.Count > 0:
                data.RemoveRange(inside, Math.Min(data.Count - inside, 1 + random.Next(random.Next(2) == 0 ? 4 : 64)));
                break;
            case 3:
            case 4:
            case 5:
                data.InsertRange(at, tokens[random.Next(tokens.Count)]);
                break;
            case 6 when data.Count > 0:
            {
                var from = random.Next(data.Count);
                var length = Math.Min(data.Count - from, 1 + random.Next(128));
                data.InsertRange(at, data.GetRange(from, length));
                break;
            }
            case 7:
            {
                // Splice: this input up to here, another seed from a random point on.
                var other = seeds[random.Next(seeds.Count)];
                var from = other.Length == 0 ? 0 : random.Next(other.Length);
                data.RemoveRange(at, data.Count - at);
                data.AddRange(other.AsSpan(from, Math.Min(other.Length - from, 4096)).ToArray());
                break;
            }
            case 8 when data.Count > 0:
                data.RemoveRange(at, data.Count - at);
                break;
            case 9:
            {
                var token = tokens[random.Next(tokens.Count)];
                var count = random.Next(2) == 0 ? random.Next(2, 16) : random.Next(100, 3000);
                var repeated = new byte[token.Length * count];
                for (var i = 0; i < count; i++)
                {
                    token.CopyTo(repeated, i * token.Length);
                }
                data.InsertRange(at, repeated);
                break;
            }
            default:
            {
                var bytes = new byte[1 + random.Next(8)];
                random.NextBytes(bytes);
                data.InsertRange(at, bytes);
                break;
            }
        }
    }
}
