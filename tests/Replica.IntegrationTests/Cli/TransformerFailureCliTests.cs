using System.Text.Json;

namespace Replica.IntegrationTests.Cli;

/// <summary>A transformer that fails on a value stops `replica dump` with exit 6 and the value's position; nothing is listed.</summary>
public sealed class TransformerFailureCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    const string PgDump = """
        CREATE TABLE public.events (
            id integer,
            happened date,
            doc json
        );

        COPY public.events (id, happened, doc) FROM stdin;
        1	2024-01-31	{"email": "a@b.org"}
        2	31/01/2024	{"email": "\\ud800"}
        \.

        """;

    const string MySqlDump = """
        CREATE TABLE `events` (
          `id` int,
          `happened` date
        ) ENGINE=InnoDB;
        INSERT INTO `events` VALUES (1,'2024-01-31'),(2,'31/01/2024');

        """;

    string Config(string column, string transformer) => _cli.WriteConfig($$"""
        secret: ${REPLICA_SECRET}
        bridge:
          local: { path: {{_cli.BridgePath}} }
        transformers:
          - table: "*.events"
            columns:
              {{column}}: {{transformer}}
        """, $"{column}.yaml");

    [Theory]
    [InlineData("PostgreSql", "happened", "date-shift", 168, 9, "public.events",
        "date-shift expects ISO dates such as 2024-01-31 or 2024-01-31 12:00:00+00 (PostgreSQL's DateStyle ISO, as pg_dump writes them) and got a date value in another format.")]
    [InlineData("MySql", "happened", "date-shift", 119, 5, "`events`",
        "date-shift expects ISO dates such as 2024-01-31 or 2024-01-31 12:00:00+00 (PostgreSQL's DateStyle ISO, as pg_dump writes them) and got a date value in another format.")]
    [InlineData("PostgreSql", "doc", "{ transformer: json, options: { path: email, transformer: email } }", 179, 9, "public.events",
        "the json transformer's path reaches a string at byte 10 of the value that is not valid UTF-8 or holds a lone surrogate escape (such as \\ud800), so it has no text to transform")]
    public async Task Dump_TransformerFailsOnAValue_Exits6WithPositionAndListsNothing(string dialect, string column, string transformer, long offset, long line, string table, string reason)
    {
        var config = Config(column, transformer);
        var input = Path.Combine(_cli.WorkingDirectory, "input.sql");
        await File.WriteAllTextAsync(input, dialect == "MySql" ? MySqlDump : PgDump);

        var result = await _cli.RunAsync("dump", "-c", config, "--input", input, "--dialect", dialect, "--name", "failed");

        Assert.True(result.ExitCode == 6, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Equal($"replica: transformer failure at line {line}, byte offset {offset}, table {table}, row 2, column {column}: {reason}", result.Stderr.Trim());
        Assert.DoesNotContain("31/01", result.Stderr);
        Assert.Equal("", result.Stdout.Trim());
        var list = await _cli.RunAsync("list", "-c", config, "--json");
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Empty(JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray());
        Assert.False(Directory.Exists(Path.Combine(_cli.BridgePath, "failed")), "the failed dump left its folder behind");
    }
}
