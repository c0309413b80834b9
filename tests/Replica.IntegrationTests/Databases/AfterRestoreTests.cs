using System.Text;
using Replica.Bridges;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// destination.after_restore into PostgreSQL: the config's statements (and files of statements, ${VAR} expanded) run in
/// the restore's transaction after the data and before the commit; one that fails rolls everything back and is named.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AfterRestoreTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static readonly Dictionary<string, string?> s_environment = new() { ["STAGING_HOST"] = "staging.example.com" };

    string Config(string destination, params string[] steps) => _cli.WriteConfig(
        "destination:\n"
        + $"  connection_uri: '{server.PasswordUri(destination)}'\n"
            + "  allow_privileged_role: true\n"
        + "  after_restore:\n"
        + string.Concat(steps.Select(step => $"    - {step}\n"))
        + "bridge:\n"
        + $"  local:\n    path: {_cli.BridgePath}\n");

    async Task StoreAsync()
    {
        var bridge = new LocalBridge(_cli.BridgePath);
        await using var writer = await bridge.BeginDumpAsync("shop", CancellationToken.None);
        // As pg_dump writes it: an empty search_path for the session, qualified names; the steps name the table unqualified.
        byte[] sql = Encoding.UTF8.GetBytes("""
            SELECT pg_catalog.set_config('search_path', '', false);
            CREATE TABLE public.settings (name text PRIMARY KEY, value text);
            COPY public.settings (name, value) FROM stdin;
            base_url	https://shop.example.com
            mail_host	smtp.example.com
            \.
            """ + "\n");
        await writer.WriteChunkAsync(sql, CancellationToken.None);
        await writer.CompleteAsync(new DumpSummary(sql.Length, "test", Compressed: false, Encrypted: false), CancellationToken.None);
    }

    async Task<string> DestinationAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        return db;
    }

    [Theory]
    [InlineData("--no-wipe")]
    [InlineData("--wipe=database")]
    [InlineData("--wipe=database --jobs 2")]
    public async Task Restore_StepsRunAfterTheDataWithVariablesExpanded(string options)
    {
        await StoreAsync();
        var db = await DestinationAsync();
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "staging.sql"),
            "-- point mail at staging\nUPDATE settings SET value = '${STAGING_HOST}' WHERE name = 'mail_host';\nINSERT INTO settings VALUES ('env', 'staging') -- no semicolon");
        var config = Config(db, "\"UPDATE settings SET value = 'https://${STAGING_HOST}' WHERE name = 'base_url'\"", "{ file: staging.sql }");

        var restore = await _cli.RunAsync(["restore", "-c", config, "--name", "shop", "--yes", .. options.Split(' ')], null, s_environment);

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        var rows = await server.QueryAsync(db, "SELECT name, value FROM settings ORDER BY name");
        Assert.Equal(["base_url=https://staging.example.com", "env=staging", "mail_host=staging.example.com"], rows.Select(r => $"{r[0]}={r[1]}"));
    }

    [Theory]
    [InlineData("--no-wipe")]
    [InlineData("--wipe=database --jobs 2")]
    public async Task Restore_StepFails_RollsEverythingBackNamingTheStep(string options)
    {
        await StoreAsync();
        var db = await DestinationAsync();
        var config = Config(db, "\"UPDATE settings SET value = 'x'\"", "\"UPDATE no_such_table SET value = 'y'\"");

        var restore = await _cli.RunAsync(["restore", "-c", config, "--name", "shop", "--yes", .. options.Split(' ')], null, s_environment);

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("destination.after_restore[1] failed", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("no_such_table", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(["1", "2"], (await server.QueryAsync(db, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
        Assert.Null((await server.QueryAsync(db, "SELECT to_regclass('settings')::text"))[0][0]);
    }

    /// <summary>
    /// psql repeats a failed statement ("LINE 1: UPDATE settingz SET api_token = '...'") and a key's value ("DETAIL: Key
    /// (name)=(...) already exists"): steps that hold values of variables run with VERBOSITY terse, which prints neither,
    /// and the values are scrubbed from what it printed.
    /// </summary>
    [Theory]
    [InlineData("--no-wipe", "\"UPDATE settingz SET api_token = '${STAGING_API_TOKEN}'\"", "settingz")]
    [InlineData("--wipe=database --jobs 2", "{ file: token.sql }", "duplicate key value violates unique constraint")]
    public async Task Restore_FailingStepWithAVariable_DoesNotShowItsValue(string options, string step, string expected)
    {
        await StoreAsync();
        var db = await DestinationAsync();
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "token.sql"),
            "INSERT INTO settings VALUES ('${STAGING_API_TOKEN}', 'a');\nINSERT INTO settings VALUES ('${STAGING_API_TOKEN}', 'b');\n");
        var config = Config(db, "\"UPDATE settings SET value = 'x'\"", step);

        var restore = await _cli.RunAsync(["restore", "-c", config, "--name", "shop", "--yes", .. options.Split(' ')], null,
            new Dictionary<string, string?> { ["STAGING_API_TOKEN"] = "tok_live_TOPSECRET_123" });

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("destination.after_restore[1]", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains(expected, restore.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("TOPSECRET", restore.Stdout + restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(["1", "2"], (await server.QueryAsync(db, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
    }

    /// <summary>
    /// psql cuts the statement it repeats ("LINE 1: ...6789abcdefXYZ0123456789abcdefghijklmnopQRSTUV' || bogus_colu..."),
    /// so a long value showed in part (47 of 80 characters), which the scrub of whole values did not find.
    /// </summary>
    [Fact]
    public async Task Restore_FailingStepWithALongVariable_ShowsNoPieceOfIt()
    {
        const string key = "sk_live_0123456789abcdefXYZ0123456789abcdefghijklmnopQRSTUVWXYZ0123456789abcdefg";
        await StoreAsync();
        var db = await DestinationAsync();
        var config = Config(db, "\"UPDATE settings SET value = '${STAGING_API_KEY}' || bogus_column_that_does_not_exist WHERE name = 'base_url'\"");

        var restore = await _cli.RunAsync(["restore", "-c", config, "--name", "shop", "--no-wipe", "--yes"], null,
            new Dictionary<string, string?> { ["STAGING_API_KEY"] = key });

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("destination.after_restore[0]", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("bogus_column_that_does_not_exist", restore.Stderr, StringComparison.Ordinal);
        for (var start = 0; start + 8 <= key.Length; start++)
        {
            Assert.DoesNotContain(key.Substring(start, 8), restore.Stdout + restore.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(["1", "2"], (await server.QueryAsync(db, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
    }

    [Fact]
    public async Task Restore_StepWithAMetaCommand_IsAConfigErrorBeforeAnythingRuns()
    {
        // A config's steps get the restore guard as a stored dump does: nothing runs on this machine.
        await StoreAsync();
        var db = await DestinationAsync();
        var marker = Path.Combine(_cli.WorkingDirectory, "marker");
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "evil.sql"), $"UPDATE settings SET value = 'x';\n\\! touch {marker}\n");
        var config = Config(db, "{ file: evil.sql }");

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "shop", "--wipe=database", "--yes");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains("destination.after_restore[0] (file ", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("psql meta-command \\!", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "the shell command ran");
        Assert.Null((await server.QueryAsync(db, "SELECT to_regclass('settings')::text"))[0][0]);
    }

    [Fact]
    public async Task Restore_StepThatCommits_CannotEndTheRestoresTransaction()
    {
        // COMMIT in a step is left out, as in a dump: a later failure still rolls everything back.
        await StoreAsync();
        var db = await DestinationAsync();
        var config = Config(db, "\"UPDATE settings SET value = 'x'; COMMIT\"", "\"UPDATE no_such_table SET value = 'y'\"");

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "shop");

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("destination.after_restore[1] failed", restore.Stderr, StringComparison.Ordinal);
        Assert.Null((await server.QueryAsync(db, "SELECT to_regclass('settings')::text"))[0][0]);
    }

    [Fact]
    public async Task Restore_WithOutput_IsAUsageError()
    {
        await StoreAsync();
        var config = Config(await DestinationAsync(), "\"UPDATE settings SET value = 'x'\"");

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "shop", "-o", "out.sql");

        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("destination.after_restore runs in a database restore's transaction", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cli.WorkingDirectory, "out.sql")));
    }
}
