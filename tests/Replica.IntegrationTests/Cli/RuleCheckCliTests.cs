
namespace Replica.IntegrationTests.Cli;

/// <summary>
/// `replica dump` with rules that match nothing, strict mode on a dump file or stdin, and a custom command that breaks
/// its protocol: each fails before anything is listed, leaving earlier dumps intact and no leftovers.
/// </summary>
public sealed class RuleCheckCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static string SampleDump => TestPaths.Example("sample-dump.sql");

    static string ExampleConfig => File.ReadAllText(TestPaths.Example("replica.yaml"));

    string Config(string body) => _cli.WriteConfig(body
        .Replace("secret: ${REPLICA_SECRET:-replica-example-secret}", "secret: ${REPLICA_SECRET}", StringComparison.Ordinal)
        .Replace("path: ./replica-bridge", $"path: {_cli.BridgePath}", StringComparison.Ordinal), $"config-{Guid.NewGuid():N}.yaml");

    void AssertOnlyListed(string config, params string[] names)
    {
        Assert.Equal(names, _cli.ListedNamesAsync(config).GetAwaiter().GetResult());
        var folders = Directory.Exists(_cli.BridgePath)
            ? Directory.EnumerateDirectories(_cli.BridgePath).Select(Path.GetFileName).Order().ToArray()
            : [];
        Assert.Equal(names.Order().ToArray(), folders);
    }

    [Fact]
    public async Task Dump_RuleForMissingColumn_ExitsWith2NamingRuleLineAndClosestNameAndListsNothing()
    {
        var good = Config(ExampleConfig);
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", good, "--input", SampleDump, "--name", "good")).ExitCode);
        var typo = Config(ExampleConfig.Replace("      phone: phone-number", "      phon: phone-number", StringComparison.Ordinal));

        var result = await _cli.RunAsync("dump", "-c", typo, "--input", SampleDump, "--name", "typo");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(":25:7: the rule for column phon of table public.customers matches no column of public.customers (did you mean 'phone'?)", result.Stderr);
        Assert.Equal("", result.Stdout);
        AssertOnlyListed(typo, "good");
    }

    [Fact]
    public async Task Dump_RuleForMissingTableFromStdin_ExitsWith2AtTheEndAndListsNothing()
    {
        var typo = Config(ExampleConfig.Replace("  - table: public.orders\n", "  - table: public.ordres\n", StringComparison.Ordinal));
        await using var input = File.OpenRead(SampleDump);

        var result = await _cli.RunAsync(["dump", "-c", typo, "--input", "-", "--name", "typo"], input);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(":32:5: the rule for table public.ordres matches no table of this dump (did you mean public.orders?)", result.Stderr);
        AssertOnlyListed(typo);
    }

    [Theory]
    [InlineData("$.contact.emial: email, $.contcat.phone: phone-number", "$.contact.emial")]
    [InlineData("$.contact.Email: email, $.contact.phone: phone-number", "$.contact.Email")]
    public async Task Dump_JsonPathInNoDocument_ExitsWith2NamingThePathAndListsNothing(string paths, string missing)
    {
        // A misspelt json path masked nothing and passed with exit 0, the real e-mail addresses stored in clear.
        var typo = Config(ExampleConfig.Replace("$.contact.email: email, $.contact.phone: phone-number", paths, StringComparison.Ordinal));

        var result = await _cli.RunAsync("dump", "-c", typo, "--input", SampleDump, "--name", "typo");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($":48:7: the json path {missing} of the rule for column metadata of table public.support_tickets matches no string, number or null", result.Stderr);
        Assert.Equal("", result.Stdout);
        AssertOnlyListed(typo);

        var warned = Config("unmatched_rules: warn\n" + File.ReadAllText(typo));
        var dump = await _cli.RunAsync("dump", "-c", warned, "--input", SampleDump, "--name", "warned", "--quiet");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Contains($"replica: warning: ", dump.Stderr);
        Assert.Contains($"the json path {missing} of the rule for column metadata", dump.Stderr);
        AssertOnlyListed(warned, "warned");
    }

    [Fact]
    public async Task Dump_UnmatchedRulesWarn_CompletesAndWarnsEvenWithQuiet()
    {
        var config = Config("unmatched_rules: warn\n" + ExampleConfig.Replace("      phone: phone-number", "      phon: phone-number", StringComparison.Ordinal));

        var result = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "warned", "--quiet");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("replica: warning: ", result.Stderr);
        Assert.Contains("the rule for column phon of table public.customers matches no column of public.customers (did you mean 'phone'?); it masked nothing", result.Stderr);
        AssertOnlyListed(config, "warned");

        var loud = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "loud");
        var lines = loud.Stderr.Split('\n');
        Assert.True(Array.FindIndex(lines, l => l.StartsWith("replica: warning:", StringComparison.Ordinal))
            < Array.FindIndex(lines, l => l.Contains(" complete in ", StringComparison.Ordinal)), loud.Stderr);
    }

    [Fact]
    public async Task Dump_StrictFromStdin_UncoveredColumn_ExitsWith2AndStoresNothing()
    {
        // No source.connection_uri: strict mode reads the columns from the dump's own CREATE TABLE statements.
        var config = Config("policy: strict\n" + ExampleConfig.Replace("      phone: phone-number\n", "", StringComparison.Ordinal));
        await using var input = File.OpenRead(SampleDump);

        var result = await _cli.RunAsync(["dump", "-c", config, "--input", "-", "--name", "strict"], input);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("strict mode: ", result.Stderr);
        Assert.Contains("public.customers.phone (", result.Stderr);
        AssertOnlyListed(config);

        // --strict on the command line does the same for a file; with every column covered the dump passes.
        var flagged = await _cli.RunAsync("dump", "-c", Config(ExampleConfig.Replace("      phone: phone-number\n", "", StringComparison.Ordinal)), "--input", SampleDump, "--strict");
        Assert.Equal(2, flagged.ExitCode);
        Assert.Contains("public.customers.phone (", flagged.Stderr);
        var covered = await _cli.RunAsync("dump", "-c", Config(ExampleConfig), "--input", SampleDump, "--strict", "--name", "covered");
        Assert.True(covered.ExitCode == 0, covered.Stderr);
    }

    [Fact]
    public async Task Dump_CustomCommandPrintingExtraLines_ExitsWith6AndListsNothing()
    {
        var script = Path.Combine(_cli.WorkingDirectory, "mask.sh");
        await File.WriteAllTextAsync(script, "while read l; do echo masked; done\necho leftover\n");
        var config = Config(ExampleConfig.Replace("      city: city", $"      city: {{ transformer: custom, options: {{ command: [/bin/sh, {script}] }} }}", StringComparison.Ordinal));

        var result = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "shifted");

        Assert.Equal(6, result.ExitCode);
        Assert.Contains("public.customers.city", result.Stderr);
        Assert.Contains("printed 1 line more than the", result.Stderr);
        AssertOnlyListed(config);
    }
}
