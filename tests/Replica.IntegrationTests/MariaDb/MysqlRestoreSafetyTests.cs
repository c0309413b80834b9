using System.Text;
using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>A restore into MariaDB runs none of the mysql client's own commands that a stored dump may hold.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlRestoreSafetyTests(MariaDbServer server) : IDisposable
{
    private readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>A config that restores into <paramref name="destination"/> as root (which the tests here need) from the bridge.</summary>
    string Config(string destination) => _cli.WriteConfig($"""
        destination:
          connection_uri: '{server.ConnectionUri(destination)}'
          allow_privileged_role: true
        bridge:
          local:
            path: {_cli.BridgePath}
        """);

    [Theory]
    [InlineData("system touch {0};\n")]
    [InlineData("\\! touch {0}\n;\n")]
    [InlineData("LOAD DATA LOCAL INFILE '{0}' INTO TABLE new_t;\n")]
    [InlineData("SELECT a FROM new_t INTO OUTFILE '{0}';\n")]
    public async Task Restore_ClientCommandInStoredDump_IsRefusedAndRunsNothing(string command)
    {
        var marker = Path.Combine(_cli.WorkingDirectory, "marker");
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        await _cli.StoreRawDumpAsync("evil", "CREATE TABLE new_t (a int);\nINSERT INTO new_t VALUES (1);\n" + string.Format(System.Globalization.CultureInfo.InvariantCulture, command, marker));
        var config = Config(destination);

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "evil", "--wipe", "database", "--yes");

        Assert.Equal(3, restore.ExitCode);
        Assert.Contains("line 3", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "the client command ran");
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
        Assert.Empty(await server.QueryAsync(null, $"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{destination}\\_replica\\_%'"));
    }

    [Fact]
    public async Task Restore_AfterRestoreSteps_RunInTheStagingDatabaseBeforeTheSwap_AFailureIsNamedAndChangesNothing()
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        await _cli.StoreRawDumpAsync("shop", "CREATE TABLE settings (name varchar(20) PRIMARY KEY, value text);\n"
            + "INSERT INTO settings VALUES ('base_url','https://shop.example.com'),('mail_host','smtp.example.com');\n");
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "staging.sql"), "UPDATE settings SET value = '${STAGING_HOST}' WHERE name = 'mail_host';\n");
        string Config(string failing) => _cli.WriteConfig(
            "destination:\n"
            + $"  connection_uri: '{server.ConnectionUri(destination)}'\n"
            + "  allow_privileged_role: true\n"
            + "  after_restore:\n"
            + "    - \"UPDATE settings SET value = 'https://${STAGING_HOST}' WHERE name = 'base_url'\"\n"
            + "    - { file: staging.sql }\n"
            + failing
            + $"bridge:\n  local:\n    path: {_cli.BridgePath}\n");
        var environment = new Dictionary<string, string?> { ["STAGING_HOST"] = "staging.example.com" };

        var failed = await _cli.RunAsync(["restore", "-c", Config("    - UPDATE no_such_table SET value = 1\n"), "--name", "shop", "--wipe", "database", "--yes"], null, environment);

        Assert.Equal(7, failed.ExitCode);
        Assert.Contains("destination.after_restore[2] failed", failed.Stderr, StringComparison.Ordinal);
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));

        var restore = await _cli.RunAsync(["restore", "-c", Config(""), "--name", "shop", "--wipe", "database", "--yes"], null, environment);

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        var rows = await server.QueryAsync(destination, "SELECT name, value FROM settings ORDER BY name");
        Assert.Equal(["base_url=https://staging.example.com", "mail_host=staging.example.com"], rows.Select(r => $"{r[0]}={r[1]}"));
        Assert.Empty(await server.QueryAsync(null, $"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{destination}\\_replica\\_%' AND schema_name NOT LIKE '%old%'"));
    }

    /// <summary>
    /// The mysql client repeats a failed statement's values ("Duplicate entry '...' for key", "near '...'"): the values of
    /// the variables in the steps are scrubbed from what it printed.
    /// </summary>
    [Theory]
    [InlineData("    - \"INSERT INTO settings VALUES ('${STAGING_API_TOKEN}', 'a'), ('${STAGING_API_TOKEN}', 'b')\"\n", "Duplicate entry")]
    [InlineData("    - { file: token.sql }\n", "SQL syntax")]
    public async Task Restore_FailingStepWithAVariable_DoesNotShowItsValue(string step, string expected)
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        await _cli.StoreRawDumpAsync("shop", "CREATE TABLE settings (name varchar(40) PRIMARY KEY, value text);\n");
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "token.sql"), "UPDATE settings SET value = 'x' WHERE WHERE name = '${STAGING_API_TOKEN}';\n");
        var config = _cli.WriteConfig(
            "destination:\n"
            + $"  connection_uri: '{server.ConnectionUri(destination)}'\n"
            + "  allow_privileged_role: true\n"
            + "  after_restore:\n"
            + step
            + $"bridge:\n  local:\n    path: {_cli.BridgePath}\n");

        var restore = await _cli.RunAsync(["restore", "-c", config, "--name", "shop", "--wipe", "database", "--yes"], null,
            new Dictionary<string, string?> { ["STAGING_API_TOKEN"] = "tok_live_TOPSECRET_123" });

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("destination.after_restore[0]", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains(expected, restore.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("TOPSECRET", restore.Stdout + restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
    }

    /// <summary>
    /// The mysql client cuts what it repeats ("near '...'" at 80 characters): a long value showed in part, which the scrub
    /// of whole values did not find.
    /// </summary>
    [Fact]
    public async Task Restore_FailingStepWithALongVariable_ShowsNoPieceOfIt()
    {
        const string key = "sk_live_0123456789abcdefXYZ0123456789abcdefghijklmnopQRSTUVWXYZ0123456789abcdefg";
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        await _cli.StoreRawDumpAsync("shop", "CREATE TABLE settings (name varchar(40) PRIMARY KEY, value text);\n");
        var config = _cli.WriteConfig(
            "destination:\n"
            + $"  connection_uri: '{server.ConnectionUri(destination)}'\n"
            + "  allow_privileged_role: true\n"
            + "  after_restore:\n"
            + "    - \"UPDATE settings SET value = 'x' WHERE WHERE name = 'a' OR name = '${STAGING_API_KEY}'\"\n"
            + $"bridge:\n  local:\n    path: {_cli.BridgePath}\n");

        var restore = await _cli.RunAsync(["restore", "-c", config, "--name", "shop", "--wipe", "database", "--yes"], null,
            new Dictionary<string, string?> { ["STAGING_API_KEY"] = key });

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("SQL syntax", restore.Stderr, StringComparison.Ordinal);
        for (var start = 0; start + 8 <= key.Length; start++)
        {
            Assert.DoesNotContain(key.Substring(start, 8), restore.Stdout + restore.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
    }

    /// <summary>
    /// A dump of one database written by mysqldump --databases --add-drop-database (DROP DATABASE, CREATE DATABASE and
    /// USE of its database), restored into a database of that name: it goes through the staging database like any
    /// other, so a failure at its end leaves the destination as it was (before, its DROP DATABASE and USE ran on the
    /// destination itself: the table was gone and the failed restore's rows were in), and a good one replaces it at the
    /// swap. A dump of two databases is refused before anything runs.
    /// </summary>
    [Fact]
    public async Task Restore_DumpWithDatabasesAndAddDropDatabase_GoesThroughStagingAndAFailureChangesNothing()
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        string Dump(string end) => $"/*!40000 DROP DATABASE IF EXISTS `{destination}`*/;\n\n"
            + $"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{destination}` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n\nUSE `{destination}`;\n"
            + "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n" + end;
        await _cli.StoreRawDumpAsync("failing", Dump("INSERT INTO no_such_table VALUES (1);\n"));
        await _cli.StoreRawDumpAsync("good", Dump(""));
        await _cli.StoreRawDumpAsync("two", Dump($"USE `{destination}_other`;\nCREATE TABLE u (a int);\n"));
        var config = Config(destination);

        var failed = await _cli.RunAsync("restore", "-c", config, "--name", "failing", "--wipe", "database", "--yes");

        Assert.Equal(7, failed.ExitCode);
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
        Assert.Equal(2, (await server.QueryAsync(destination, "SELECT id FROM keep_me")).Count);

        var two = await _cli.RunAsync("restore", "-c", config, "--name", "two", "--wipe", "database", "--yes");

        Assert.Equal(3, two.ExitCode);
        Assert.Contains("more than one database", two.Stderr, StringComparison.Ordinal);
        Assert.Contains("line 8", two.Stderr, StringComparison.Ordinal);
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));

        var good = await _cli.RunAsync("restore", "-c", config, "--name", "good", "--wipe", "database", "--yes");

        Assert.True(good.ExitCode == 0, good.Stderr);
        Assert.Equal(["t"], await server.ListTablesAsync(destination));
        Assert.Empty(await server.QueryAsync(null, $"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{destination}\\_replica\\_%'"));
    }

    /// <summary>
    /// The staging database confines unqualified names only: a statement that names the destination, or SQL the guard
    /// cannot read (a prepared statement, a procedure), would change the destination directly, before the swap, also in
    /// a restore that then fails.
    /// </summary>
    [Theory]
    [InlineData("INSERT INTO `{0}`.keep_me VALUES (3);\n", "line 3")]
    [InlineData("UPDATE t, {0} . keep_me SET keep_me.id = keep_me.id + 10;\n", "line 3")]
    [InlineData("/*!40000 DELETE FROM {0}.keep_me */;\n", "line 3")]
    [InlineData("SET @s = CONCAT('INSERT INTO ', '{0}', '.keep_me VALUES (3)');\nPREPARE s FROM @s;\nEXECUTE s;\n", "line 4")]
    [InlineData("CALL `{0}`.add_row();\n", "line 3")]
    [InlineData("SET sql_mode = 'ANSI_QUOTES';\nDELETE FROM \"{0}\".keep_me;\n", "line 4")]
    [InlineData("DELETE FROM `{0}`/*M!999999 x*/.keep_me;\n", "line 3")]
    [InlineData("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW DELETE FROM `{0}`.keep_me;\nINSERT INTO t VALUES (2);\n", "line 4")]
    public async Task Restore_DumpThatReachesTheDestinationPastTheStagingDatabase_IsRefusedAndChangesNothing(string statement, string line)
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        await server.ExecuteAsync(destination, "CREATE PROCEDURE add_row() INSERT INTO keep_me VALUES (3)");
        await _cli.StoreRawDumpAsync("evil", "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n"
            + string.Format(System.Globalization.CultureInfo.InvariantCulture, statement, destination)
            + "INSERT INTO no_such_table VALUES (1);\n");
        var config = Config(destination);

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "evil");

        Assert.Equal(3, restore.ExitCode);
        Assert.Contains(line, restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
        Assert.Equal(["1", "2"], (await server.QueryAsync(destination, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
    }

    /// <summary>
    /// With sql_mode ANSI_QUOTES, which a dump can set, the server reads "name" as a name: a dump's DROP DATABASE and USE
    /// of the destination in double quotes would drop it, or run the rest there, also in a restore that then fails.
    /// </summary>
    [Fact]
    public async Task Restore_AnsiQuotedDropDatabaseOfTheDestination_IsLeftOutAndAFailureChangesNothing()
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        await _cli.StoreRawDumpAsync("ansi", $"SET sql_mode = 'ANSI_QUOTES';\nDROP DATABASE IF EXISTS \"{destination}\";\nCREATE DATABASE \"{destination}\";\n"
            + $"USE \"{destination}\";\nCREATE TABLE \"t\" (a int);\nINSERT INTO no_such_table VALUES (1);\n");
        var config = Config(destination);

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "ansi");

        Assert.Equal(7, restore.ExitCode);
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
        Assert.Equal(["1", "2"], (await server.QueryAsync(destination, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
    }

    /// <summary>
    /// An executable comment the server skips hid a word from the guard: DROP /*M!999999 x */ DATABASE shop passed it
    /// (found by review) and the server dropped the destination. Now it is left out like DROP DATABASE.
    /// </summary>
    [Fact]
    public async Task Restore_DropDatabaseBehindASkippedExecutableComment_IsLeftOutAndAFailureChangesNothing()
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        await _cli.StoreRawDumpAsync("hidden", $"DROP /*M!999999 x */ DATABASE `{destination}`;\nCREATE TABLE t (a int);\nINSERT INTO no_such_table VALUES (1);\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(destination), "--name", "hidden");

        Assert.Equal(7, restore.ExitCode);
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
        Assert.Equal(["1", "2"], (await server.QueryAsync(destination, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
    }

    /// <summary>
    /// NO_BACKSLASH_ESCAPES makes the client split '\'; ...' where the guard read one string, and a GBK client character
    /// set makes the server end a string at a quote the guard read as escaped (0x81 0x5C is one GBK character): either
    /// ran a DELETE the guard never saw (found by review). The check after each SET stops the client first.
    /// </summary>
    [Theory]
    [InlineData("SET sql_mode = 'NO_BACKSLASH_ESCAPES';\n")]
    [InlineData("/*!40101 SET NAMES gbk */;\n")]
    public async Task Restore_SetThatMakesStatementsSplitOtherwise_StopsTheRestoreBeforeAnythingRuns(string set)
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        byte[] dump = [.. Encoding.UTF8.GetBytes("CREATE TABLE t (a int);\n" + set + "SELECT '"), 0x81, (byte)'\\',
            .. Encoding.UTF8.GetBytes($"'; DELETE FROM `{destination}`.keep_me; -- ';\n")];
        await _cli.StoreRawDumpAsync("split", dump);

        var restore = await _cli.RunAsync("restore", "-c", Config(destination), "--name", "split");

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("REPLICA-REFUSES-NO_BACKSLASH_ESCAPES", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(["1", "2"], (await server.QueryAsync(destination, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
    }

    /// <summary>
    /// Four ways a review found to make the mysql client split a dump otherwise than the guard read it, each of which
    /// ran a LOAD DATA LOCAL (a file of the restoring machine into the destination) and a DELETE in the destination that
    /// the guard never saw, also when the restore then failed: ANSI_QUOTES ("x\" closed for the client), "--'" at the
    /// start of a statement (a comment line for the client, a quote for the guard), a comment inside an executable
    /// comment (the client ends it at a later */), and SET NAMES sjis inside BEGIN NOT ATOMIC (no top-level SET to
    /// check after; MariaDB keeps the character set); and a DELIMITER after other text on its line, which the client
    /// takes as the command only at the end of the statement it is in, swallowing what follows up to the next ';' and
    /// running the rest, an XA PREPARE and a DELETE here, as statements the guard read as the tail of one SELECT. Now
    /// each is refused before the client runs anything of it, or the
    /// session check after the statement stops the client; the destination keeps its rows, nothing of the file is read
    /// (the client also runs with --local-infile=0).
    /// </summary>
    [Theory]
    [InlineData("ansi-quotes", "SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES');\nSELECT 1 AS \"x\\\";\n{0}# \";\n")]
    [InlineData("dash-dash", "--'\n{0}SELECT * FROM no_such_table;\n# ';\n")]
    [InlineData("nested-comment", "/*!50000 SELECT 1 /* */ ' */ */ ;\n{0}SELECT * FROM no_such_table;\n# ';\n")]
    [InlineData("compound-set-names", "DELIMITER //\nBEGIN NOT ATOMIC SET NAMES sjis; END//\nDELIMITER ;\nSELECT '\u0081\\'; {0}SELECT * FROM no_such_table; -- ';\n")]
    [InlineData("xa", "XA START 'replica-review';\nINSERT INTO t VALUES ('x');\nXA END 'replica-review';\nXA PREPARE 'replica-review';\n{0}")]
    [InlineData("comment-line-dropped", "/* x\n--*/ SELECT 1;\nSELECT '*/ {1}SELECT * FROM no_such_table; -- ';\n")]
    [InlineData("delimiter-mid-line", "SELECT 1; DELIMITER $$\nSELECT 'x'; XA START 'replica-review'; INSERT INTO t VALUES ('x'); XA END 'replica-review'; XA PREPARE 'replica-review'; SELECT 2 $$\n")]
    [InlineData("delimiter-after-comment", "/* c */ DELIMITER $$\nSELECT 'x'; XA START 'replica-review'; INSERT INTO t VALUES ('x'); XA END 'replica-review'; XA PREPARE 'replica-review'; SELECT 2 $$\n")]
    public async Task Restore_DumpTheClientWouldReadOtherwise_RunsNothingOfItAndChangesNothing(string name, string body)
    {
        var secret = Path.Combine(_cli.WorkingDirectory, "secret.txt");
        await File.WriteAllTextAsync(secret, "secret-of-the-restoring-machine\n");
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        var hidden = $"LOAD DATA LOCAL INFILE '{secret}' INTO TABLE t;\nDELETE FROM `{destination}`.keep_me;\n";
        var text = "CREATE TABLE t (a text);\n" + string.Format(System.Globalization.CultureInfo.InvariantCulture, body, hidden, $"DELETE FROM `{destination}`.keep_me; ");
        // \u0081 stands for the byte 0x81 (a lead byte in SJIS): the dump is bytes, not UTF-8 text.
        byte[] dump = [.. text.Select(c => c == '\u0081' ? (byte)0x81 : checked((byte)c))];
        await _cli.StoreRawDumpAsync(name, dump);

        var restore = await _cli.RunAsync("restore", "-c", Config(destination), "--name", name);

        Assert.True(restore.ExitCode is 3 or 7, $"exit {restore.ExitCode}: {restore.Stderr}");
        Assert.Equal(["1", "2"], (await server.QueryAsync(destination, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
        Assert.Empty(await server.QueryAsync(null, "XA RECOVER"));
    }

    /// <summary>
    /// A view that reads a table the dump drops later is invalid in the staging database; its definition failed only
    /// after the swap's RENAME, with the dump's tables already in the destination (and, with a wipe, its own moved to a
    /// leftover database). Found by review; now the restore fails before the swap and the destination is as it was.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Restore_DumpWithAnInvalidView_FailsBeforeTheSwapAndChangesNothing(bool wipe)
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        await _cli.StoreRawDumpAsync("view", "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\nCREATE TABLE gone (a int);\n"
            + "CREATE VIEW v AS SELECT a FROM gone;\nDROP TABLE gone;\n");

        var restore = await _cli.RunAsync(wipe
            ? ["restore", "-c", Config(destination), "--name", "view", "--wipe", "database", "--yes"]
            : ["restore", "-c", Config(destination), "--name", "view"]);

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("view `v` is invalid", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(["keep_me"], await server.ListTablesAsync(destination));
        Assert.Equal(["1", "2"], (await server.QueryAsync(destination, "SELECT id FROM keep_me ORDER BY id")).Select(r => r[0]));
        Assert.Empty(await server.QueryAsync(null, $"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{destination}\\_replica\\_%'"));
    }

    /// <summary>
    /// A trigger's or routine's body is kept, not run, when it is created: one that names its own database (as it was
    /// written for the source, restored into a database of that name) passes the guard and works in the destination.
    /// </summary>
    [Fact]
    public async Task Restore_TriggerAndRoutineThatNameTheirOwnDatabase_AreRestoredAndWork()
    {
        var destination = await server.CreateDatabaseAsync();
        await _cli.StoreRawDumpAsync("self", "CREATE TABLE t (a int);\nCREATE TABLE audit (a int);\nINSERT INTO t VALUES (1);\n"
            + $"/*!50003 CREATE*/ /*!50003 TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO `{destination}`.audit VALUES (NEW.a) */;\n"
            + $"DELIMITER ;;\nCREATE PROCEDURE p()\nBEGIN\n  INSERT INTO {destination}.t VALUES (2);\nEND ;;\nDELIMITER ;\n");
        var config = Config(destination);

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "self");

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        await server.ExecuteAsync(destination, "CALL p()");
        Assert.Equal(["1", "2"], (await server.QueryAsync(destination, "SELECT a FROM t ORDER BY a")).Select(r => r[0]));
        Assert.Equal(["2"], (await server.QueryAsync(destination, "SELECT a FROM audit")).Select(r => r[0]));
    }

    /// <summary>
    /// A staging database whose process is gone is dropped only when it was made on this machine: the name of another
    /// machine's (or container's) restore of the same destination carries that machine, and its process id means
    /// nothing here (it was dropped before, in a gap with no session on it, whatever that restore was doing).
    /// </summary>
    [Fact]
    public async Task Restore_DropsStagingDatabasesOfKilledRestoresOfThisMachineOnly()
    {
        var destination = await server.CreateDatabaseAsync();
        await _cli.StoreRawDumpAsync("small", "CREATE TABLE t (a int);\n");
        var prefix = Replica.Destinations.MysqlDestination.StagingPrefix(destination);
        var abandoned = Replica.Destinations.Leftovers.TaggedStagingName(prefix, int.MaxValue - 1, 1700000000);
        var running = Replica.Destinations.Leftovers.TaggedStagingName(prefix, Environment.ProcessId, 1700000000);
        var otherMachine = $"{prefix}{int.MaxValue - 1}_1700000000_{(Replica.Destinations.Leftovers.MachineTag == "0badf00d" ? "0badf00e" : "0badf00d")}";
        var untagged = $"{prefix}{int.MaxValue - 1}_1700000000";
        string[] kept = [running, otherMachine, untagged];
        await server.CreateDatabaseAsync(abandoned);
        foreach (var name in kept)
        {
            await server.CreateDatabaseAsync(name);
        }
        var config = Config(destination);

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "small");

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        var left = await server.QueryAsync(null, $"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{destination}%' ORDER BY schema_name");
        Assert.Equal([destination, .. kept.Order(StringComparer.Ordinal)], left.Select(r => r[0]));
        foreach (var name in kept)
        {
            await server.DropDatabaseAsync(name);
        }
    }
}
