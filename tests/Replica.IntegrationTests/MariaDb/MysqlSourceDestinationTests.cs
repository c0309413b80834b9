using System.Text;
using Replica.Clients;
using Replica.Config;
using Replica.Destinations;
using Replica.Sources;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// MysqlDumpSource and MysqlDestination against a real MariaDB: a dump written to a file by the source and restored from
/// that file by the destination reproduces the database; failed restores change nothing; bad credentials fail early
/// and clearly, without the password.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlSourceDestinationTests(MariaDbServer server) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("replica-mysql-test-").FullName;
    private static readonly MysqlTools s_tools = MysqlTools.Find(ChildEnvironment.WithoutConfig);

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private async Task<string> CreateAwkwardDatabaseAsync()
    {
        string db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, MysqlAwkwardData.Sql);
        return db;
    }

    private async Task<string> DumpToFileAsync(string db, SourceOptions? config = null, string? uri = null)
    {
        string path = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".sql");
        await using var source = new MysqlDumpSource(DatabaseUri.Parse(uri ?? server.ConnectionUri(db)), config ?? new SourceOptions(), s_tools);
        await source.PrepareAsync(CancellationToken.None);
        await using (Stream input = source.Open())
        await using (FileStream output = File.Create(path))
        {
            await input.CopyToAsync(output);
        }
        await source.CompleteAsync(CancellationToken.None);
        return path;
    }

    private async Task RestoreFileAsync(string db, string path, WipeMode wipe = WipeMode.None, bool createDatabase = true)
    {
        await using var destination = new MysqlDestination(DatabaseUri.Parse(server.ConnectionUri(db)), s_tools, wipe, createDatabase) { AllowPrivilegedRole = true };
        await destination.PrepareAsync(CancellationToken.None);
        await using (FileStream input = File.OpenRead(path))
        {
            await input.CopyToAsync(destination.Open());
        }
        await destination.CommitAsync(CancellationToken.None);
    }

    private async Task<List<string>> ReplicaDatabasesAsync() =>
        (await server.ListDatabasesAsync()).FindAll(name => name.Contains("_replica_", StringComparison.Ordinal));

    [Fact]
    public async Task DumpAndRestore_AwkwardDatabase_ReproducesTablesDataAndObjects()
    {
        string source = await CreateAwkwardDatabaseAsync();
        string dump = await DumpToFileAsync(source);
        string target = await server.CreateDatabaseAsync();

        await RestoreFileAsync(target, dump);

        await MysqlAssert.SameTablesAndDataAsync(server, source, target);
        await MysqlAssert.SameObjectsAsync(server, source, target);
        Assert.NotEmpty(await MysqlAssert.ObjectsAsync(server, target));
        Assert.Empty(await ReplicaDatabasesAsync());
        // The restored objects work in their new home: the trigger writes to the new audit table, the view reads the new data.
        await server.ExecuteAsync(target, "INSERT INTO customers (id, email) VALUES (100, 'new@example.com')");
        Assert.Equal("1", await server.ScalarAsync(target, "SELECT COUNT(*) FROM audit WHERE msg = 'new; customer */ 100'"));
        Assert.Equal("4", await server.ScalarAsync(target, "SELECT n FROM customer_email_count"));
        Assert.Equal("hi 'x'", await server.ScalarAsync(target, "SELECT greet('x')"));
    }

    [Fact]
    public async Task DumpSource_Arguments_HexBlobAndNoPasswordOnTheCommandLine()
    {
        string source = await CreateAwkwardDatabaseAsync();
        await using var dump = new MysqlDumpSource(DatabaseUri.Parse(server.ConnectionUri(source)), new SourceOptions(), s_tools);
        await dump.PrepareAsync(CancellationToken.None);

        IReadOnlyList<string> arguments = dump.Arguments();
        Assert.Contains("--hex-blob", arguments);
        Assert.DoesNotContain(arguments, a => a.Contains(server.Password, StringComparison.Ordinal));
        Assert.Equal(source, arguments[^1]);
        Assert.StartsWith("10.", dump.ServerVersion);
        Assert.True(dump.Length > 0);
    }

    [Fact]
    public async Task DumpSource_DumpText_HasBinaryAsHexAndNoDatabaseStatements()
    {
        string source = await CreateAwkwardDatabaseAsync();
        string text = await File.ReadAllTextAsync(await DumpToFileAsync(source));

        Assert.Contains("(3,0x5C27220D0A1A00,0x5C27220D0A1A)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("CREATE DATABASE", text, StringComparison.Ordinal);
        Assert.DoesNotContain("USE `", text, StringComparison.Ordinal);
        // The database's name is only in comments ("-- Host: 127.0.0.1    Database: name"), so the dump restores anywhere.
        Assert.All(text.Split('\n').Where(line => line.Contains(source, StringComparison.Ordinal)), line => Assert.StartsWith("--", line));
        // Extended inserts by default: one statement for all six rows.
        Assert.Contains("INSERT INTO `customers` VALUES\n(1,", text, StringComparison.Ordinal);
        Assert.Equal(1, CountOccurrences(text, "INSERT INTO `customers`"));
    }

    [Fact]
    public async Task DumpSource_InsertsFormat_OneRowPerInsertWithColumnNames()
    {
        string source = await CreateAwkwardDatabaseAsync();
        string text = await File.ReadAllTextAsync(await DumpToFileAsync(source, new SourceOptions { DataFormat = DataFormat.Inserts }));

        Assert.Contains("INSERT INTO `customers` (`id`, `email`, `first_name`, `last_name`, `note`, `referred_by`) VALUES (1,'alice@example.com'", text, StringComparison.Ordinal);
        Assert.Equal(6, CountOccurrences(text, "INSERT INTO `customers` ("));
    }

    [Fact]
    public async Task DumpSource_TableOptions_SelectExcludeAndDropData()
    {
        string source = await CreateAwkwardDatabaseAsync();
        var config = new SourceOptions
        {
            Tables = ["c*", $"{source}.orders", "types", "blobs"],
            ExcludeTables = ["blobs"],
            ExcludeTableData = ["types"],
        };
        string text = await File.ReadAllTextAsync(await DumpToFileAsync(source, config));

        Assert.Contains("CREATE TABLE `customers`", text, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE `orders`", text, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE `types`", text, StringComparison.Ordinal);
        Assert.DoesNotContain("INSERT INTO `types`", text, StringComparison.Ordinal);
        Assert.DoesNotContain("`blobs`", text, StringComparison.Ordinal);
        Assert.DoesNotContain("CREATE TABLE `audit`", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DumpSource_TablePatternMatchingNothing_IsAConfigError()
    {
        string source = await CreateAwkwardDatabaseAsync();
        await using var dump = new MysqlDumpSource(DatabaseUri.Parse(server.ConnectionUri(source)), new SourceOptions { Tables = ["nope*"] }, s_tools);

        var e = await Assert.ThrowsAsync<ConfigException>(() => dump.PrepareAsync(CancellationToken.None));
        Assert.Contains("nope*", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DumpSource_WrongPassword_FailsInPrepareWithoutThePassword()
    {
        string source = await server.CreateDatabaseAsync();
        string wrong = "wrong \"pass'word" + Guid.NewGuid().ToString("N")[..6];
        await using var dump = new MysqlDumpSource(DatabaseUri.Parse(server.ConnectionUri(source, wrong)), new SourceOptions(), s_tools);

        var e = await Assert.ThrowsAsync<DatabaseException>(() => dump.PrepareAsync(CancellationToken.None));
        Assert.Contains("Access denied", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Password, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DumpSource_UnreachableHost_FailsInPrepareClearly()
    {
        int closedPort = ServerFixture.FreePort();
        string uri = $"mysql://root:{Uri.EscapeDataString(server.Password)}@127.0.0.1:{closedPort}/db";
        await using var dump = new MysqlDumpSource(DatabaseUri.Parse(uri), new SourceOptions(), s_tools);

        var e = await Assert.ThrowsAsync<DatabaseException>(() => dump.PrepareAsync(CancellationToken.None));
        Assert.Contains("Can't connect", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Password, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DumpSource_MissingDatabase_FailsInPrepare()
    {
        await using var dump = new MysqlDumpSource(DatabaseUri.Parse(server.ConnectionUri("no_such_db")), new SourceOptions(), s_tools);

        var e = await Assert.ThrowsAsync<DatabaseException>(() => dump.PrepareAsync(CancellationToken.None));
        Assert.Contains("no_such_db", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Destination_FailingStatementMidRestore_LeavesDestinationUnchanged()
    {
        string source = await CreateAwkwardDatabaseAsync();
        string dump = await DumpToFileAsync(source);
        string target = await CreateAwkwardDatabaseAsync();
        await server.ExecuteAsync(target, "UPDATE customers SET first_name = 'changed' WHERE id = 1; CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (7)");
        string broken = Path.Combine(_work, "broken.sql");
        string text = await File.ReadAllTextAsync(dump);
        int cut = text.IndexOf("CREATE TABLE `orders`", StringComparison.Ordinal);
        await File.WriteAllTextAsync(broken, text[..cut] + "INSERT INTO no_such_table VALUES (1);\n" + text[cut..]);
        List<string> before = await SnapshotAsync(target);

        foreach (WipeMode wipe in new[] { WipeMode.None, WipeMode.Database })
        {
            var e = await Assert.ThrowsAsync<DatabaseException>(() => RestoreFileAsync(target, broken, wipe));
            Assert.Contains("no_such_table", e.Message, StringComparison.Ordinal);
            Assert.Equal(before, await SnapshotAsync(target));
        }
        Assert.Empty(await ReplicaDatabasesAsync());
    }

    [Fact]
    public async Task Destination_NoWipeWithConflictingTable_FailsAndChangesNothing()
    {
        string source = await CreateAwkwardDatabaseAsync();
        string dump = await DumpToFileAsync(source);
        string target = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(target, "CREATE TABLE orders (x int); INSERT INTO orders VALUES (1); CREATE TABLE other (y int)");
        List<string> before = await SnapshotAsync(target);

        var e = await Assert.ThrowsAsync<DatabaseException>(() => RestoreFileAsync(target, dump, WipeMode.None));

        Assert.Contains("`orders`", e.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(target));
        Assert.Empty(await ReplicaDatabasesAsync());
    }

    [Fact]
    public async Task Destination_NoWipeWithUnrelatedTables_KeepsThemBesideTheRestore()
    {
        string source = await CreateAwkwardDatabaseAsync();
        string dump = await DumpToFileAsync(source);
        string target = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(target, "CREATE TABLE other (y int); INSERT INTO other VALUES (5)");

        await RestoreFileAsync(target, dump, WipeMode.None);

        Assert.Equal("5", await server.ScalarAsync(target, "SELECT y FROM other"));
        Assert.Equal("6", await server.ScalarAsync(target, "SELECT COUNT(*) FROM customers"));
    }

    [Theory]
    [InlineData(WipeMode.Database)]
    [InlineData(WipeMode.Schemas)]
    public async Task Destination_Wipe_ReplacesEveryTableViewTriggerAndRoutine(WipeMode wipe)
    {
        string source = await CreateAwkwardDatabaseAsync();
        string dump = await DumpToFileAsync(source);
        string target = await CreateAwkwardDatabaseAsync();
        await server.ExecuteAsync(target, """
            CREATE TABLE leftover (id int PRIMARY KEY, c int, CONSTRAINT leftover_fk FOREIGN KEY (c) REFERENCES customers (id));
            CREATE TRIGGER leftover_trg BEFORE INSERT ON leftover FOR EACH ROW SET NEW.c = NEW.c;
            CREATE VIEW customers_view AS SELECT 1 AS one;
            CREATE PROCEDURE old_proc() SELECT 1;
            DELETE FROM orders;
            """);

        await RestoreFileAsync(target, dump, wipe);

        await MysqlAssert.SameTablesAndDataAsync(server, source, target);
        await MysqlAssert.SameObjectsAsync(server, source, target);
        Assert.Empty(await ReplicaDatabasesAsync());
    }

    [Fact]
    public async Task Destination_MissingDatabase_IsCreatedOnlyWhenTheRestoreSucceeds()
    {
        string source = await CreateAwkwardDatabaseAsync();
        string dump = await DumpToFileAsync(source);
        string target = "replica_new_" + Guid.NewGuid().ToString("N")[..8];
        string broken = Path.Combine(_work, "broken.sql");
        await File.WriteAllTextAsync(broken, await File.ReadAllTextAsync(dump) + "\nSELECT * FROM nope;\n");

        await Assert.ThrowsAsync<DatabaseException>(() => RestoreFileAsync(target, broken));
        Assert.DoesNotContain(target, await server.ListDatabasesAsync());

        await Assert.ThrowsAsync<DatabaseException>(() => RestoreFileAsync(target, dump, createDatabase: false));
        Assert.DoesNotContain(target, await server.ListDatabasesAsync());

        await RestoreFileAsync(target, dump);
        await MysqlAssert.SameTablesAndDataAsync(server, source, target);
        Assert.Empty(await ReplicaDatabasesAsync());
    }

    [Fact]
    public async Task Destination_DisposedWithoutCommit_DropsTheStagingDatabase()
    {
        string target = await server.CreateDatabaseAsync();
        await using (var destination = new MysqlDestination(DatabaseUri.Parse(server.ConnectionUri(target)), s_tools, WipeMode.None, createDatabase: true) { AllowPrivilegedRole = true })
        {
            await destination.PrepareAsync(CancellationToken.None);
            await destination.Open().WriteAsync(Encoding.UTF8.GetBytes("CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\n"));
            Assert.Contains(destination.StagingDatabase, await server.ListDatabasesAsync());
        }

        Assert.Empty(await server.ListTablesAsync(target));
        Assert.Empty(await ReplicaDatabasesAsync());
    }

    [Fact]
    public async Task Destination_WrongPassword_FailsInPrepareWithoutThePassword()
    {
        string target = await server.CreateDatabaseAsync();
        string wrong = "wrong#pw\\" + Guid.NewGuid().ToString("N")[..6];
        await using var destination = new MysqlDestination(DatabaseUri.Parse(server.ConnectionUri(target, wrong)), s_tools, WipeMode.None, createDatabase: true) { AllowPrivilegedRole = true };

        var e = await Assert.ThrowsAsync<DatabaseException>(() => destination.PrepareAsync(CancellationToken.None));
        Assert.Contains("Access denied", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Everything a user could see changed in a database: objects, table definitions and rows.</summary>
    private async Task<List<string>> SnapshotAsync(string db)
    {
        var snapshot = new List<string>(await MysqlAssert.ObjectsAsync(server, db));
        foreach (string table in await server.ListTablesAsync(db))
        {
            snapshot.Add(await server.ShowCreateTableAsync(db, table));
            snapshot.AddRange(await MysqlAssert.RowsAsync(server, db, table));
        }
        return snapshot;
    }

    private static int CountOccurrences(string text, string value)
    {
        int count = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
