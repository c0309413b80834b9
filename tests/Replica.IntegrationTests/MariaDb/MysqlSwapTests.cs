using System.Diagnostics;
using System.Globalization;
using System.Text;
using Replica.Clients;
using Replica.Destinations;
using Replica.IntegrationTests.Cli;
using Replica.Sources;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// The swap that moves a MySQL restore from its staging database into the destination is all or nothing on every
/// failure path: a lock another session holds (before and after the RENAME), an object of the destination this user
/// could not create again, an interrupt while it waits. Found by review: with a wipe, the swap dropped the destination's
/// triggers and views, then waited on a lock for the RENAME, and a failure or Ctrl-C left them gone.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlSwapTests(MariaDbServer server) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("replica-mysql-swap-").FullName;
    private readonly ReplicaCli _cli = new();
    private static readonly MysqlTools s_tools = MysqlTools.Find(ChildEnvironment.WithoutConfig);
    const string UserPassword = "swap-user-pw-0123";

    public void Dispose()
    {
        Directory.Delete(_work, recursive: true);
        _cli.Dispose();
    }

    /// <summary>The awkward database (tables, two views, a trigger, a function, a procedure) plus more of each kind.</summary>
    private async Task<string> CreateTargetAsync()
    {
        string db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, MysqlAwkwardData.Sql);
        await server.ExecuteAsync(db, """
            CREATE TABLE plain (id int PRIMARY KEY, note text);
            INSERT INTO plain VALUES (1, 'old row');
            CREATE TRIGGER customers_second AFTER INSERT ON customers FOR EACH ROW INSERT INTO audit (msg) VALUES ('second');
            CREATE TRIGGER orders_check BEFORE INSERT ON orders FOR EACH ROW SET NEW.id = NEW.id;
            CREATE VIEW plain_notes AS SELECT note FROM plain;
            CREATE PROCEDURE napper(seconds int) SELECT SLEEP(seconds);
            """);
        return db;
    }

    private async Task<string> DumpAsync()
    {
        string source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        await server.ExecuteAsync(source, "CREATE TABLE fresh (id int PRIMARY KEY); INSERT INTO fresh VALUES (42); CREATE VIEW fresh_view AS SELECT id FROM fresh;");
        return await DumpToFileAsync(source);
    }

    /// <summary>A mariadb-dump of <paramref name="source"/> through replica's dump source, in a file.</summary>
    private async Task<string> DumpToFileAsync(string source)
    {
        string path = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".sql");
        await using var dump = new MysqlDumpSource(DatabaseUri.Parse(server.ConnectionUri(source)), new SourceOptions(), s_tools);
        await dump.PrepareAsync(CancellationToken.None);
        await using (Stream input = dump.Open())
        await using (FileStream output = File.Create(path))
        {
            await input.CopyToAsync(output);
        }
        await dump.CompleteAsync(CancellationToken.None);
        return path;
    }

    private static async Task RestoreAsync(string uri, string path, WipeMode wipe, int lockWaitSeconds, bool privileged = true)
    {
        await using var destination = new MysqlDestination(DatabaseUri.Parse(uri), s_tools, wipe, createDatabase: true)
        {
            AllowPrivilegedRole = privileged,
            LockWaitSeconds = lockWaitSeconds,
        };
        await destination.PrepareAsync(CancellationToken.None);
        await using (FileStream input = File.OpenRead(path))
        {
            await input.CopyToAsync(destination.Open());
        }
        await destination.CommitAsync(CancellationToken.None);
    }

    /// <summary>Everything a user could see changed in a database: objects (with trigger order), table definitions and rows.</summary>
    private async Task<List<string>> SnapshotAsync(string db)
    {
        var snapshot = new List<string>(await MysqlAssert.ObjectsAsync(server, db));
        foreach (var row in await server.QueryAsync(null,
            $"SELECT trigger_name, action_order FROM information_schema.triggers WHERE trigger_schema = {MariaDbServer.Literal(db)} ORDER BY 1"))
        {
            snapshot.Add($"order {row[0]} {row[1]}");
        }
        foreach (string table in await server.ListTablesAsync(db))
        {
            snapshot.Add(await server.ShowCreateTableAsync(db, table));
            snapshot.AddRange(await MysqlAssert.RowsAsync(server, db, table));
        }
        return snapshot;
    }

    private async Task<List<string>> ReplicaDatabasesAsync(string db) =>
        (await server.ListDatabasesAsync()).FindAll(name => name.StartsWith(db + "_replica_", StringComparison.Ordinal));

    [Fact]
    public async Task Swap_TableLockedByAnotherSession_TimesOutAndPutsBackTheDroppedTriggersAndViews()
    {
        string dump = await DumpAsync();
        string target = await CreateTargetAsync();
        var before = await SnapshotAsync(target);

        // plain has no trigger: the triggers and views are dropped, then the RENAME waits for the lock and fails.
        await using (var session = await HeldSession.OpenAsync(server, target, "BEGIN; SELECT COUNT(*) FROM plain;"))
        {
            var e = await Assert.ThrowsAsync<DatabaseException>(() => RestoreAsync(server.ConnectionUri(target), dump, WipeMode.Database, lockWaitSeconds: 2));
            AssertMentions("moving the tables in (RENAME TABLE)", e);
            AssertMentions("Lock wait timeout", e);
            AssertMentions("was put back as it was", e);
        }

        Assert.Equal(before, await SnapshotAsync(target));
        Assert.Empty(await ReplicaDatabasesAsync(target));
    }

    /// <summary>
    /// Three triggers that fire in turn on one table, and the swap stopped after it dropped some of them: the undo creates
    /// the dropped ones again, and a created trigger fires after those already there. Dropped first-firing first, the
    /// last one stayed and now fired first (action_order 3, 1, 2; found by review).
    /// </summary>
    [Fact]
    public async Task Swap_StoppedPartWayThroughDroppingTriggers_PutsThemBackInTheirFiringOrder()
    {
        string dump = await DumpAsync();
        string target = await CreateTargetAsync();
        await server.ExecuteAsync(target,
            "CREATE TRIGGER customers_third AFTER INSERT ON customers FOR EACH ROW INSERT INTO audit (msg) VALUES ('third');");
        var before = await SnapshotAsync(target);
        Assert.Contains("order customers_third 3", before);

        MysqlSwap.FailAfterStepForTests.Value = "dropping trigger `customers_second`";
        try
        {
            var e = await Assert.ThrowsAsync<DatabaseException>(() => RestoreAsync(server.ConnectionUri(target), dump, WipeMode.Database, lockWaitSeconds: 5));
            AssertMentions("failing on purpose", e);
            AssertMentions("was put back as it was", e);
        }
        finally
        {
            MysqlSwap.FailAfterStepForTests.Value = null;
        }

        Assert.Equal(before, await SnapshotAsync(target));
        Assert.Empty(await ReplicaDatabasesAsync(target));
    }

    /// <summary>
    /// Tables, a column, a view and a trigger named NULL, in the dump and in the destination a wipe replaces: the client
    /// prints such a name as it prints SQL NULL, and the dump's table list and the swap's inventory read it as a missing
    /// value (a null reference; found by review).
    /// </summary>
    [Fact]
    public async Task Swap_ObjectsNamedNull_AreReplacedWhole()
    {
        const string NullObjects = """
            CREATE TABLE `NULL` (`NULL` int PRIMARY KEY, note text);
            CREATE TABLE log (msg text);
            CREATE TRIGGER `NULL` AFTER INSERT ON `NULL` FOR EACH ROW INSERT INTO log VALUES ('null trigger');
            CREATE VIEW null_view AS SELECT `NULL` FROM `NULL`;
            """;
        string source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, NullObjects + "INSERT INTO `NULL` VALUES (1, 'from the dump');");
        string path = await DumpToFileAsync(source);
        string target = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(target, NullObjects + "INSERT INTO `NULL` VALUES (2, 'old row'); CREATE VIEW `NULL_old` AS SELECT note AS `NULL` FROM `NULL`;");

        await RestoreAsync(server.ConnectionUri(target), path, WipeMode.Database, lockWaitSeconds: 10);

        Assert.Equal(await SnapshotAsync(source), await SnapshotAsync(target));
        Assert.Empty(await ReplicaDatabasesAsync(target));
    }

    /// <summary>
    /// The swap creates the dump's views, triggers and routines again from the staging database: each keeps the
    /// collation_connection it was created under (which decides how the string literals of its body compare), not the
    /// swap client's utf8mb4 (found by review).
    /// </summary>
    [Fact]
    public async Task Swap_ObjectsCreatedUnderAnotherCollation_KeepTheirCollation()
    {
        string source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE t (a varchar(10));
            CREATE TABLE log (m text);
            SET NAMES utf8mb4, collation_connection = latin1_swedish_ci;
            CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES (IF(NEW.a = 'abc', 'same', 'other'));
            CREATE VIEW t_view AS SELECT a, a = 'ABC' AS same FROM t;
            CREATE FUNCTION shout(x varchar(10)) RETURNS varchar(20) DETERMINISTIC RETURN CONCAT(x, '!');
            """);
        string path = await DumpToFileAsync(source);
        string target = await server.CreateDatabaseAsync();

        await RestoreAsync(server.ConnectionUri(target), path, WipeMode.Database, lockWaitSeconds: 10);

        Assert.Equal(await CollationsAsync(source), await CollationsAsync(target));
        Assert.Contains("trigger t_log latin1_swedish_ci", await CollationsAsync(target));
    }

    private async Task<List<string>> CollationsAsync(string db)
    {
        string literal = MariaDbServer.Literal(db);
        var rows = await server.QueryAsync(null,
            $"SELECT CONCAT('trigger ', trigger_name, ' ', collation_connection) FROM information_schema.triggers WHERE trigger_schema = {literal} "
            + $"UNION ALL SELECT CONCAT('view ', table_name, ' ', collation_connection) FROM information_schema.views WHERE table_schema = {literal} "
            + $"UNION ALL SELECT CONCAT('routine ', routine_name, ' ', collation_connection) FROM information_schema.routines WHERE routine_schema = {literal} ORDER BY 1");
        return rows.ConvertAll(r => r[0]!);
    }

    /// <summary>A user with the grants the README recommends: the destination and its staging databases.</summary>
    private async Task<string> UserUriAsync(string target, string extra = "")
    {
        string user = "restorer_" + Guid.NewGuid().ToString("N")[..8];
        var staging = MariaDbServer.QuoteIdentifier(target.Replace("_", "\\_", StringComparison.Ordinal) + "\\_replica\\_%");
        await server.ExecuteAsync(null, $"""
            CREATE USER '{user}'@'%' IDENTIFIED BY '{UserPassword}';
            GRANT ALL ON {MariaDbServer.QuoteIdentifier(target)}.* TO '{user}'@'%';
            GRANT ALL ON {staging}.* TO '{user}'@'%';
            {extra.Replace("{user}", $"'{user}'@'%'", StringComparison.Ordinal)}
            """);
        return string.Create(CultureInfo.InvariantCulture, $"mysql://{user}:{UserPassword}@{MariaDbServer.Host}:{server.Port}/{target}");
    }

    /// <summary>The dump without DEFINER clauses (as destination.no_owner restores it): a user without SET USER can restore it.</summary>
    private static async Task<string> WithoutDefinersAsync(string path)
    {
        string text = System.Text.RegularExpressions.Regex.Replace(await File.ReadAllTextAsync(path), "DEFINER=`[^`]*`@`[^`]*`", "");
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    [Fact]
    public async Task Swap_FailureAfterTheRename_MovesTheTablesBackAndCreatesTheDroppedObjectsAgain()
    {
        string dump = await WithoutDefinersAsync(await DumpAsync());
        string target = await server.CreateDatabaseAsync();
        string uri = await UserUriAsync(target);
        // The destination's objects, created by the user (its own DEFINER): a first restore, then its routines dropped
        // and rows changed, so that the dump's differ from what the destination holds.
        await RestoreAsync(uri, dump, WipeMode.None, lockWaitSeconds: 5, privileged: false);
        await server.ExecuteAsync(target, "DROP FUNCTION greet; DROP PROCEDURE count_customers; UPDATE fresh SET id = 7; DELETE FROM orders;");
        // The user may create routines in its staging databases but not in the destination: the dump's routines are
        // created last, after the RENAME, and fail there.
        await server.ExecuteAsync(null, $"REVOKE CREATE ROUTINE ON {MariaDbServer.QuoteIdentifier(target)}.* FROM '{uri.Split(':')[1][2..]}'@'%'");
        var before = await SnapshotAsync(target);

        var e = await Assert.ThrowsAsync<DatabaseException>(() => RestoreAsync(uri, dump, WipeMode.Database, lockWaitSeconds: 5, privileged: false));

        AssertMentions("failed at creating ", e);
        AssertMentions("Access denied", e);
        AssertMentions("was put back as it was", e);
        Assert.Equal(before, await SnapshotAsync(target));
        Assert.Empty(await ReplicaDatabasesAsync(target));
    }

    [Fact]
    public async Task Swap_DestinationObjectOfAnotherDefiner_IsRefusedBeforeAnythingChanges()
    {
        string dump = await WithoutDefinersAsync(await DumpAsync());
        string target = await server.CreateDatabaseAsync();
        string owner = "app_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync(null, $"CREATE USER '{owner}'@'%' IDENTIFIED BY '{UserPassword}'; GRANT ALL ON {MariaDbServer.QuoteIdentifier(target)}.* TO '{owner}'@'%';");
        await server.ExecuteAsync(target, $"""
            CREATE TABLE plain (id int PRIMARY KEY, note text);
            INSERT INTO plain VALUES (1, 'old row');
            CREATE DEFINER = '{owner}'@'%' TRIGGER plain_owned BEFORE INSERT ON plain FOR EACH ROW SET NEW.note = NEW.note;
            """);
        string uri = await UserUriAsync(target);
        var before = await SnapshotAsync(target);

        var e = await Assert.ThrowsAsync<DatabaseException>(() => RestoreAsync(uri, dump, WipeMode.Database, lockWaitSeconds: 5, privileged: false));

        AssertMentions("was not changed", e);
        AssertMentions("create trigger `plain_owned` again", e);
        AssertMentions("SET USER", e);
        Assert.Equal(before, await SnapshotAsync(target));
        Assert.Empty(await ReplicaDatabasesAsync(target));
    }

    [Fact]
    public async Task Restore_CtrlCToTheProcessGroupWhileTheSwapWaitsForALock_FinishesTheSwapInsteadOfCuttingIt()
    {
        string target = await CreateTargetAsync();
        await _cli.StoreRawDumpAsync("shop", "CREATE TABLE fresh (id int PRIMARY KEY);\nINSERT INTO fresh VALUES (42);\nCREATE VIEW fresh_view AS SELECT id FROM fresh;\n");
        string config = _cli.WriteConfig($"""
            destination:
              connection_uri: '{server.ConnectionUri(target)}'
              allow_privileged_role: true
              lock_wait_timeout: 60
            bridge:
              local:
                path: {_cli.BridgePath}
            """);
        // In a process group of its own, signalled as a whole, as Ctrl-C in a terminal does: the swap's mysql client gets
        // the SIGINT too (found by review: it killed its query, or exited 0 between two statements).
        var start = new ProcessStartInfo("setsid") { WorkingDirectory = _cli.WorkingDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "dotnet", Path.Combine(AppContext.BaseDirectory, "replica.dll"), "restore", "-c", config, "--name", "shop", "--wipe", "database", "--yes" })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["REPLICA_SECRET"] = ReplicaCli.Secret;

        await using (var session = await HeldSession.OpenAsync(server, target, "BEGIN; SELECT COUNT(*) FROM plain;"))
        {
            using var replica = Process.Start(start)!;
            var stderr = replica.StandardError.ReadToEndAsync();
            var stdout = replica.StandardOutput.ReadToEndAsync();
            await WaitForAsync(() => server.QueryAsync(null, "SELECT id FROM information_schema.processlist WHERE info LIKE 'RENAME TABLE%'"));
            using (var kill = Process.Start("kill", ["-INT", "--", "-" + replica.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            // Past the CLI's 10 s termination timeout: the swap must still be waiting, not cut.
            await Task.Delay(TimeSpan.FromSeconds(13));
            Assert.False(replica.HasExited, "replica exited while its swap waited: " + (replica.HasExited ? await stderr : ""));
            await session.DisposeAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await replica.WaitForExitAsync(timeout.Token);
            await stdout;
            // The exit said that it waited, and how the swap ended (the CLI had said "interrupted" already).
            string said = await stderr;
            string where = $"database {target} on {MariaDbServer.Host}:{server.Port}";
            Assert.Contains($"replica: waiting for the swap into {where} to end", said, StringComparison.Ordinal);
            Assert.Contains($"replica: the swap into {where} ended: {where} holds the dump: the restore completed", said, StringComparison.Ordinal);
        }

        // The swap finished whole: the dump's tables and view, none of the destination's own objects.
        Assert.Equal(["fresh"], await server.ListTablesAsync(target));
        Assert.Equal(["view fresh_view: select `fresh`.`id` AS `id` from `fresh`"], await MysqlAssert.ObjectsAsync(server, target));
        Assert.Equal("42", await server.ScalarAsync(target, "SELECT id FROM fresh"));
        Assert.Empty(await ReplicaDatabasesAsync(target));
    }

    private static void AssertMentions(string expected, Exception e) =>
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"\"{expected}\" not in: {e.Message}");

    private static async Task WaitForAsync(Func<Task<List<string?[]>>> query)
    {
        for (var i = 0; i < 300; i++)
        {
            if ((await query()).Count > 0)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("the awaited session never showed up in the process list");
    }

    /// <summary>A client session that stays open (and holds its locks) until disposed; disposing kills its connection.</summary>
    private sealed class HeldSession : IAsyncDisposable
    {
        private readonly MariaDbServer _server;
        private readonly Process _process;
        private readonly string _connectionId;
        private bool _disposed;

        private HeldSession(MariaDbServer server, Process process, string connectionId)
        {
            _server = server;
            _process = process;
            _connectionId = connectionId;
        }

        public static async Task<HeldSession> OpenAsync(MariaDbServer server, string db, string sql, bool waitForOutput = true)
        {
            var start = new ProcessStartInfo(server.ClientBinary)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[] { "--defaults-file=" + server.ClientConfigPath, "--batch", "--skip-column-names", "--unbuffered", "--database=" + db })
            {
                start.ArgumentList.Add(argument);
            }
            var process = Process.Start(start)!;
            _ = process.StandardError.ReadToEndAsync();
            await process.StandardInput.WriteAsync("SELECT CONNECTION_ID();\n" + sql + "\n");
            await process.StandardInput.FlushAsync();
            var id = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the session printed no connection id");
            if (waitForOutput)
            {
                // The statement's own output: it ran, its locks are held.
                _ = await process.StandardOutput.ReadLineAsync();
            }
            _ = process.StandardOutput.ReadToEndAsync();
            return new HeldSession(server, process, id);
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            try
            {
                await _server.ExecuteAsync(null, $"KILL {_connectionId}");
            }
            catch (Exception)
            {
                // gone already
            }
            _process.StandardInput.Close();
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
