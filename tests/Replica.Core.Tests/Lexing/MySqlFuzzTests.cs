using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Lexing;

/// <summary>Seeded fuzzing of the MySQL dialect, like <see cref="FuzzTests"/> for PostgreSQL dumps.</summary>
public class MySqlFuzzTests
{
    static readonly string[] s_values =
    [
        "NULL", "42", "-7", "3.25", "0x00FF", "X'41'", "_binary 'a\\0b'", "''", "'it\\'s'", "'a''b'", "\"dq\\\"x\"",
        "'semi;colon'", "'-- x'", "'# y'", "'/* z */'", "'back\\\\slash'", "'\\Z\\r\\n\\t'", "'ünï 😀'", "'`tick`'", "'*/;;'",
    ];

    static byte[] RandomDump(Random random)
    {
        var sb = new StringBuilder();
        sb.Append("/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump\n--\n-- Host: localhost    Database: fz\n\n");
        sb.Append("/*!40101 SET NAMES utf8mb4 */;\n# a hash comment; with 'quote\n");
        var tables = random.Next(1, 4);
        for (var t = 0; t < tables; t++)
        {
            var columns = random.Next(1, 5);
            var names = Enumerable.Range(0, columns).Select(i => random.Next(3) == 0 ? $"`c``{i}`" : $"`c{i}`").ToList();
            sb.Append($"DROP TABLE IF EXISTS `t{t}`;\nCREATE TABLE `t{t}` (\n{string.Join(",\n", names.Select(n => $"  {n} varchar(20) DEFAULT NULL COMMENT 'x;y'"))},\n  UNIQUE KEY `u` ({names[0]})\n) ENGINE=InnoDB;\n");
            sb.Append($"LOCK TABLES `t{t}` WRITE;\n/*!40000 ALTER TABLE `t{t}` DISABLE KEYS */;\n");
            var statements = random.Next(0, 3);
            for (var s = 0; s < statements; s++)
            {
                var rows = Enumerable.Range(0, random.Next(1, 4))
                    .Select(_ => "(" + string.Join(",", names.Select(_ => s_values[random.Next(s_values.Length)])) + ")");
                var list = random.Next(2) == 0 ? "" : $" ({string.Join(", ", names)})";
                sb.Append($"INSERT INTO `t{t}`{list} VALUES {string.Join(",\n", rows)};\n");
            }
            sb.Append($"/*!40000 ALTER TABLE `t{t}` ENABLE KEYS */;\nUNLOCK TABLES;\n");
            if (random.Next(2) == 0)
            {
                sb.Append($"DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER tr{t} BEFORE INSERT ON `t{t}` FOR EACH ROW BEGIN SET @x = ';*/'; -- c;\nEND */;;\nDELIMITER ;\n");
            }
        }
        sb.Append("/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\n-- Dump completed\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Rewrite_MySqlRandomValidDumps_PassThroughAtRandomSplits()
    {
        await Task.Run(() =>
        {
            var random = new Random(20261122);
            for (var i = 0; i < 300; i++)
            {
                var dump = RandomDump(random);
                var splits = Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(1, dump.Length)).Distinct().Order().ToList();
                Assert.Equal(dump, Rewrite(dump, splits: splits, dialect: SqlDialect.MySql));
                // Not every value is written as mysqldump would ('a''b', "dq", X'41'), so a decode and encode may change
                // its spelling, but never differently at another split.
                Assert.Equal(Rewrite(dump, Rules("*.*=same"), dialect: SqlDialect.MySql), Rewrite(dump, Rules("*.*=same"), splits, dialect: SqlDialect.MySql));
                var whole = Rewrite(dump, Rules("*.*=upper"), dialect: SqlDialect.MySql);
                Assert.Equal(whole, Rewrite(dump, Rules("*.*=upper"), splits, dialect: SqlDialect.MySql));
            }
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task Rewrite_MySqlRandomMutations_FailOnlyWithPositionedErrors()
    {
        await Task.Run(() =>
        {
            var random = new Random(4243);
            byte[] interesting = "\t\n\\'\"`;-#/*!(),.xX0M\r"u8.ToArray();
            var failures = 0;
            var passes = 0;
            for (var i = 0; i < 2000; i++)
            {
                var mutated = RandomDump(random).ToList();
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
                foreach (var rules in new[] { null, Rules("*.*=upper") })
                {
                    try
                    {
                        Rewrite(bytes, rules, [random.Next(1, Math.Max(2, bytes.Length))], dialect: SqlDialect.MySql);
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
            Assert.True(failures > 100 && passes > 100, $"{failures} failures, {passes} passes");
        });
    }
}
