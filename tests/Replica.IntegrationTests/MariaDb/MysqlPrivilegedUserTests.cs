using System.Globalization;
using System.Text;
using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// The staging database confines only unqualified names: a dump restored by a user who may write to other databases
/// can change them (a qualified name, a prepared statement, a trigger), and a failed restore would not undo it. A restore
/// refuses such a user unless the config says it trusts its dumps; a user whose grants reach only the destination and
/// its staging databases gets "access denied", and the failed restore changes nothing anywhere.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlPrivilegedUserTests(MariaDbServer server) : IDisposable
{
    const string UserPassword = "user-pw-0123";
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    string Config(string uri, bool allow = false) => _cli.WriteConfig($"""
        destination:
          connection_uri: '{uri}'
        {(allow ? "  allow_privileged_role: true" : "")}
        bridge:
          local:
            path: {_cli.BridgePath}
        """);

    string UserUri(string user, string database) =>
        string.Create(CultureInfo.InvariantCulture, $"mysql://{user}:{UserPassword}@{MariaDbServer.Host}:{server.Port}/{database}");

    /// <summary>Another team's database, which no restore into the destination may touch.</summary>
    async Task<string> OtherDatabaseAsync()
    {
        var other = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(other, "CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
        return other;
    }

    async Task AssertUntouchedAsync(string other)
    {
        Assert.Equal(["keep_me"], await server.ListTablesAsync(other));
        Assert.Equal("2", await server.ScalarAsync(other, "SELECT count(*) FROM keep_me"));
    }

    /// <summary>A user with the grants the README recommends (the destination and its staging databases) and <paramref name="extra"/>.</summary>
    async Task<string> UserAsync(string destination, params string[] extra)
    {
        var user = "restorer_" + Guid.NewGuid().ToString("N")[..8];
        var staging = MariaDbServer.QuoteIdentifier(destination.Replace("_", "\\_", StringComparison.Ordinal) + "\\_replica\\_%");
        var sql = new StringBuilder($"CREATE USER '{user}'@'%' IDENTIFIED BY '{UserPassword}';\n");
        sql.Append(CultureInfo.InvariantCulture, $"GRANT ALL ON {MariaDbServer.QuoteIdentifier(destination)}.* TO '{user}'@'%';\n");
        sql.Append(CultureInfo.InvariantCulture, $"GRANT ALL ON {staging}.* TO '{user}'@'%';\n");
        foreach (var grant in extra)
        {
            sql.Append(CultureInfo.InvariantCulture, $"{string.Format(CultureInfo.InvariantCulture, grant, $"'{user}'@'%'")};\n");
        }
        await server.ExecuteAsync(null, sql.ToString());
        return user;
    }

    [Fact]
    public async Task Restore_AsRoot_IsRefusedBeforeAnythingChanges()
    {
        var other = await OtherDatabaseAsync();
        var destination = await server.CreateDatabaseAsync();
        await _cli.StoreRawDumpAsync("attack", $"CREATE TABLE t (a int);\nDROP TABLE {other}.keep_me;\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(server.ConnectionUri(destination)), "--name", "attack");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains("on every database", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("destination.allow_privileged_role", restore.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Password, restore.Stderr, StringComparison.Ordinal);
        await AssertUntouchedAsync(other);
        Assert.Empty(await server.ListTablesAsync(destination));
        Assert.Empty(await server.QueryAsync(null, $"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{destination}\\_replica\\_%'"));
    }

    [Fact]
    public async Task Restore_AsRootAllowed_ChangesTheOtherDatabase()
    {
        // The attack is real: with the opt-in the restore runs as before, and the other database loses its table.
        var other = await OtherDatabaseAsync();
        var destination = await server.CreateDatabaseAsync();
        await _cli.StoreRawDumpAsync("attack", $"CREATE TABLE t (a int);\nDROP TABLE {other}.keep_me;\nSELECT 1 FROM no_such_table;\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(server.ConnectionUri(destination), allow: true), "--name", "attack");

        Assert.Equal(7, restore.ExitCode);
        Assert.Empty(await server.ListTablesAsync(other));
    }

    public static TheoryData<string, string> Attacks => new()
    {
        { "DROP TABLE {0}.keep_me;\n", "denied" },
        { "CREATE TABLE {0}.pwned (a int);\n", "denied" },
        // The restore leaves a dump's USE out (its statements stay in the staging database): the DROP finds no table.
        { "USE {0};\nDROP TABLE keep_me;\n", "Unknown table" },
        // A trigger's body is not checked by the guard (it is kept, not run, when created); the row fires it.
        { "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW DELETE FROM {0}.keep_me;\nINSERT INTO t VALUES (1);\n", "denied" },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Restore_AsConfinedUser_CannotChangeAnotherDatabase(string attack, string error)
    {
        var other = await OtherDatabaseAsync();
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE mine (id int); INSERT INTO mine VALUES (7)");
        var user = await UserAsync(destination, $"GRANT SELECT ON {MariaDbServer.QuoteIdentifier(other)}.* TO {{0}}");
        await _cli.StoreRawDumpAsync("attack", "CREATE TABLE t (a int);\n" + string.Format(CultureInfo.InvariantCulture, attack, other));

        var restore = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "attack", "--wipe", "database", "--yes");

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains(error, restore.Stderr, StringComparison.OrdinalIgnoreCase);
        await AssertUntouchedAsync(other);
        Assert.Equal(["mine"], await server.ListTablesAsync(destination));
    }

    [Fact]
    public async Task Restore_AsConfinedUser_RestoresAnOrdinaryDump()
    {
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE mine (id int)");
        var user = await UserAsync(destination);
        await _cli.StoreRawDumpAsync("plain", "CREATE TABLE t (a int PRIMARY KEY, b varchar(10));\nINSERT INTO t VALUES (1,'one'),(2,'two');\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "plain", "--wipe", "database", "--yes");

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(["t"], await server.ListTablesAsync(destination));
        Assert.Equal("2", await server.ScalarAsync(destination, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task Restore_AsConfinedUser_NoOwner_RestoresMysqldumpWhoseDefinerIsRoot()
    {
        // mysqldump writes DEFINER=`root`@`localhost` on every view, trigger and routine: another user may name it only
        // with SET USER (SUPER). destination.no_owner leaves the clauses out, so the restoring user defines them.
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        var destination = await server.CreateDatabaseAsync();
        var user = await UserAsync(destination);
        string Config(string extra) => _cli.WriteConfig($"""
            source:
              connection_uri: '{server.ConnectionUri(source)}'
            destination:
              connection_uri: '{UserUri(user, destination)}'
            {extra}
            bridge:
              local:
                path: {_cli.BridgePath}
            """);
        var dump = await _cli.RunAsync("dump", "-c", Config(""));
        Assert.True(dump.ExitCode == 0, dump.Stderr);

        var plain = await _cli.RunAsync("restore", "-c", Config(""), "--latest");
        var leftOut = await _cli.RunAsync("restore", "-c", Config("  no_owner: true"), "--latest");

        Assert.Equal(7, plain.ExitCode);
        Assert.Contains("denied", plain.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.True(leftOut.ExitCode == 0, leftOut.Stderr);
        Assert.Equal(await server.ListTablesAsync(source), await server.ListTablesAsync(destination));
        var definers = await server.QueryAsync(null,
            $"SELECT 'trigger', DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{destination}' "
            + $"UNION ALL SELECT 'view', DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '{destination}' "
            + $"UNION ALL SELECT 'routine', DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{destination}'");
        Assert.Equal(["routine", "trigger", "view"], definers.Select(r => r[0]).Distinct().Order());
        Assert.All(definers, r => Assert.Equal($"{user}@%", r[1]));
        Assert.Equal("hi 'Ada'", await server.ScalarAsync(destination, "SELECT greet('Ada')"));
    }

    public static TheoryData<string> AccountChanges => new()
    {
        "SET PASSWORD = PASSWORD('owned');\n",
        "set /* c */ password for CURRENT_USER() = PASSWORD('owned');\n",
        "ALTER USER CURRENT_USER() IDENTIFIED BY 'owned';\n",
        "/*M!100100 alter user current_user() identified by 'owned' */;\n",
    };

    [Theory]
    [MemberData(nameof(AccountChanges))]
    public async Task Restore_AsConfinedUser_DumpThatChangesTheUsersPassword_IsRefusedAndTheOldPasswordStillWorks(string change)
    {
        // Any user may change their own password with SET PASSWORD (no grant needed): the dump's author would then know it.
        // (MariaDB 10.11 denies a plain user ALTER USER, which MySQL 8 allows for CURRENT_USER(); refused all the same.)
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(destination, "CREATE TABLE mine (id int)");
        var user = await UserAsync(destination);
        Task<string?> AccountAsync() => server.ScalarAsync(null, $"SELECT authentication_string FROM mysql.user WHERE user = '{user}'");
        var before = await AccountAsync();
        await _cli.StoreRawDumpAsync("attack", "CREATE TABLE t (a int);\n" + change + "INSERT INTO t VALUES (1);\n");
        await _cli.StoreRawDumpAsync("plain", "CREATE TABLE t (a int);\nINSERT INTO t VALUES (2);\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "attack", "--wipe", "database", "--yes");

        Assert.True(restore.ExitCode == 3, restore.Stderr);
        Assert.Contains("refused:", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("line 2", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was restored", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await AccountAsync());
        Assert.Equal(["mine"], await server.ListTablesAsync(destination));
        // The old password still logs in: an ordinary restore as the same user works.
        var plain = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "plain", "--wipe", "database", "--yes");
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        Assert.Equal("2", await server.ScalarAsync(destination, "SELECT a FROM t"));
    }

    public static TheoryData<string, string> WideGrants => new()
    {
        { "GRANT INSERT ON *.* TO {0}", "may INSERT on every database" },
        { "GRANT FILE ON *.* TO {0}", "may FILE on every database" },
        { "GRANT CREATE, DROP ON `%`.* TO {0}", "on databases matching '%'" },
        { "GRANT ALL ON `{1}%`.* TO {0}", "on databases matching '{1}%'" },
        { "GRANT INSERT ON `{2}`.keep_me TO {0}", "may INSERT on tables of '{2}'" },
        { "GRANT UPDATE (id) ON `{2}`.keep_me TO {0}", "may UPDATE on columns of '{2}'" },
        { "GRANT TRIGGER ON `{2}`.* TO {0}", "may TRIGGER on databases matching '{2}'" },
    };

    [Theory]
    [MemberData(nameof(WideGrants))]
    public async Task Restore_AsUserWhoseGrantsReachFurther_IsRefused(string grant, string reason)
    {
        var other = await OtherDatabaseAsync();
        var destination = await server.CreateDatabaseAsync();
        var user = await UserAsync(destination, grant.Replace("{1}", destination, StringComparison.Ordinal).Replace("{2}", other, StringComparison.Ordinal));
        await _cli.StoreRawDumpAsync("attack", $"CREATE TABLE t (a int);\nDROP TABLE {other}.keep_me;\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "attack");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains(reason.Replace("{1}", destination, StringComparison.Ordinal).Replace("{2}", other, StringComparison.Ordinal), restore.Stderr, StringComparison.Ordinal);
        await AssertUntouchedAsync(other);
    }

    /// <summary>
    /// A database named NULL: the client prints its name as it prints SQL NULL, so the list of databases a grant's `_`
    /// wildcard could match left it out, and a grant on `NUL_` (made for a destination named NULA) passed as confined
    /// to the destination: the dump dropped a table in NULL (found by review).
    /// </summary>
    [Fact]
    public async Task Restore_AsUserWhoseWildcardGrantAlsoMatchesADatabaseNamedNull_IsRefused()
    {
        await server.ExecuteAsync(null, "DROP DATABASE IF EXISTS `NULA`; CREATE DATABASE IF NOT EXISTS `NULL`");
        try
        {
            await server.ExecuteAsync("NULL", "DROP TABLE IF EXISTS keep_me; CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1), (2)");
            var destination = await server.CreateDatabaseAsync("NULA");
            var user = await UserAsync(destination, "GRANT ALL ON `NUL_`.* TO {0}");
            await _cli.StoreRawDumpAsync("attack", "CREATE TABLE t (a int);\nDROP TABLE `NULL`.keep_me;\n");

            var restore = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "attack");

            Assert.Equal(2, restore.ExitCode);
            Assert.Contains("on databases matching 'NUL_'", restore.Stderr, StringComparison.Ordinal);
            await AssertUntouchedAsync("NULL");
        }
        finally
        {
            await server.ExecuteAsync(null, "DROP DATABASE IF EXISTS `NULL`; DROP DATABASE IF EXISTS `NULA`");
        }
    }

    [Fact]
    public async Task Restore_AsUserWithExecuteOnAnotherDatabasesProcedure_IsRefused()
    {
        // EXECUTE of a SQL SECURITY DEFINER procedure writes with its definer's rights; information_schema does not show it.
        var other = await OtherDatabaseAsync();
        await server.ExecuteAsync(other, "CREATE PROCEDURE drop_it() DROP TABLE keep_me");
        var destination = await server.CreateDatabaseAsync();
        var user = await UserAsync(destination, $"GRANT EXECUTE ON PROCEDURE {MariaDbServer.QuoteIdentifier(other)}.drop_it TO {{0}}");
        await _cli.StoreRawDumpAsync("attack", $"CALL {other}.drop_it();\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "attack");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains($"may EXECUTE on routines of '{other}'", restore.Stderr, StringComparison.Ordinal);
        await AssertUntouchedAsync(other);
    }

    [Fact]
    public async Task Restore_WhenPublicMayWriteAnotherDatabase_IsRefused()
    {
        // MariaDB 10.11: a grant to PUBLIC is every user's, and information_schema shows it to no one but root.
        var other = await OtherDatabaseAsync();
        var destination = await server.CreateDatabaseAsync();
        var user = await UserAsync(destination);
        await _cli.StoreRawDumpAsync("attack", $"DROP TABLE {other}.keep_me;\n");
        await server.ExecuteAsync(null, $"GRANT DROP ON {MariaDbServer.QuoteIdentifier(other)}.* TO PUBLIC");
        try
        {
            var restore = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "attack");

            Assert.Equal(2, restore.ExitCode);
            Assert.Contains($"may DROP on databases matching '{other}' (granted to PUBLIC)", restore.Stderr, StringComparison.Ordinal);
            await AssertUntouchedAsync(other);
        }
        finally
        {
            await server.ExecuteAsync(null, $"REVOKE DROP ON {MariaDbServer.QuoteIdentifier(other)}.* FROM PUBLIC");
        }
    }

    [Fact]
    public async Task Restore_AsUserWithARole_IsRefused()
    {
        var other = await OtherDatabaseAsync();
        var destination = await server.CreateDatabaseAsync();
        var role = "role_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync(null, $"CREATE ROLE {role}; GRANT ALL ON {MariaDbServer.QuoteIdentifier(other)}.* TO {role}");
        var user = await UserAsync(destination, $"GRANT {role} TO {{0}}");
        await _cli.StoreRawDumpAsync("attack", $"SET ROLE {role};\nDROP TABLE {other}.keep_me;\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(UserUri(user, destination)), "--name", "attack");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains($"may SET ROLE {role}", restore.Stderr, StringComparison.Ordinal);
        await AssertUntouchedAsync(other);
    }
}
