using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Lexing;

/// <summary>
/// Seeded fuzzing: random valid dumps must pass through unchanged at random split points; random mutations of them must
/// either pass or fail with the positioned <see cref="DumpFormatException"/>, never crash or hang.
/// </summary>
public class FuzzTests
{
    static readonly string[] s_words = ["alice", "o'neil", "tab\\there", "new\\nline", "back\\\\slash", "\\N", "", "ünï", "😀", "a;b", "--x", "/*y*/", "$$", "\\x41\\101"];

    static byte[] RandomDump(Random random)
    {
        var sb = new StringBuilder();
        sb.Append("--\n-- fuzz dump\n--\n\nSET standard_conforming_strings = on;\n");
        var tables = random.Next(1, 4);
        for (var t = 0; t < tables; t++)
        {
            var columns = random.Next(0, 5);
            var names = Enumerable.Range(0, columns).Select(i => random.Next(3) == 0 ? $"\"Col {i}\"" : $"c{i}").ToList();
            sb.Append($"CREATE TABLE public.t{t} (\n{string.Join(",\n", names.Select(n => $"    {n} text"))}\n);\n\n");
            if (random.Next(2) == 0)
            {
                sb.Append($"CREATE FUNCTION public.f{t}() RETURNS text AS $_$ SELECT 'COPY public.t{t} FROM stdin;\n\\.' /* ; */ $_$ LANGUAGE sql;\n");
            }
            sb.Append($"COPY public.t{t} ({string.Join(", ", names)}) FROM stdin;\n");
            var rows = random.Next(0, 6);
            for (var r = 0; r < rows; r++)
            {
                sb.Append(string.Join('\t', names.Select(_ => s_words[random.Next(s_words.Length)])));
                sb.Append('\n');
            }
            sb.Append("\\.\n\n");
            if (columns > 0)
            {
                var values = string.Join(", ", names.Select(_ => random.Next(4) switch
                {
                    0 => "NULL",
                    1 => "42",
                    2 => "E'x\\'y\\\\z'",
                    _ => "'it''s; \"q\"'",
                }));
                sb.Append($"INSERT INTO public.t{t} ({string.Join(", ", names)}) VALUES ({values}), ({values});\n");
            }
        }
        sb.Append("\\unrestrict key\n-- done\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Rewrite_RandomValidDumps_PassThroughAtRandomSplits()
    {
        await Task.Run(() =>
        {
            var random = new Random(20261121);
            for (var i = 0; i < 300; i++)
            {
                var dump = RandomDump(random);
                var splits = Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(1, dump.Length)).Distinct().Order().ToList();
                Assert.Equal(dump, Rewrite(dump, splits: splits));
                // With a rule on every column, the rewrite must also be the same at any split.
                var rules = Rules("public.*.*=upper");
                Assert.Equal(Rewrite(dump, Rules("public.*.*=upper")), Rewrite(dump, rules, splits));
            }
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task Rewrite_RandomMutations_FailOnlyWithPositionedErrors()
    {
        await Task.Run(() =>
        {
            var random = new Random(4242);
            byte[] interesting = "\t\n\\'\"$;-/*.N\r"u8.ToArray();
            var failures = 0;
            var passes = 0;
            for (var i = 0; i < 2000; i++)
            {
                var dump = RandomDump(random);
                var mutated = dump.ToList();
                var edits = random.Next(1, 4);
                for (var e = 0; e < edits && mutated.Count > 0; e++)
                {
                    var at = random.Next(mutated.Count);
                    switch (random.Next(3))
                    {
                        case 0: mutated.RemoveAt(at); break;
                        case 1: mutated.Insert(at, interesting[random.Next(interesting.Length)]); break;
                        default: mutated[at] = (byte)random.Next(256); break;
                    }
                }
                var bytes = mutated.ToArray();
                foreach (var rules in new[] { null, Rules("public.*.*=upper") })
                {
                    try
                    {
                        Rewrite(bytes, rules, [random.Next(1, Math.Max(2, bytes.Length))]);
                        passes++;
                    }
                    catch (DumpFormatException e)
                    {
                        Assert.True(e.ByteOffset >= 0 && e.ByteOffset <= bytes.Length, $"offset {e.ByteOffset} outside the dump");
                        Assert.True(e.LineNumber >= 1);
                        failures++;
                    }
                }
            }
            // Both outcomes must occur, or the mutations test nothing.
            Assert.True(failures > 100 && passes > 100, $"{failures} failures, {passes} passes");
        });
    }
}
