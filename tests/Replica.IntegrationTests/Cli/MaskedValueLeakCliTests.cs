namespace Replica.IntegrationTests.Cli;

/// <summary>`replica dump --input` with a template that reads a column which is a template itself: the stored dump holds no real value.</summary>
public sealed class MaskedValueLeakCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    const string PgDump = """
        CREATE TABLE public.people (
            id integer,
            first_name text,
            full_name text,
            greeting text
        );

        COPY public.people (id, first_name, full_name, greeting) FROM stdin;
        1	Jane	Jane Roe	Dear Jane Roe
        \.

        INSERT INTO public.people VALUES (2, 'Ezekiel', 'Ezekiel Moss', 'Dear Ezekiel Moss');

        """;

    [Fact]
    public async Task Dump_TemplateReadsAColumnThatIsATemplate_StoredDumpHoldsNoRealName()
    {
        var config = _cli.WriteConfig($$$"""
            secret: ${REPLICA_SECRET}
            bridge:
              local: { path: {{{_cli.BridgePath}}} }
            transformers:
              - table: public.people
                columns:
                  first_name: { transformer: constant, options: { value: Ann } }
                  full_name: { transformer: template, options: { template: '{{first_name}} Doe' } }
                  greeting: { transformer: template, options: { template: 'Dear {{full_name}}' } }
            """);
        var input = Path.Combine(_cli.WorkingDirectory, "input.sql");
        await File.WriteAllTextAsync(input, PgDump);
        var restored = Path.Combine(_cli.WorkingDirectory, "restored.sql");

        var dump = await _cli.RunAsync("dump", "-c", config, "--input", input, "--dialect", "PostgreSql", "--name", "people", "-q");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "people", "--output", restored, "-q");
        Assert.True(restore.ExitCode == 0, restore.Stderr);

        var text = await File.ReadAllTextAsync(restored);
        Assert.Contains("1\tAnn\tAnn Doe\tDear Ann Doe\n", text);
        Assert.Contains("(2, 'Ann', 'Ann Doe', 'Dear Ann Doe');", text);
        foreach (var real in new[] { "Jane", "Roe", "Ezekiel", "Moss" })
        {
            Assert.DoesNotContain(real, text);
        }
    }
}
