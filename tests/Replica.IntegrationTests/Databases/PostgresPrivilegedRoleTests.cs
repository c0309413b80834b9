using System.Globalization;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// The restore guard cannot see SQL a dump runs through dynamic SQL (a DO block's EXECUTE, a function): restored as a
/// superuser, such a dump makes the server run programs. A restore refuses a role that could do that, unless the config
/// says it trusts its dumps; a plain role gets "permission denied" and the restore rolls back.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresPrivilegedRoleTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();
    readonly string _marker = Path.Combine(Path.GetTempPath(), "replica-pwned-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        File.Delete(_marker);
        _cli.Dispose();
    }

    string Config(string uri, bool allow) => _cli.WriteConfig($"""
        destination:
          connection_uri: '{uri}'
        {(allow ? "  allow_privileged_role: true" : "")}
        bridge:
          local:
            path: {_cli.BridgePath}
        """);

    string RoleUri(string role, string database) =>
        $"postgres://{role}:unused@{PostgresServer.Host}:{server.Port.ToString(CultureInfo.InvariantCulture)}/{database}";

    /// <summary>A dump that asks the server to run `touch` through dynamic SQL, which no statement-level check can see.</summary>
    string Attack => $"""
        CREATE TABLE t (line text);
        DO $$ BEGIN EXECUTE 'COPY t FROM PROGRAM ' || quote_literal('touch ' || '{_marker}'); END $$;
        """;

    /// <summary>A database with a table of its own, owned by <paramref name="owner"/> (so it may create tables in public).</summary>
    async Task<string> DestinationAsync(string owner = PostgresServer.User)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, "CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)");
        await server.ExecuteAsync("postgres", $"ALTER DATABASE {PostgresServer.QuoteIdentifier(db)} OWNER TO {PostgresServer.QuoteIdentifier(owner)}");
        return db;
    }

    async Task<string> RoleAsync(string attributes = "", string memberOf = "")
    {
        var role = "restorer_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync("postgres", $"CREATE ROLE {role} LOGIN {attributes}");
        if (memberOf.Length > 0)
        {
            await server.ExecuteAsync("postgres", $"GRANT {memberOf} TO {role}");
        }
        return role;
    }

    async Task AssertUnchangedAsync(string db)
    {
        Assert.Equal("1", (await server.QueryAsync(db, "SELECT string_agg(id::text, ',') FROM keep_me"))[0][0]);
        Assert.Null((await server.QueryAsync(db, "SELECT to_regclass('t')::text"))[0][0]);
    }

    [Fact]
    public async Task Restore_AsSuperuser_IsRefusedBeforeAnythingChanges()
    {
        var db = await DestinationAsync();
        await _cli.StoreRawDumpAsync("attack", Attack);

        var restore = await _cli.RunAsync("restore", "-c", Config(server.PasswordUri(db), allow: false), "--name", "attack", "--wipe", "schemas", "--yes");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains("is a superuser", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("destination.allow_privileged_role", restore.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(PostgresServer.Password, restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_marker));
        await AssertUnchangedAsync(db);
    }

    [Fact]
    public async Task Restore_AsSuperuserAllowed_RunsTheDumpsProgram()
    {
        // The attack is real: the opt-in restores as before, and the server runs the command. What the refusal prevents.
        var db = await DestinationAsync();
        await _cli.StoreRawDumpAsync("attack", Attack);

        var restore = await _cli.RunAsync("restore", "-c", Config(server.PasswordUri(db), allow: true), "--name", "attack");

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.True(File.Exists(_marker));
    }

    [Fact]
    public async Task Restore_AsPlainRole_GetsPermissionDeniedAndRollsBack()
    {
        var role = await RoleAsync();
        var db = await DestinationAsync(role);
        await _cli.StoreRawDumpAsync("attack", Attack);

        var restore = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, db), allow: false), "--name", "attack");

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("pg_execute_server_program", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_marker));
        await AssertUnchangedAsync(db);
    }

    /// <summary>
    /// A plain role reaches as far as a superuser's SECURITY DEFINER function it may call (an administrator's helper
    /// that runs the SQL it is given; PUBLIC may execute a new function): in the destination, or in template1, which a
    /// created or staging database copies. The restore refuses such a role, naming the function, before anything
    /// changes; the opt-in shows the attack is real (the program runs); with EXECUTE revoked the role restores.
    /// </summary>
    [Fact]
    public async Task Restore_AsPlainRoleThatMayRunASuperusersSecurityDefinerFunction_IsRefused()
    {
        const string Helper = "CREATE FUNCTION public.run_sql(sql text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN EXECUTE sql; END $$";
        var role = await RoleAsync("CREATEDB");
        var db = await DestinationAsync(role);
        await server.ExecuteAsync(db, Helper);
        await _cli.StoreRawDumpAsync("attack", $"CREATE TABLE t (line text);\nSELECT public.run_sql('COPY t FROM PROGRAM ' || quote_literal('touch {_marker}'));\n");
        await _cli.StoreRawDumpAsync("plain", "CREATE TABLE u (line text);\n");

        var refused = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, db), allow: false), "--name", "attack");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"may run the SECURITY DEFINER function run_sql(text) of the superuser {PostgresServer.User} in database {db}", refused.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_marker));
        await AssertUnchangedAsync(db);

        var allowed = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, db), allow: true), "--name", "attack");

        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.True(File.Exists(_marker), "the superuser's function did not run the dump's program");

        await server.ExecuteAsync(db, "REVOKE EXECUTE ON FUNCTION public.run_sql(text) FROM PUBLIC");
        var revoked = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, db), allow: false), "--name", "plain");

        Assert.True(revoked.ExitCode == 0, revoked.Stderr);

        // The same function in template1: a restore that creates its database (--wipe database: a staging copy of template1) is refused.
        var other = await DestinationAsync(role);
        await server.ExecuteAsync("template1", Helper);
        try
        {
            var wiped = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, other), allow: false), "--name", "plain", "--wipe", "database", "--yes");

            Assert.Equal(2, wiped.ExitCode);
            Assert.Contains($"may run the SECURITY DEFINER function run_sql(text) of the superuser {PostgresServer.User} in database template1", wiped.Stderr, StringComparison.Ordinal);
            Assert.Equal("1", (await server.QueryAsync(other, "SELECT string_agg(id::text, ',') FROM keep_me"))[0][0]);
        }
        finally
        {
            await server.ExecuteAsync("template1", "DROP FUNCTION public.run_sql(text)");
        }
    }

    [Fact]
    public async Task Restore_AsPlainRole_RestoresAnOrdinaryDump()
    {
        var role = await RoleAsync("CREATEDB");
        var db = await DestinationAsync(role);
        await _cli.StoreRawDumpAsync("plain", "CREATE TABLE t (line text);\nCOPY t (line) FROM stdin;\nhello\n\\.\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, db), allow: false), "--name", "plain", "--wipe", "database", "--yes");

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal("hello", (await server.QueryAsync(db, "SELECT line FROM t"))[0][0]);
        Assert.Null((await server.QueryAsync(db, "SELECT to_regclass('keep_me')::text"))[0][0]);
    }

    /// <summary>
    /// The staging database of --wipe database is not open to PUBLIC while the restore runs: a session of another role on
    /// it made the failed restore's DROP ... WITH (FORCE) fail (the restoring role may not end it), and the staging
    /// database stayed without a word. Now other roles cannot connect; one that still can (a superuser) keeps it, and the
    /// restore says so on stderr. On success the destination grants PUBLIC's CONNECT as the replaced database did.
    /// </summary>
    [Fact]
    public async Task Restore_AsPlainRole_WipeDatabase_StagingIsClosedToOthersAndALeftoverIsReported()
    {
        var role = await RoleAsync("CREATEDB");
        var app = await RoleAsync();
        var db = await DestinationAsync(role);
        await _cli.StoreRawDumpAsync("slow-failing", "CREATE TABLE t (a int);\nSELECT pg_sleep(3);\nSELECT 1/0;\n");
        await _cli.StoreRawDumpAsync("plain", "CREATE TABLE t (a int);\n");
        var config = Config(RoleUri(role, db), allow: false);

        var restore = _cli.RunAsync("restore", "-c", config, "--name", "slow-failing", "--wipe", "database", "--yes");
        string? staging = null;
        for (var i = 0; i < 300 && staging is null && !restore.IsCompleted; i++)
        {
            // Once marked: the mark and the REVOKE come right after CREATE DATABASE, in one statement.
            var rows = await server.QueryAsync("postgres", $"SELECT datname FROM pg_database WHERE datname LIKE '{db}\\_replica\\_%' AND shobj_description(oid, 'pg_database') IS NOT NULL");
            staging = rows.Count > 0 ? rows[0][0] : null;
            await Task.Delay(50);
        }
        Assert.NotNull(staging);
        var asApp = new Npgsql.NpgsqlConnectionStringBuilder(server.ConnectionString(staging)) { Username = app }.ConnectionString;
        await using (var refused = new Npgsql.NpgsqlConnection(asApp))
        {
            var denied = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => refused.OpenAsync());
            Assert.Equal("42501", denied.SqlState);
        }
        await using (var held = new Npgsql.NpgsqlConnection(server.ConnectionString(staging)))
        {
            await held.OpenAsync();
            var failed = await restore;

            Assert.True(failed.ExitCode == 7, failed.Stderr);
            Assert.Contains($"replica: warning: the staging database {staging} on ", failed.Stderr, StringComparison.Ordinal);
            Assert.Contains("could not be dropped and is left on the server", failed.Stderr, StringComparison.Ordinal);
        }
        await server.DropDatabaseAsync(staging);
        Assert.Equal("1", (await server.QueryAsync(db, "SELECT string_agg(id::text, ',') FROM keep_me"))[0][0]);

        var good = await _cli.RunAsync("restore", "-c", config, "--name", "plain", "--wipe", "database", "--yes");

        Assert.True(good.ExitCode == 0, good.Stderr);
        Assert.Equal("t", (await server.QueryAsync("postgres", $"SELECT has_database_privilege('public', '{db}', 'CONNECT')"))[0][0]);
    }

    [Fact]
    public async Task Restore_AsPlainRole_NoOwnerAndNoPrivileges_RestoresPgDumpOfAnotherOwnersDatabase()
    {
        // pg_dump's default output: ALTER TABLE ... OWNER TO the source's owner, GRANT ... TO roles of the source.
        var owner = await RoleAsync();
        var reader = await RoleAsync();
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, $"""
            CREATE TABLE customers (id int PRIMARY KEY, name text);
            INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');
            ALTER TABLE customers OWNER TO {owner};
            GRANT SELECT ON customers TO {reader};
            ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {reader};
            """);
        var input = Path.Combine(_cli.WorkingDirectory, "source.sql");
        await server.PgDumpToFileAsync(source, input);
        var sql = await File.ReadAllTextAsync(input);
        Assert.Contains($"OWNER TO {owner};", sql, StringComparison.Ordinal);
        Assert.Contains($"TO {reader};", sql, StringComparison.Ordinal);
        var role = await RoleAsync();
        var db = await DestinationAsync(role);
        var config = Config(RoleUri(role, db), allow: false);
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", input, "--name", "prod")).ExitCode);

        var plain = await _cli.RunAsync("restore", "-c", config, "--name", "prod");
        File.WriteAllText(config, File.ReadAllText(config).Replace("destination:\n", "destination:\n  no_owner: true\n  no_privileges: true\n", StringComparison.Ordinal));
        var leftOut = await _cli.RunAsync("restore", "-c", config, "--name", "prod");

        Assert.Equal(7, plain.ExitCode);
        Assert.True(leftOut.ExitCode == 0, leftOut.Stderr);
        Assert.Equal(["1|Ada", "2|Grace"], (await server.QueryAsync(db, "SELECT id, name FROM customers ORDER BY id")).Select(r => $"{r[0]}|{r[1]}"));
        Assert.Equal(role, (await server.QueryAsync(db, "SELECT tableowner FROM pg_tables WHERE tablename = 'customers'"))[0][0]);
        Assert.Equal("f", (await server.QueryAsync(db, $"SELECT has_table_privilege('{reader}', 'customers', 'SELECT')"))[0][0]);
    }

    public static TheoryData<string> ClusterWideChanges => new()
    {
        "ALTER ROLE CURRENT_USER PASSWORD 'owned';\n",
        "alter /* c */ user {0}\n  with password 'owned';\n",
        "ALTER ROLE {0} SET search_path = evil, public;\n",
        "COMMENT ON DATABASE {1} IS 'owned';\n",
    };

    [Theory]
    [MemberData(nameof(ClusterWideChanges))]
    public async Task Restore_AsPlainRole_DumpThatChangesTheRoleOrItsDatabase_IsRefusedAndNothingChanges(string change)
    {
        // Every role may change its own password and settings, and an owner its database: a dump that does it outlives
        // the restore (the dump's author would know the restoring role's password). pg_dump writes none of it.
        var role = await RoleAsync("PASSWORD 'old-pw'");
        var db = await DestinationAsync(role);
        // The password's SCRAM verifier, the role's settings and the database's comment (the fixture trusts roles but one,
        // so the verifier is what a login would check).
        async Task<string> AccountAsync() => string.Join("|", (await server.QueryAsync("postgres",
            $"SELECT rolpassword, (SELECT string_agg(array_to_string(setconfig, ','), ';') FROM pg_db_role_setting WHERE setrole = r.oid), "
            + $"(SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{db}') FROM pg_authid r WHERE rolname = '{role}'"))[0]);
        var before = await AccountAsync();
        Assert.StartsWith("SCRAM-SHA-256$", before, StringComparison.Ordinal);
        await _cli.StoreRawDumpAsync("attack", "CREATE TABLE t (line text);\n" + string.Format(CultureInfo.InvariantCulture, change, role, db)
            + "COPY t (line) FROM stdin;\nhello\n\\.\n");

        var restore = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, db), allow: false), "--name", "attack");

        Assert.Equal(3, restore.ExitCode);
        Assert.Contains("refused:", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("line 2", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was restored", restore.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("owned", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await AccountAsync());
        await AssertUnchangedAsync(db);
    }

    public static TheoryData<string, string, string> PrivilegedRoles => new()
    {
        { "", "pg_execute_server_program", "is a member of pg_execute_server_program" },
        { "", "pg_write_server_files", "is a member of pg_write_server_files" },
        { "", "pg_read_server_files", "is a member of pg_read_server_files" },
        { "NOINHERIT", PostgresServer.User, "can SET ROLE to the superuser postgres" },
        { "CREATEROLE", "", "has CREATEROLE" },
    };

    [Theory]
    [MemberData(nameof(PrivilegedRoles))]
    public async Task Restore_AsRoleThatCanReachTheServer_IsRefused(string attributes, string memberOf, string reason)
    {
        var role = await RoleAsync(attributes, memberOf);
        var db = await DestinationAsync(role);
        await _cli.StoreRawDumpAsync("attack", Attack);

        var restore = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, db), allow: false), "--name", "attack");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains(reason, restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_marker));
        await AssertUnchangedAsync(db);
    }

    [Fact]
    public async Task Restore_AsRoleWithLoExport_IsRefused()
    {
        var role = await RoleAsync();
        await server.ExecuteAsync("postgres", $"GRANT EXECUTE ON FUNCTION lo_export(oid, text) TO {role}");
        var db = await DestinationAsync(role);
        await _cli.StoreRawDumpAsync("attack", Attack);

        var restore = await _cli.RunAsync("restore", "-c", Config(RoleUri(role, db), allow: false), "--name", "attack");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains("may run lo_export(oid,text)", restore.Stderr, StringComparison.Ordinal);
    }
}
