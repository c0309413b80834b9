using System.Text.Json;
using System.Text.RegularExpressions;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Cli;

/// <summary>
/// `replica leakcheck` as a user runs it: against the original dump file and against the live source database, with the
/// quickstart config (no leaks, exit 0) and a deliberately leaky one (exit 8 naming the columns, no original printed).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class LeakCheckCliTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static string SampleDump => TestPaths.Example("sample-dump.sql");

    /// <summary>The quickstart's rules, but customers.email is a transient keep and a template copies it into street.</summary>
    string LeakyConfig() => _cli.WriteConfig(File.ReadAllText(TestPaths.Example("replica.yaml"))
        .Replace("secret: ${REPLICA_SECRET:-replica-example-secret}", "secret: ${REPLICA_SECRET}")
        .Replace("path: ./replica-bridge", $"path: {_cli.BridgePath}")
        .Replace("email: { transformer: email, unique: true }", "email: transient")
        .Replace("street: street-address", "street: { transformer: template, options: { template: '{{email}}' } }"), "leaky.yaml");

    async Task DumpAsync(string config)
    {
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "-q");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}")]
    private static partial Regex EmailPattern();

    [Fact]
    public async Task LeakCheck_QuickstartConfig_ExitsZeroWithNoLeaks()
    {
        var config = _cli.WriteConfig();
        await DumpAsync(config);

        var result = await _cli.RunAsync("leakcheck", "-c", config, "--latest", "--input", SampleDump);

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("no leaks", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("public.customers.city (city, by primary key (id)): 0 of 50 unchanged", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LeakCheck_LeakyConfig_Exits8NamingTheLeakingColumnAndPrintsNoOriginal()
    {
        var config = LeakyConfig();
        await DumpAsync(config);

        var text = await _cli.RunAsync("leakcheck", "-c", config, "--latest", "--input", SampleDump);
        var json = await _cli.RunAsync("leakcheck", "-c", config, "--latest", "--input", SampleDump, "--json", "--memory", "1KiB");

        Assert.Equal(8, text.ExitCode);
        Assert.Contains("public.customers.street (template, by primary key (id)): 0 of 50 unchanged, 50 copied from email: LEAK: 50 values", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("unchecked (transient, reviewed keeps): public.customers.email", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("50 leaked values in 1 column", text.Stdout, StringComparison.Ordinal);
        var originals = EmailPattern().Matches(File.ReadAllText(SampleDump)).Select(m => m.Value).ToHashSet();
        Assert.True(originals.Count > 40);
        Assert.DoesNotContain(originals, e => text.Stdout.Contains(e, StringComparison.Ordinal) || json.Stdout.Contains(e, StringComparison.Ordinal));

        Assert.Equal(8, json.ExitCode);
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("leakcheck", report.GetProperty("command").GetString());
        Assert.Equal(50, report.GetProperty("leaks").GetInt64());
        Assert.True(report.GetProperty("spilled_bytes").GetInt64() > 0);
        var street = report.GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("column").GetString() == "street");
        Assert.Equal(("public.customers", 50L, "email"), (street.GetProperty("table").GetString(), street.GetProperty("leaks").GetInt64(),
            street.GetProperty("copied_from")[0].GetString()));
        Assert.Equal(["public.customers.email"], report.GetProperty("unchecked").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task LeakCheck_InputFromStandardInput_FindsWhatTheFileShows()
    {
        var config = LeakyConfig();
        await DumpAsync(config);

        var file = await _cli.RunAsync("leakcheck", "-c", config, "--latest", "--input", SampleDump, "--json");
        await using var stdin = File.OpenRead(SampleDump);
        var piped = await _cli.RunAsync(["leakcheck", "-c", config, "--latest", "--input", "-", "--json"], stdin);

        Assert.Equal(8, piped.ExitCode);
        // What the rows say (the chance estimates draw a hash key per run, so they vary in their last digits).
        static string Columns(string json) => string.Join("\n", JsonDocument.Parse(json).RootElement.GetProperty("columns").EnumerateArray()
            .Select(c => $"{c.GetProperty("table")} {c.GetProperty("column")} {c.GetProperty("compared")} {c.GetProperty("unchanged")} {c.GetProperty("copied")}"));
        var report = JsonDocument.Parse(piped.Stdout).RootElement;
        Assert.Equal(50, report.GetProperty("leaks").GetInt64());
        Assert.Equal(375, report.GetProperty("original_rows").GetInt64());
        Assert.Equal(Columns(file.Stdout), Columns(piped.Stdout));
    }

    [Fact]
    public async Task LeakCheck_Everywhere_QuickstartMasksTheJsonPhonesToo_AnEmailOnlyRuleLeavesThem()
    {
        // The quickstart masks customers.phone and, in support_tickets.metadata, both $.contact.email and $.contact.phone.
        var config = _cli.WriteConfig();
        await DumpAsync(config);

        var clean = await _cli.RunAsync("leakcheck", "-c", config, "--latest", "--input", SampleDump, "--everywhere", "--json");

        Assert.True(clean.ExitCode == 0, clean.Stderr);
        Assert.Equal(0, JsonDocument.Parse(clean.Stdout).RootElement.GetProperty("everywhere").GetProperty("found").GetInt64());

        // With the e-mail alone masked in that JSON (the quickstart before 2026-12-03), the same people's phone numbers stay there.
        const string both = "paths: { $.contact.email: email, $.contact.phone: phone-number }";
        string quickstart = await File.ReadAllTextAsync(config);
        Assert.Contains(both, quickstart, StringComparison.Ordinal);
        var emailOnly = _cli.WriteConfig(quickstart.Replace(both, "path: $.contact.email, transformer: email", StringComparison.Ordinal), "email-only.yaml");
        await DumpAsync(emailOnly);

        var result = await _cli.RunAsync("leakcheck", "-c", emailOnly, "--latest", "--input", SampleDump, "--everywhere", "--json");

        Assert.Equal(8, result.ExitCode);
        var report = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.All(report.GetProperty("columns").EnumerateArray(), c => Assert.Equal(0, c.GetProperty("leaks").GetInt64()));
        var everywhere = report.GetProperty("everywhere");
        Assert.True(everywhere.GetProperty("found").GetInt64() > 0);
        Assert.Equal(everywhere.GetProperty("found").GetInt64(), everywhere.GetProperty("found_by_kind").GetProperty("phone").GetInt64());
        Assert.DoesNotContain("555-01", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LeakCheck_LiveSourceDatabase_FindsWhatTheDumpFileShows()
    {
        var db = await server.CreateDatabaseAsync();
        Assert.Equal(0, (await server.RunPsqlFileAsync(db, SampleDump)).ExitCode);
        var leaky = LeakyConfig();
        await DumpAsync(leaky);

        var live = await _cli.RunAsync("leakcheck", "-c", leaky, "--latest", "--source", server.PasswordUri(db), "--json");
        var file = await _cli.RunAsync("leakcheck", "-c", leaky, "--latest", "--input", SampleDump, "--json");

        Assert.True(live.ExitCode == 8, live.Stderr);
        static string Columns(string json) => string.Join("; ", JsonDocument.Parse(json).RootElement.GetProperty("columns").EnumerateArray()
            .Select(c => $"{c.GetProperty("table").GetString()}.{c.GetProperty("column").GetString()} {c.GetProperty("compared").GetInt64()} {c.GetProperty("unchanged").GetInt64()} {c.GetProperty("copied").GetInt64()} {c.GetProperty("leaks").GetInt64()}"));
        Assert.Equal(Columns(file.Stdout), Columns(live.Stdout));
        Assert.DoesNotContain(PostgresServer.Password, live.Stdout + live.Stderr, StringComparison.Ordinal);

        var quickstart = _cli.WriteConfig();
        await DumpAsync(quickstart);
        var clean = await _cli.RunAsync("leakcheck", "-c", quickstart, "--latest", "--source", server.PasswordUri(db));
        Assert.True(clean.ExitCode == 0, clean.Stdout + clean.Stderr);
    }

    [Fact]
    public async Task LeakCheck_WrongPasswordOrNoOriginal_IsAClearErrorWithoutTheSecret()
    {
        var config = _cli.WriteConfig();
        await DumpAsync(config);
        var db = await server.CreateDatabaseAsync();

        var wrong = await _cli.RunAsync("leakcheck", "-c", config, "--latest", "--source", server.PasswordUri(db, "not-the-password-4711"));
        var none = await _cli.RunAsync("leakcheck", "-c", config, "--latest");

        Assert.Equal(7, wrong.ExitCode);
        Assert.DoesNotContain("not-the-password-4711", wrong.Stdout + wrong.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("nothing to compare the dump with: pass --input FILE", none.Stderr, StringComparison.Ordinal);
    }
}
