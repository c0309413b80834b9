using System.Globalization;
using Npgsql;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;
using Replica.Sources;
using Replica.Subsetting;

namespace Replica.IntegrationTests.Sources;

/// <summary>
/// The subset closure on a real PostgreSQL through PostgresSubsetSource, inside one REPEATABLE READ READ ONLY
/// transaction as a read-only role: what it keeps is checked against SQL on the same data (roots, followed children,
/// parents of every kept row, a self-reference, a composite key, a key to a unique column, a partitioned table, a
/// table without a primary key).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class PostgresSubsetSourceTests(PostgresServer server, PostgresStandbyFixture standbyFixture) : IDisposable
{
    readonly List<KeyStore> _stores = [];

    /// <summary>A key store, removed after the test.</summary>
    KeyStore Store()
    {
        var store = new KeyStore(16 << 20);
        _stores.Add(store);
        return store;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    const string Schema = """
        CREATE TABLE employees (id int PRIMARY KEY, manager_id int REFERENCES employees (id), name text);
        CREATE TABLE customers (id int PRIMARY KEY, country text NOT NULL, code text UNIQUE NOT NULL);
        CREATE TABLE products (sku text, version int, PRIMARY KEY (sku, version));
        CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id),
                             salesperson_id int REFERENCES employees (id), placed date NOT NULL) ;
        CREATE TABLE order_items (id bigint, order_id bigint NOT NULL REFERENCES orders (id), sku text, version int,
                                  PRIMARY KEY (id), FOREIGN KEY (sku, version) REFERENCES products (sku, version));
        CREATE TABLE events (id bigint, customer_code text REFERENCES customers (code), at date NOT NULL, PRIMARY KEY (id, at))
            PARTITION BY RANGE (at);
        CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE TABLE notes (customer_id int REFERENCES customers (id), body text);  -- no primary key
        INSERT INTO employees SELECT i, CASE WHEN i > 1 THEN i / 2 END, 'e' || i FROM generate_series(1, 40) i;
        INSERT INTO customers SELECT i, CASE WHEN i % 3 = 0 THEN 'DE' ELSE 'FR' END, 'C' || i FROM generate_series(1, 3000) i;
        -- SKUs with escapes in COPY text (tab, newline, backslash), colons and non-ASCII: a composite key file mode reads as bytes.
        INSERT INTO products SELECT 'sk' || (ARRAY[E'\u00fc\t\\:', E'\U0001F600\n1:', 'u'])[1 + i % 50 % 3] || (i % 50), i / 50 FROM generate_series(0, 199) i;
        INSERT INTO orders SELECT i, 1 + i % 3000, CASE WHEN i % 4 = 0 THEN NULL ELSE 1 + i % 40 END, date '2025-06-01' + i % 400
            FROM generate_series(1, 9000) i;
        INSERT INTO order_items SELECT i, 1 + i % 9000, 'sk' || (ARRAY[E'\u00fc\t\\:', E'\U0001F600\n1:', 'u'])[1 + i % 50 % 3] || (i % 50), (i / 7) % 4
            FROM generate_series(1, 20000) i;
        INSERT INTO events SELECT i, 'C' || (1 + i % 3000), date '2025-03-01' + i % 600 FROM generate_series(1, 12000) i;
        INSERT INTO notes SELECT 1 + i % 3000, 'note ' || i FROM generate_series(1, 500) i;
        ANALYZE;
        """;

    static long Count(List<string?[]> rows) => long.Parse(rows[0][0]!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A database with <see cref="Schema"/> on the primary, and a read-only role (it replicates to the standby).</summary>
    async Task<(string Db, string Role)> SourceAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, Schema);
        var role = "subset_reader_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync("postgres", $"CREATE ROLE {role} LOGIN; GRANT pg_read_all_data TO {role}; ALTER ROLE {role} SET default_transaction_read_only = on");
        return (db, role);
    }

    [Fact]
    public async Task RunAsync_CustomersOfOneCountryWithOrdersFollowed_KeepsWhatSqlSaysAsAReadOnlyRole()
    {
        var (db, role) = await SourceAsync();
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString(db)) { Username = role, Password = null };

        await AssertKeepsWhatSqlSaysAsync(db, builder.ConnectionString);
    }

    [Fact]
    public async Task RunAsync_OnAHotStandby_KeepsWhatSqlSaysAndWritesNothing()
    {
        var standby = await standbyFixture.StartAsync(server);
        var (db, role) = await SourceAsync();
        await standby.CatchUpAsync();
        var logBefore = standby.ReadLog().Length;
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString(db)) { Username = role, Password = null, Port = standby.Port };

        await AssertKeepsWhatSqlSaysAsync(db, builder.ConnectionString);

        Assert.True(await standby.IsInRecoveryAsync(), "the standby left recovery");
        var log = standby.ReadLog()[logBefore..];
        Assert.False(log.Contains("ERROR", StringComparison.Ordinal), "the standby logged an error during the closure:\n" + log);
    }

    /// <summary>Runs the closure through <paramref name="connectionString"/> and checks it against SQL on the primary.</summary>
    async Task AssertKeepsWhatSqlSaysAsync(string db, string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);

        var (tables, links, infos) = await PostgresSubsetSource.ReadGraphAsync(connection, [], CancellationToken.None);
        SubsetTable T(string name) => tables.Single(t => t.Name == name);
        var graph = new SubsetGraph(tables, links,
            [new SubsetStart(T("public.customers")) { Where = "country = 'DE' AND id <= 300" }],
            new HashSet<SubsetTable> { T("public.orders"), T("public.order_items"), T("public.events"), T("public.notes") },
            new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), unreachedFull: false);
        var closure = new SubsetClosure(graph, new PostgresSubsetSource(connection, infos), Store(), "secret"u8);

        await closure.RunAsync(CancellationToken.None);

        // Partitions are read through their parent; the partitioned table and the table without a key are in the graph.
        Assert.DoesNotContain(tables, t => t.Name.StartsWith("public.events_", StringComparison.Ordinal));
        Assert.Equal(7, tables.Count);
        Assert.Equal(7, links.Count);
        Assert.Equal(100, closure.KeptCount(T("public.customers")));
        async Task<long> Sql(string sql) => Count(await server.QueryAsync(db, sql));
        const string Roots = "SELECT id FROM customers WHERE country = 'DE' AND id <= 300";
        Assert.Equal(await Sql($"SELECT count(*) FROM orders WHERE customer_id IN ({Roots})"), closure.KeptCount(T("public.orders")));
        Assert.Equal(await Sql($"SELECT count(*) FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE customer_id IN ({Roots}))"),
            closure.KeptCount(T("public.order_items")));
        // A composite key: the products those items name, and nothing else (products are parents only).
        Assert.Equal(await Sql($"SELECT count(DISTINCT (sku, version)) FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE customer_id IN ({Roots}))"),
            closure.KeptCount(T("public.products")));
        // A key to a unique column, on a partitioned table: the events of the kept customers' codes, in every partition.
        Assert.Equal(await Sql($"SELECT count(*) FROM events WHERE customer_code IN (SELECT code FROM customers WHERE id IN ({Roots}))"),
            closure.KeptCount(T("public.events")));
        // A table without a primary key, followed: its rows of kept customers (identical rows count once).
        Assert.Equal(await Sql($"SELECT count(DISTINCT n) FROM notes n WHERE customer_id IN ({Roots})"), closure.KeptCount(T("public.notes")));
        // A self-reference: the salespeople of the kept orders and all their managers up to the top.
        Assert.Equal(await Sql($"""
            WITH RECURSIVE chain AS (
                SELECT DISTINCT salesperson_id AS id FROM orders WHERE customer_id IN ({Roots}) AND salesperson_id IS NOT NULL
                UNION SELECT e.manager_id FROM employees e JOIN chain ON e.id = chain.id WHERE e.manager_id IS NOT NULL)
            SELECT count(*) FROM chain
            """), closure.KeptCount(T("public.employees")));
        Assert.Contains("1", closure.Kept(T("public.employees")));
    }

    string PlanConfig(ReplicaCli cli, string db, string extra = "") => cli.WriteConfig($"""
        secret: subset-plan-secret-0123456789
        source:
          connection_uri: '{server.PasswordUri(db)}'
        bridge:
          local:
            path: {cli.BridgePath}
        {extra}
        subset:
          roots: [{"{"} table: public.customers, where: "country = 'DE'", limit: 10 {"}"}]
          follow_children: [public.orders]
          virtual_foreign_keys:
            - table: public.notes
              columns: [customer_id]
              references: {"{"} table: public.employees, columns: [id] {"}"}
              where: "body LIKE 'note 1%'"
        """);

    [Fact]
    public async Task SubsetPlan_ShopSchema_PrintsEachTablesRoleAndTheLinksAsTextMermaidAndJson()
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        var config = PlanConfig(cli, db);

        var text = await cli.RunAsync("subset", "plan", "-c", config);
        var mermaid = await cli.RunAsync("subset", "plan", "-c", config, "--format", "mermaid");
        var json = await cli.RunAsync("subset", "plan", "-c", config, "--json");

        Assert.True(text.ExitCode == 0, text.Stderr);
        var tableLines = text.Stdout[..text.Stdout.IndexOf("Links (", StringComparison.Ordinal)].Split('\n');
        string Line(string table) => tableLines.Single(l => l.TrimStart().StartsWith(table + " ", StringComparison.Ordinal));
        Assert.Contains("root", Line("public.customers"), StringComparison.Ordinal);
        Assert.Contains("3,000", Line("public.customers"), StringComparison.Ordinal);
        Assert.Contains("followed child", Line("public.orders"), StringComparison.Ordinal);
        Assert.Contains("parents only", Line("public.employees"), StringComparison.Ordinal);
        Assert.Contains("unreached (no rows)", Line("public.order_items"), StringComparison.Ordinal);
        Assert.Contains("public.orders (customer_id) -> public.customers (id)  down and up, NOT NULL  [orders_customer_id_fkey]", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("public.notes (customer_id) -> public.employees (id)  up only, where body LIKE 'note 1%'", text.Stdout, StringComparison.Ordinal);
        Assert.True(mermaid.ExitCode == 0, mermaid.Stderr);
        Assert.StartsWith("flowchart LR\n", mermaid.Stdout, StringComparison.Ordinal);
        Assert.Contains("classDef root fill:", mermaid.Stdout, StringComparison.Ordinal);
        using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.Equal(7, document.RootElement.GetProperty("tables").GetArrayLength());
        Assert.Equal(8, document.RootElement.GetProperty("links").GetArrayLength());
    }

    [Fact]
    public async Task SubsetPlan_NotNullForeignKeyIntoASkippedTable_ExitsTwoNamingTheConstraint()
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        // orders is reached from its own root (a table no root reaches keeps no rows: no key of it to write as NULL).
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.customers
                data: skip
            subset:
              roots: [{ table: public.orders, where: "id <= 10" }]
            """);

        var plan = await cli.RunAsync("subset", "plan", "-c", config);

        Assert.Equal(2, plan.ExitCode);
        Assert.Contains("foreign key orders_customer_id_fkey (public.orders -> public.customers) is NOT NULL, but no row of public.customers is kept", plan.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_PolymorphicVirtualKey_FollowsOnlyTheRowsItsConditionHolds()
    {
        var (db, _) = await SourceAsync();
        await using var connection = new NpgsqlConnection(server.ConnectionString(db));
        await connection.OpenAsync();
        var virtualLink = new SchemaLink("virtual notes", "public.notes", ["customer_id"], "public.employees", ["id"], Nullable: true) { Where = "body LIKE 'note 1%'", Virtual = true };

        var (tables, links, infos) = await PostgresSubsetSource.ReadGraphAsync(connection, [virtualLink], CancellationToken.None);
        SubsetTable T(string name) => tables.Single(t => t.Name == name);
        var graph = new SubsetGraph(tables, links, [new SubsetStart(T("public.employees")) { Where = "id <= 5" }],
            new HashSet<SubsetTable> { T("public.notes") }, new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), unreachedFull: false);
        var closure = new SubsetClosure(graph, new PostgresSubsetSource(connection, infos), Store(), "secret"u8);
        await closure.RunAsync(CancellationToken.None);

        // Notes whose customer_id is a kept employee's id, and only those whose body matches: the link's condition.
        Assert.Equal(Count(await server.QueryAsync(db, "SELECT count(DISTINCT n) FROM notes n WHERE customer_id <= 5 AND body LIKE 'note 1%'")),
            closure.KeptCount(T("public.notes")));
        Assert.True(closure.KeptCount(T("public.notes")) > 0);
        Assert.True(Count(await server.QueryAsync(db, "SELECT count(*) FROM notes WHERE customer_id <= 5")) > closure.KeptCount(T("public.notes")));
    }

    /// <summary>A config that dumps <paramref name="db"/> into the CLI's bridge, with <paramref name="rules"/> (transformers, subset).</summary>
    string DumpConfig(ReplicaCli cli, string db, string rules) => cli.WriteConfig($"""
        secret: subset-dump-secret-0123456789
        source:
          connection_uri: '{server.PasswordUri(db)}'
        bridge:
          local:
            path: {cli.BridgePath}

        """ + rules);

    /// <summary>
    /// `replica dump` (named <paramref name="name"/>, with <paramref name="arguments"/>), its `restore --output`, and that
    /// SQL loaded with psql ON_ERROR_STOP in one transaction into a new database: every foreign key of post-data is
    /// validated against the kept rows. Returns the database, the SQL file and the dump's stderr.
    /// </summary>
    async Task<(string Database, string Sql, string Stderr)> DumpAndLoadAsync(ReplicaCli cli, string config, string name, string[]? arguments = null,
        Stream? stdin = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var dump = await cli.RunAsync(["dump", "-c", config, "--name", name, .. arguments ?? []], stdin, environment);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var output = Path.Combine(cli.WorkingDirectory, name + ".sql");
        var restore = await cli.RunAsync("restore", "-c", config, "--name", name, "--output", output);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        var restored = await server.CreateDatabaseAsync();
        var load = await server.RunPsqlFileAsync(restored, output);
        Assert.True(load.ExitCode == 0 && !load.Stderr.Contains("ERROR", StringComparison.Ordinal), load.Stderr);
        return (restored, output, dump.Stderr);
    }

    static async Task AssertSameBytesAsync(string first, string second)
    {
        var a = await File.ReadAllBytesAsync(first);
        var b = await File.ReadAllBytesAsync(second);
        Assert.True(a.AsSpan().SequenceEqual(b), $"{Path.GetFileName(first)} and {Path.GetFileName(second)} differ");
    }

    [Fact]
    public async Task ReplicaDump_WithASubset_RestoresWithEveryForeignKeyAndKeepsWhatSqlSays()
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.employees
                columns:
                  name: { transformer: redact, options: { character: '*', width: 5 } }
            subset:
              roots: [{ table: public.customers, where: "country = 'DE' AND id <= 300" }]
              follow_children: [public.orders, public.order_items, public.events]
            """);

        var (restored, first, _) = await DumpAndLoadAsync(cli, config, "subset-1");
        var (_, second, _) = await DumpAndLoadAsync(cli, config, "subset-2");

        await AssertSameBytesAsync(first, second);
        async Task<long> Source(string sql) => Count(await server.QueryAsync(db, sql));
        async Task<long> Restored(string sql) => Count(await server.QueryAsync(restored, sql));
        const string Roots = "SELECT id FROM customers WHERE country = 'DE' AND id <= 300";
        Assert.Equal(100, await Restored("SELECT count(*) FROM customers"));
        Assert.Equal(await Source($"SELECT count(*) FROM orders WHERE customer_id IN ({Roots})"), await Restored("SELECT count(*) FROM orders"));
        Assert.Equal(await Source($"SELECT count(*) FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE customer_id IN ({Roots}))"),
            await Restored("SELECT count(*) FROM order_items"));
        Assert.Equal(await Source($"SELECT count(*) FROM events WHERE customer_code IN (SELECT code FROM customers WHERE id IN ({Roots}))"),
            await Restored("SELECT count(*) FROM events"));
        // notes are not followed and nothing references them: unreached, no rows (the schema is still there).
        Assert.Equal(0, await Restored("SELECT count(*) FROM notes"));
        Assert.True(await Restored("SELECT count(*) FROM employees") > 0);
        Assert.Equal(0, await Restored("SELECT count(*) FROM employees WHERE name <> '*****'"));
        // The rows are the source's rows: the same orders, with the same values.
        Assert.Equal(await server.QueryAsync(db, $"SELECT id, customer_id, salesperson_id, placed FROM orders WHERE customer_id IN ({Roots}) ORDER BY id"),
            await server.QueryAsync(restored, "SELECT id, customer_id, salesperson_id, placed FROM orders ORDER BY id"));
    }

    /// <summary>
    /// A table mostly kept is copied whole and its rows chosen by the rewriter; the same subset by key batches only and
    /// by full scans only restores to the same rows, with the same foreign keys written as NULL.
    /// </summary>
    [Fact]
    public async Task ReplicaDump_SubsetByFullScansOrByKeyBatches_KeepsTheSameRows()
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.employees
                data: skip
            subset:
              roots: [{ table: public.customers, where: "id <= 2000" }]
              follow_children: [public.orders, public.order_items, public.events]
            """);

        async Task<string> RestoredAsync(string share) => (await DumpAndLoadAsync(cli, config, "scan-" + share, ["--jobs", "2"],
            environment: new Dictionary<string, string?> { ["REPLICA_SUBSET_FULL_SCAN"] = share })).Database;
        var scans = await RestoredAsync("0");
        var batches = await RestoredAsync("2");

        foreach (var query in new[]
        {
            "SELECT * FROM customers ORDER BY id", "SELECT * FROM orders ORDER BY id", "SELECT * FROM order_items ORDER BY id",
            "SELECT * FROM products ORDER BY 1, 2", "SELECT * FROM events ORDER BY 1, 3", "SELECT count(*) FROM employees",
        })
        {
            Assert.Equal(await server.QueryAsync(batches, query), await server.QueryAsync(scans, query));
        }
        Assert.Equal(await server.QueryAsync(db, "SELECT count(*) FROM orders WHERE customer_id <= 2000"), await server.QueryAsync(scans, "SELECT count(*) FROM orders"));
        Assert.Equal(0, Count(await server.QueryAsync(scans, "SELECT count(salesperson_id) FROM orders")));
    }

    /// <summary>
    /// A table read in many key batches runs each next COPY ahead on a second connection (one of the closure's, given
    /// back): the dump is byte for byte the one that reads them one after the other on one connection, with one job and
    /// with two, and keeps the source's rows; the table without a primary key (notes, known by its rows' digests) too,
    /// in batches of 10 times as many.
    /// </summary>
    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public async Task ReplicaDump_ManyKeyBatchesCopiedAhead_SameBytesAsOneAfterTheOther(string jobs)
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.employees
                data: skip
            subset:
              roots: [{ table: public.customers, where: "id <= 2000" }]
              follow_children: [public.orders, public.order_items, public.events, public.notes]
            """);
        Dictionary<string, string?> Environment(string ahead) => new()
        {
            ["REPLICA_SUBSET_COPY_BATCH"] = "7",
            ["REPLICA_SUBSET_FULL_SCAN"] = "2",
            ["REPLICA_SUBSET_COPY_AHEAD"] = ahead,
        };

        var ahead = await DumpAndLoadAsync(cli, config, "ahead-" + jobs, ["--jobs", jobs], environment: Environment("1"));
        var oneAfterTheOther = await DumpAndLoadAsync(cli, config, "serial-" + jobs, ["--jobs", jobs], environment: Environment("0"));

        await AssertSameBytesAsync(oneAfterTheOther.Sql, ahead.Sql);
        Assert.Equal(await server.QueryAsync(db, "SELECT id, customer_id, placed FROM orders WHERE customer_id <= 2000 ORDER BY id"),
            await server.QueryAsync(ahead.Database, "SELECT id, customer_id, placed FROM orders ORDER BY id"));
        Assert.Equal(await server.QueryAsync(db, "SELECT i.* FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.customer_id <= 2000 ORDER BY i.id"),
            await server.QueryAsync(ahead.Database, "SELECT * FROM order_items ORDER BY id"));
        Assert.Equal(await server.QueryAsync(db, "SELECT customer_id, body FROM notes WHERE customer_id <= 2000 ORDER BY body"),
            await server.QueryAsync(ahead.Database, "SELECT customer_id, body FROM notes ORDER BY body"));
        Assert.Equal(500, Count(await server.QueryAsync(ahead.Database, "SELECT count(*) FROM notes")));
    }

    /// <summary>
    /// A role with a CONNECTION LIMIT too tight for everything a live subset overlaps (the closure's second connection,
    /// the next COPY run ahead, three pg_dumps started early: six connections with the exporter) still dumps: the
    /// connections that only overlap work are opened where they fit, and the dump is byte for byte the one the same
    /// role makes without a limit. With 3 or 4, the closure and a table get one connection each (and a pg_dump in its
    /// turn: 3 is what a dump from a snapshot needs at least); with 5, two; with 6, everything.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task ReplicaDump_RoleWithATightConnectionLimit_DumpsTheSameBytesWithinIt(int limit)
    {
        var (db, role) = await SourceAsync();

        await AssertSameBytesUnderALimitAsync(db, role, $"ALTER ROLE {role} CONNECTION LIMIT {limit}");
    }

    /// <summary>
    /// With --jobs 2 the connections that only overlap work must fit beside those the jobs open anyway: a CONNECTION
    /// LIMIT of 5 (the exporter, two COPY connections that stay open, and the data section's rest and the post-data's
    /// pg_dumps, which two jobs run at once) dumps the same bytes as without a limit. Regression: the thresholds (3 for
    /// the closure's second and a COPY run ahead, 5 for the pg_dumps started early) ignored the jobs' own connections,
    /// so helpers were opened beside two tables and the last pg_dumps found no room ('too many connections for role').
    /// </summary>
    [Fact]
    public async Task ReplicaDump_RoleWithATightConnectionLimitAndTwoJobs_DumpsTheSameBytesWithinIt()
    {
        var (db, role) = await SourceAsync();

        await AssertSameBytesUnderALimitAsync(db, role, $"ALTER ROLE {role} CONNECTION LIMIT 5", "--jobs", "2");
    }

    /// <summary>
    /// A database's CONNECTION LIMIT counts every session in it, also those of roles the dump's role may not read in
    /// pg_stat_activity (their backend_type is NULL to it): with 5 and two other sessions open, the dump has two
    /// connections beside its exporter and makes do with them (the closure's, then a pg_dump in its turn), the same bytes
    /// as without a limit. Regression: only the sessions whose backend_type the role could read were counted, so the
    /// closure opened a second connection and pg_dump found no room ('too many connections for database').
    /// </summary>
    [Fact]
    public async Task ReplicaDump_DatabaseLimitFilledByOtherRolesSessions_DumpsTheSameBytesWithinIt()
    {
        var (db, role) = await SourceAsync();
        // Two idle sessions of the server's superuser, whose rows in pg_stat_activity the dump's role reads only in part.
        var others = new NpgsqlConnectionStringBuilder(server.ConnectionString(db)) { Pooling = false }.ConnectionString;
        await using var first = new NpgsqlConnection(others);
        await using var second = new NpgsqlConnection(others);
        await first.OpenAsync();
        await second.OpenAsync();

        await AssertSameBytesUnderALimitAsync(db, role, $"ALTER DATABASE {db} CONNECTION LIMIT 5");
    }

    /// <summary>
    /// A CONNECTION LIMIT is the login role's (the session user's), also when the role's settings switch its sessions to
    /// another role (ALTER ROLE ... SET role): with 3, the dump makes do with the closure's connection and a pg_dump in its
    /// turn. Regression: the limit and the sessions were read for current_user, the role switched to, which has neither,
    /// so everything a subset overlaps was opened ('too many connections for role').
    /// </summary>
    [Fact]
    public async Task ReplicaDump_LimitOfALoginRoleThatSetsAnotherRole_DumpsWithinIt()
    {
        var (db, role) = await SourceAsync();
        var other = role + "_owner";
        await server.ExecuteAsync("postgres", $"CREATE ROLE {other} NOLOGIN; GRANT pg_read_all_data TO {other}; GRANT {other} TO {role}; "
            + $"ALTER ROLE {role} SET role = '{other}'");

        await AssertSameBytesUnderALimitAsync(db, role, $"ALTER ROLE {role} CONNECTION LIMIT 3");
    }

    /// <summary>
    /// The subset of customers 1-2000 with their orders, items, events and notes dumped as <paramref name="role"/>, then
    /// <paramref name="limit"/> (SQL run in the postgres database), then dumped again: the same restored bytes, and the
    /// source's orders. Key batches of 7 rows, so that a table's next COPY would run ahead on a second connection.
    /// </summary>
    async Task AssertSameBytesUnderALimitAsync(string db, string role, string limit, params string[] arguments)
    {
        using var cli = new ReplicaCli();
        var config = cli.WriteConfig($"""
            secret: subset-dump-secret-0123456789
            source:
              connection_uri: 'postgres://{role}@{PostgresServer.Host}:{server.Port.ToString(CultureInfo.InvariantCulture)}/{db}'
            bridge:
              local:
                path: {cli.BridgePath}
            subset:
              roots: [{"{"} table: public.customers, where: "id <= 2000" {"}"}]
              follow_children: [public.orders, public.order_items, public.events, public.notes]
            """);
        var environment = new Dictionary<string, string?> { ["REPLICA_SUBSET_COPY_BATCH"] = "7", ["REPLICA_SUBSET_FULL_SCAN"] = "2" };

        var unlimited = await DumpAndLoadAsync(cli, config, "unlimited", arguments, environment: environment);
        await server.ExecuteAsync("postgres", limit);
        var limited = await DumpAndLoadAsync(cli, config, "limited", arguments, environment: environment);

        await AssertSameBytesAsync(unlimited.Sql, limited.Sql);
        Assert.Equal(await server.QueryAsync(db, "SELECT id, customer_id, placed FROM orders WHERE customer_id <= 2000 ORDER BY id"),
            await server.QueryAsync(limited.Database, "SELECT id, customer_id, placed FROM orders ORDER BY id"));
    }

    /// <summary>
    /// Kept keys reach the data COPY as one array constant per batch: keys with quotes, backslashes, braces, commas,
    /// spaces, an empty string and the word NULL select their own rows, single-column and composite, also in a database
    /// whose default is standard_conforming_strings off (a backslash escaped for the array must be escaped again).
    /// </summary>
    [Fact]
    public async Task ReplicaDump_KeysWithQuotesAndBackslashesByKeyBatches_KeepsEveryRow()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, $$"""
            ALTER DATABASE {{db}} SET standard_conforming_strings = off;
            CREATE TABLE tags (name text PRIMARY KEY, n int NOT NULL);
            CREATE TABLE pairs (a text, b text, PRIMARY KEY (a, b));
            INSERT INTO tags VALUES (E'a\\b', 1), ('say "hi"', 2), (E'it''s', 3), ('{x,y}', 4), ('  spaced ', 5), ('', 6),
                ('NULL', 7), (E'\\"', 8), (E'\u00fc\t\n', 9), ('plain', 10);
            INSERT INTO pairs SELECT t.name, u.name FROM tags t, tags u WHERE (t.n + u.n) % 3 = 0;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.tags, where: "n <> 10" }, { table: public.pairs, where: "a <> 'plain'" }]
            """);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "quoted", environment: new Dictionary<string, string?> { ["REPLICA_SUBSET_FULL_SCAN"] = "2" });

        Assert.Equal(await server.QueryAsync(db, "SELECT name, n FROM tags WHERE n <> 10 ORDER BY n"),
            await server.QueryAsync(restored, "SELECT name, n FROM tags ORDER BY n"));
        Assert.Equal(await server.QueryAsync(db, "SELECT a, b FROM pairs WHERE a <> 'plain' ORDER BY a COLLATE \"C\", b COLLATE \"C\""),
            await server.QueryAsync(restored, "SELECT a, b FROM pairs ORDER BY a COLLATE \"C\", b COLLATE \"C\""));
    }

    /// <summary>
    /// Key types whose cast to text is not what COPY writes (char(n) keeps its trailing blanks in COPY, inet drops its
    /// /32, boolean is t): parents mostly kept are copied whole and filtered by the rewriter on the COPY text, by key
    /// batches otherwise; both keep every referenced row, and a file subset of the same data keeps the same rows.
    /// </summary>
    [Theory]
    [InlineData("0")]
    [InlineData("2")]
    public async Task ReplicaDump_KeysWhoseTextCastIsNotTheirCopyText_KeepsTheReferencedRows(string fullScanShare)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE codes (code char(5) PRIMARY KEY, n int);
            INSERT INTO codes SELECT 'c' || i, i FROM generate_series(1, 100) i;
            CREATE TABLE hosts (ip inet PRIMARY KEY);
            INSERT INTO hosts SELECT ('10.0.0.' || i)::inet FROM generate_series(1, 100) i;
            CREATE TABLE flags (on_off boolean PRIMARY KEY);
            INSERT INTO flags VALUES (true), (false);
            CREATE TABLE uses (id int PRIMARY KEY, code char(5) NOT NULL REFERENCES codes, ip inet NOT NULL REFERENCES hosts,
                               on_off boolean NOT NULL REFERENCES flags);
            INSERT INTO uses SELECT i, 'c' || (1 + i % 100), ('10.0.0.' || (1 + i % 100))::inet, i % 2 = 0 FROM generate_series(1, 200) i;
            ANALYZE;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.uses, where: "id <= 150" }]
            """);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "textcast",
            environment: new Dictionary<string, string?> { ["REPLICA_SUBSET_FULL_SCAN"] = fullScanShare });

        Assert.Equal(await server.QueryAsync(db, "SELECT count(DISTINCT code), count(DISTINCT ip), count(DISTINCT on_off) FROM uses WHERE id <= 150"),
            await server.QueryAsync(restored, "SELECT (SELECT count(*) FROM codes), (SELECT count(*) FROM hosts), (SELECT count(*) FROM flags)"));
    }

    /// <summary>
    /// Live and file mode keep the same rows of a table with a primary key: a root's percent hashes a char(n) key as COPY
    /// writes it (blank-padded) in both.
    /// </summary>
    [Fact]
    public async Task ReplicaDump_PercentOnACharKey_KeepsTheSameRowsLiveAndFromADumpFile()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE codes (code char(5) PRIMARY KEY, n int);
            INSERT INTO codes SELECT 'c' || i, i FROM generate_series(1, 100) i;
            ANALYZE;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.codes, percent: 50 }]
            """);
        var file = Path.Combine(cli.WorkingDirectory, "source.sql");
        await server.PgDumpToFileAsync(db, file);

        var live = await DumpAndLoadAsync(cli, config, "live", environment: new Dictionary<string, string?> { ["REPLICA_SUBSET_FULL_SCAN"] = "2" });
        var fromFile = await DumpAndLoadAsync(cli, config, "file", ["--input", file]);

        var kept = await server.QueryAsync(live.Database, "SELECT code FROM codes ORDER BY 1");
        Assert.InRange(kept.Count, 30, 70);
        Assert.Equal(kept, await server.QueryAsync(fromFile.Database, "SELECT code FROM codes ORDER BY 1"));
    }

    /// <summary>
    /// PostgreSQL compares a foreign key with the referenced column's equality, not its text: numeric(10,2) 1.00
    /// references numeric 1, citext 'alice@x.org' references 'Alice@X.org', char(5) 'a' references text 'a'. A subset of
    /// the dump file (which sees the text only) keeps those parents, as the live subset does.
    /// </summary>
    [Fact]
    public async Task ReplicaDump_SubsetOfADumpFileWhoseKeysAreEqualButWrittenDifferently_RestoresWithEveryForeignKey()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE EXTENSION IF NOT EXISTS citext;
            CREATE TABLE rates (r numeric PRIMARY KEY);
            INSERT INTO rates VALUES (1), (2.5), (3), (-0.5), (100);
            CREATE TABLE uses_rate (id int PRIMARY KEY, r numeric(10,2) NOT NULL REFERENCES rates);
            INSERT INTO uses_rate VALUES (1, 1), (2, 2.5), (3, 3), (4, -0.5), (5, 100);
            CREATE TABLE users (email citext PRIMARY KEY);
            INSERT INTO users VALUES ('Alice@X.org'), ('bob@x.org');
            CREATE TABLE logins (id int PRIMARY KEY, email citext NOT NULL REFERENCES users);
            INSERT INTO logins VALUES (1, 'alice@x.org'), (2, 'BOB@X.ORG');
            CREATE TABLE labels (name text PRIMARY KEY);
            INSERT INTO labels VALUES ('a'), ('bb');
            CREATE TABLE labelled (id int PRIMARY KEY, label char(5) NOT NULL REFERENCES labels);
            INSERT INTO labelled VALUES (1, 'a'), (2, 'bb');
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.uses_rate }, { table: public.logins }, { table: public.labelled }]
            """);
        var file = Path.Combine(cli.WorkingDirectory, "source.sql");
        await server.PgDumpToFileAsync(db, file);

        var live = await DumpAndLoadAsync(cli, config, "live");
        var fromFile = await DumpAndLoadAsync(cli, config, "file", ["--input", file]);

        const string Parents = "SELECT (SELECT count(*) FROM rates), (SELECT count(*) FROM users), (SELECT count(*) FROM labels)";
        Assert.Equal("5 2 2", string.Join(" ", (await server.QueryAsync(live.Database, Parents))[0]));
        Assert.Equal("5 2 2", string.Join(" ", (await server.QueryAsync(fromFile.Database, Parents))[0]));
    }

    /// <summary>
    /// File mode: a pg_dump file (COPY, or INSERTs several rows each), or the same on standard input, subset with no
    /// database keeps the same rows of every table with a primary key as the live subset of the same data, restores with
    /// every foreign key validated, masks what it keeps, and gives the same bytes on every run.
    /// </summary>
    [Theory]
    [InlineData("copy")]
    [InlineData("inserts")]
    [InlineData("stdin")]
    public async Task ReplicaDump_SubsetOfADumpFile_KeepsTheRowsTheLiveSubsetKeeps(string form)
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.employees
                columns:
                  name: { transformer: redact, options: { character: '*', width: 5 } }
            subset:
              roots: [{ table: public.customers, percent: 20, limit: 150 }]
              follow_children: [public.orders, public.order_items, public.events, public.notes]
            """);
        var file = Path.Combine(cli.WorkingDirectory, "source.sql");
        await server.PgDumpToFileAsync(db, file, form == "inserts" ? ["--inserts", "--rows-per-insert=7"] : []);

        async Task<(string Database, string Sql, string Stderr)> DumpAsync(string name, bool fromFile)
        {
            if (!fromFile)
            {
                return await DumpAndLoadAsync(cli, config, name);
            }
            if (form != "stdin")
            {
                return await DumpAndLoadAsync(cli, config, name, ["--input", file]);
            }
            await using var stdin = File.OpenRead(file);
            return await DumpAndLoadAsync(cli, config, name, ["--input", "-"], stdin);
        }
        var (liveDb, _, _) = await DumpAsync("live", fromFile: false);
        var (fileDb, fromFile, stderr) = await DumpAsync("file-1", fromFile: true);
        var (_, again, _) = await DumpAsync("file-2", fromFile: true);

        Assert.Contains("subset: round 1 done", stderr, StringComparison.Ordinal);
        Assert.Contains("public.customers 150", stderr, StringComparison.Ordinal);
        await AssertSameBytesAsync(fromFile, again);
        foreach (var query in new[]
        {
            "SELECT id FROM customers ORDER BY id", "SELECT id, customer_id, salesperson_id FROM orders ORDER BY id", "SELECT id FROM order_items ORDER BY id",
            "SELECT sku, version FROM products ORDER BY 1, 2", "SELECT id, name FROM employees ORDER BY id", "SELECT id, at FROM events ORDER BY 1, 2",
            "SELECT count(*) FROM notes",
        })
        {
            Assert.Equal(await server.QueryAsync(liveDb, query), await server.QueryAsync(fileDb, query));
        }
        Assert.Equal(150, Count(await server.QueryAsync(fileDb, "SELECT count(*) FROM customers")));
        Assert.True(Count(await server.QueryAsync(fileDb, "SELECT count(*) FROM notes")) > 0);
        Assert.Equal(0, Count(await server.QueryAsync(fileDb, "SELECT count(*) FROM employees WHERE name <> '*****'")));
        // Children completeness, against the source: every order of a kept customer is there.
        var keptCustomers = string.Join(", ", (await server.QueryAsync(fileDb, "SELECT id FROM customers")).Select(r => r[0]));
        Assert.Equal(await server.QueryAsync(db, $"SELECT count(*) FROM orders WHERE customer_id IN ({keptCustomers})"),
            await server.QueryAsync(fileDb, "SELECT count(*) FROM orders"));
    }

    /// <summary>
    /// The closure runs before anything is stored: a subset that exceeds max_rows_per_table in a later round fails the
    /// dump (exit 2, naming the table) and leaves the bridge as it was (no dump listed, no folder, no file), as a plan
    /// error does. An earlier dump stays.
    /// </summary>
    [Fact]
    public async Task ReplicaDump_SubsetOverMaxRowsPerTable_ExitsTwoAndLeavesTheBridgeAsItWas()
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        var ok = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.customers, where: "id <= 10" }]
            """);
        Assert.Equal(0, (await cli.RunAsync("dump", "-c", ok, "--name", "earlier")).ExitCode);
        var before = Directory.GetFileSystemEntries(cli.BridgePath, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var capped = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.customers, where: "id <= 2000" }]
              follow_children: [public.orders, public.order_items]
              max_rows_per_table: 10000
            """);

        var dump = await cli.RunAsync("dump", "-c", capped, "--name", "capped");
        var plan = await cli.RunAsync("dump", "-c", DumpConfig(cli, db, """
            transformers:
              - table: public.customers
                data: skip
            subset:
              roots: [{ table: public.orders, where: "id <= 10" }]
            """), "--name", "impossible");
        var list = await cli.RunAsync("list", "-c", ok);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("public.order_items would keep more than max_rows_per_table (10000)", dump.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, plan.ExitCode);
        Assert.Contains("is NOT NULL, but no row of public.customers is kept", plan.Stderr, StringComparison.Ordinal);
        Assert.Contains("earlier", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("capped", list.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(cli.BridgePath, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// The snapshot's sessions have an empty search_path, as pg_dump's: a key of a type in schema public is still cast by
    /// a name they resolve in the key batches' COPY, and a root's where (the config's SQL) still resolves its names
    /// through the role's own search_path.
    /// </summary>
    [Fact]
    public async Task ReplicaDump_SubsetKeyOfAPublicTypeAndAWhereNamingAPublicFunction_Restores()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE DOMAIN public.ticket_id AS int;
            CREATE FUNCTION public.is_kept(n int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT n % 5 = 0';
            CREATE TABLE public.tickets (id public.ticket_id PRIMARY KEY, note text);
            INSERT INTO public.tickets SELECT i, 'n' || i FROM generate_series(1, 40) i;
            ANALYZE;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.tickets, where: "is_kept(id)" }]
            """);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "public-type", ["--jobs", "2"]);

        Assert.Equal([["8"]], await server.QueryAsync(restored, "SELECT count(*) FROM public.tickets WHERE id % 5 = 0"));
        Assert.Equal([["8"]], await server.QueryAsync(restored, "SELECT count(*) FROM public.tickets"));
    }

    [Fact]
    public async Task ReplicaDump_SubsetOfADumpFileWithAWhere_ExitsTwoAndStoresNothing()
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.customers, where: "id < 10" }]
            """);
        var file = Path.Combine(cli.WorkingDirectory, "source.sql");
        await server.PgDumpToFileAsync(db, file);

        var dump = await cli.RunAsync("dump", "-c", config, "--input", file);
        var list = await cli.RunAsync("list", "-c", config);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("has a 'where', which needs a live database", dump.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("dump-", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplicaDump_SubsetWithASkippedParentTable_WritesItsNullableForeignKeysAsNull()
    {
        var (db, _) = await SourceAsync();
        using var cli = new ReplicaCli();
        // employees keeps no rows: orders.salesperson_id (nullable) cannot point at one, so it is written as NULL.
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.employees
                data: skip
            subset:
              roots: [{ table: public.customers, where: "id <= 50" }]
              follow_children: [public.orders]
            """);

        var (restored, _, stderr) = await DumpAndLoadAsync(cli, config, "nulled");

        Assert.Contains("replica: note: subset: public.orders (salesperson_id) -> public.employees is written as NULL", stderr, StringComparison.Ordinal);
        Assert.Contains("replica: subset: kept ", stderr, StringComparison.Ordinal);
        Assert.Contains("public.customers 50", stderr, StringComparison.Ordinal);
        Assert.Equal(await server.QueryAsync(db, "SELECT count(*) FROM orders WHERE customer_id <= 50"), await server.QueryAsync(restored, "SELECT count(*) FROM orders"));
        Assert.True(Count(await server.QueryAsync(db, "SELECT count(salesperson_id) FROM orders WHERE customer_id <= 50")) > 0);
        Assert.Equal(0, Count(await server.QueryAsync(restored, "SELECT count(salesperson_id) FROM orders")));
        Assert.Equal(0, Count(await server.QueryAsync(restored, "SELECT count(*) FROM employees")));
    }

    /// <summary>`replica dump` of <paramref name="config"/> from the live source, or (<paramref name="fromFile"/>) from a pg_dump file of <paramref name="db"/>.</summary>
    async Task<ProcessOutput> DumpAsync(ReplicaCli cli, string db, string config, string name, bool fromFile) =>
        await cli.RunAsync(["dump", "-c", config, "--name", name, .. await SourceArgumentsAsync(cli, db, fromFile, name + "-source.sql")]);

    /// <summary>What `replica dump` reads: nothing to add (the live database), or --input of a pg_dump file of it.</summary>
    async Task<string[]> SourceArgumentsAsync(ReplicaCli cli, string db, bool fromFile, string fileName = "source.sql")
    {
        if (!fromFile)
        {
            return [];
        }
        var file = Path.Combine(cli.WorkingDirectory, fileName);
        await server.PgDumpToFileAsync(db, file);
        return ["--input", file];
    }

    /// <summary>
    /// data: skip on an inheritance parent skips its children's rows too (the rewriter follows the ancestry), so a NOT
    /// NULL foreign key into a child is a plan error, as for a skipped table; the subset kept the child's rows, the dump
    /// left them out and the foreign key failed on restore.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplicaDump_SkippedInheritanceParent_NotNullKeyIntoItsChildIsAPlanError(bool fromFile)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE vehicles (id int PRIMARY KEY, kind text);
            CREATE TABLE cars (doors int) INHERITS (vehicles);
            ALTER TABLE cars ADD PRIMARY KEY (id);
            INSERT INTO vehicles SELECT i, 'v' FROM generate_series(1, 10) i;
            INSERT INTO cars SELECT i, 'car', 4 FROM generate_series(11, 20) i;
            CREATE TABLE rentals (id int PRIMARY KEY, car_id int NOT NULL REFERENCES cars (id));
            INSERT INTO rentals SELECT i, 11 + i % 10 FROM generate_series(1, 30) i;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.vehicles
                data: skip
            subset:
              roots: [{ table: public.rentals, percent: 50 }]
            """);

        var dump = await DumpAsync(cli, db, config, "inherit", fromFile);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("foreign key rentals_car_id_fkey (public.rentals -> public.cars) is NOT NULL, but no row of public.cars is kept", dump.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// data: skip on one partition: the closure knows the partitioned table's rows, not which partition holds each, so
    /// a foreign key into the partitioned table is a plan error naming the partition; the subset kept rows of the
    /// skipped partition, the dump left them out and the foreign key failed on restore. Without a link into it, the
    /// partition's rows just go.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplicaDump_SkippedPartitionOfAReferencedTable_IsAPlanErrorNamingThePartition(bool fromFile)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE events (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
            CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
            CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            INSERT INTO events SELECT i, date '2024-06-01' + i * 10 FROM generate_series(1, 50) i;
            CREATE TABLE attendees (id int PRIMARY KEY, event_id int, event_at date, FOREIGN KEY (event_id, event_at) REFERENCES events);
            INSERT INTO attendees SELECT i, 1 + i % 50, date '2024-06-01' + (1 + i % 50) * 10 FROM generate_series(1, 100) i;
            """);
        using var cli = new ReplicaCli();
        const string PartitionRule = """
            transformers:
              - table: public.events_2024
                data: skip

            """;

        var dump = await DumpAsync(cli, db, DumpConfig(cli, db, PartitionRule + """
            subset:
              roots: [{ table: public.attendees }]
            """), "partskip", fromFile);
        // The same skip, with nothing referencing events: no error (written after the first dump: the same config file).
        var events = await DumpAsync(cli, db, DumpConfig(cli, db, PartitionRule + """
            subset:
              roots: [{ table: public.events }]
            """), "events", fromFile);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("foreign key attendees_event_id_event_at_fkey (public.attendees -> public.events) references public.events, whose partition "
            + "public.events_2024 keeps no rows", dump.Stderr, StringComparison.Ordinal);
        Assert.True(events.ExitCode == 0, events.Stderr);
    }

    /// <summary>
    /// A foreign key declared on a partition (not on its partitioned table), and one that references a partition, are
    /// the partitioned table's links (its rows of every partition: a superset); both were left out, and the restore
    /// failed on the parent rows the subset did not keep.
    /// </summary>
    [Theory]
    [InlineData("public.sales", false)]
    [InlineData("public.refunds", false)]
    [InlineData("public.sales", true)]
    [InlineData("public.refunds", true)]
    public async Task ReplicaDump_ForeignKeyOnOrIntoAPartition_RestoresWithEveryForeignKey(string root, bool fromFile)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE countries (code text PRIMARY KEY);
            INSERT INTO countries VALUES ('DE'), ('FR');
            CREATE TABLE sales (id int, at date, country text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
            CREATE TABLE sales_2024 PARTITION OF sales FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
            CREATE TABLE sales_2025 PARTITION OF sales FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            ALTER TABLE sales_2024 ADD FOREIGN KEY (country) REFERENCES countries;
            INSERT INTO sales SELECT i, date '2024-06-01' + i * 10, CASE WHEN i % 2 = 0 THEN 'DE' ELSE 'FR' END FROM generate_series(1, 50) i;
            CREATE TABLE refunds (id int PRIMARY KEY, sale_id int NOT NULL, sale_at date NOT NULL,
                                  FOREIGN KEY (sale_id, sale_at) REFERENCES sales_2024 (id, at));
            INSERT INTO refunds SELECT i, i, date '2024-06-01' + i * 10 FROM generate_series(1, 15) i;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, $$"""
            subset:
              roots: [{ table: {{root}}, percent: 100 }]
            """);
        var arguments = await SourceArgumentsAsync(cli, db, fromFile);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "partfk", arguments);

        // Every row of the root, and the parents its partition's keys need: the 2024 sales' countries, the refunds' sales.
        var (rows, parents) = root == "public.sales"
            ? ("SELECT id, at, country FROM sales ORDER BY 1, 2", "SELECT code FROM countries WHERE code IN (SELECT country FROM sales_2024) ORDER BY 1")
            : ("SELECT id, sale_id, sale_at FROM refunds ORDER BY 1", "SELECT id, at FROM sales WHERE (id, at) IN (SELECT sale_id, sale_at FROM refunds) ORDER BY 1, 2");
        Assert.Equal(await server.QueryAsync(db, rows), await server.QueryAsync(restored, rows));
        Assert.Equal(await server.QueryAsync(db, parents), await server.QueryAsync(restored, parents));
    }

    /// <summary>
    /// source.exclude_table_data leaves a live source's rows of a table out as data: skip does: a NOT NULL foreign key
    /// into it is a plan error (the subset kept the children's values and the foreign key failed on restore).
    /// </summary>
    [Fact]
    public async Task ReplicaDump_ExcludeTableDataParent_NotNullKeyIntoItIsAPlanError()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE accounts (email text PRIMARY KEY);
            INSERT INTO accounts SELECT 'u' || i || '@x.org' FROM generate_series(1, 10) i;
            CREATE TABLE orders (id int PRIMARY KEY, email text NOT NULL REFERENCES accounts);
            INSERT INTO orders SELECT i, 'u' || (1 + i % 10) || '@x.org' FROM generate_series(1, 30) i;
            """);
        using var cli = new ReplicaCli();
        var config = cli.WriteConfig($"""
            secret: subset-dump-secret-0123456789
            source:
              connection_uri: '{server.PasswordUri(db)}'
              exclude_table_data: [public.accounts]
            bridge:
              local:
                path: {cli.BridgePath}
            subset:
              roots: [{"{"} table: public.orders, where: "id <= 10" {"}"}]
            """);

        var dump = await cli.RunAsync("dump", "-c", config, "--name", "excludedata");

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("foreign key orders_email_fkey (public.orders -> public.accounts) is NOT NULL, but no row of public.accounts is kept", dump.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// drop removes a table before subsetting and its foreign keys go with it, as in a full dump (issue 11 §1): the keys
    /// into it are not the subset's, so a NOT NULL one is no plan error and a nullable one keeps its values.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplicaDump_DroppedParentTable_DropsItsForeignKeysAsAFullDumpDoes(bool fromFile)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE accounts (email text PRIMARY KEY);
            INSERT INTO accounts SELECT 'u' || i || '@x.org' FROM generate_series(1, 10) i;
            CREATE TABLE orders (id int PRIMARY KEY, email text NOT NULL REFERENCES accounts, referrer text REFERENCES accounts);
            INSERT INTO orders SELECT i, 'u' || (1 + i % 10) || '@x.org', 'u' || (1 + i % 7) || '@x.org' FROM generate_series(1, 30) i;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.accounts
                drop: true
            subset:
              roots: [{ table: public.orders, percent: 100 }]
            """);
        var arguments = await SourceArgumentsAsync(cli, db, fromFile);

        var (restored, _, stderr) = await DumpAndLoadAsync(cli, config, "dropped", arguments);

        Assert.DoesNotContain("written as NULL", stderr, StringComparison.Ordinal);
        Assert.Equal(await server.QueryAsync(db, "SELECT id, email, referrer FROM orders ORDER BY id"),
            await server.QueryAsync(restored, "SELECT id, email, referrer FROM orders ORDER BY id"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplicaDump_PassthroughTableWithANullableKeyIntoASkippedTable_WritesItAsNull(bool fromFile)
    {
        // A passthrough table was copied as it is, its foreign keys into tables whose rows are not kept included: the
        // output failed on countries_region_id_fkey (the review suspected it; reproduced live and from a file).
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE regions (id int PRIMARY KEY);
            INSERT INTO regions SELECT i FROM generate_series(1, 3) i;
            CREATE TABLE countries (code text PRIMARY KEY, region_id int REFERENCES regions);
            INSERT INTO countries SELECT 'c' || i, 1 + i % 3 FROM generate_series(1, 9) i;
            CREATE TABLE customers (id int PRIMARY KEY, country text NOT NULL REFERENCES countries);
            INSERT INTO customers SELECT i, 'c' || (1 + i % 9) FROM generate_series(1, 40) i;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.regions
                data: skip
            subset:
              roots: [{ table: public.customers, limit: 5 }]
              passthrough: [public.countries]
            """);
        var arguments = await SourceArgumentsAsync(cli, db, fromFile);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "passthrough", arguments);

        Assert.Equal(9, Count(await server.QueryAsync(restored, "SELECT count(*) FROM countries WHERE region_id IS NULL")));
        Assert.Equal(5, Count(await server.QueryAsync(restored, "SELECT count(*) FROM customers")));
    }

    /// <summary>`replica dump` of a config the plan refuses: exit 2, and nothing stored. Returns its stderr.</summary>
    static async Task<string> DumpRefusedAsync(ReplicaCli cli, string config)
    {
        var dump = await cli.RunAsync("dump", "-c", config, "--name", "refused");
        Assert.True(dump.ExitCode == 2, dump.Stderr);
        var list = await cli.RunAsync("list", "-c", config);
        Assert.DoesNotContain("refused", list.Stdout, StringComparison.Ordinal);
        return dump.Stderr;
    }

    [Fact]
    public async Task ReplicaDump_VirtualKeyOnANotNullColumnIntoASkippedTable_ExitsTwoNamingTheVirtualKey()
    {
        // The virtual key was taken as nullable: every comment's commentable_id (NOT NULL) was written as NULL, also the
        // comments of photos (kept), and the load failed.
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE posts (id int PRIMARY KEY, body text);
            CREATE TABLE photos (id int PRIMARY KEY, url text);
            INSERT INTO posts SELECT i, 'p' FROM generate_series(1, 10) i;
            INSERT INTO photos SELECT i, 'u' FROM generate_series(1, 10) i;
            CREATE TABLE comments (id int PRIMARY KEY, commentable_type text NOT NULL, commentable_id int NOT NULL, body text);
            INSERT INTO comments SELECT i, CASE WHEN i % 2 = 0 THEN 'Post' ELSE 'Photo' END, 1 + i % 10, 'c' FROM generate_series(1, 20) i;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.posts
                data: skip
            subset:
              roots: [{ table: public.comments, where: "id <= 10" }]
              virtual_foreign_keys:
                - table: public.comments
                  columns: [commentable_id]
                  references: { table: public.posts, columns: [id] }
                  where: "commentable_type = 'Post'"
                - table: public.comments
                  columns: [commentable_id]
                  references: { table: public.photos, columns: [id] }
                  where: "commentable_type = 'Photo'"
            """);

        var stderr = await DumpRefusedAsync(cli, config);

        Assert.Contains("foreign key virtual public.comments (commentable_id) (public.comments -> public.posts) is NOT NULL", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplicaDump_NulledColumnThatAKeptTableReferences_ExitsTwoNamingBothKeys()
    {
        // offices.region (unique, references regions) was written as NULL while staff kept 'eu': staff_office_region_fkey failed on load.
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE regions (code text PRIMARY KEY);
            INSERT INTO regions VALUES ('eu'), ('us');
            CREATE TABLE offices (id int PRIMARY KEY, region text UNIQUE REFERENCES regions (code));
            INSERT INTO offices VALUES (1, 'eu'), (2, 'us');
            CREATE TABLE staff (id int PRIMARY KEY, office_region text NOT NULL REFERENCES offices (region));
            INSERT INTO staff VALUES (1, 'eu'), (2, 'us');
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            transformers:
              - table: public.regions
                data: skip
            subset:
              roots: [{ table: public.staff }]
            """);

        var stderr = await DumpRefusedAsync(cli, config);

        Assert.Contains("public.offices (region) is written as NULL (foreign key offices_region_fkey into public.regions, whose rows are not kept), "
            + "but foreign key staff_office_region_fkey (public.staff -> public.offices) references it", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplicaDump_RootWhereNamingItsTable_KeepsTheRowsItSelects()
    {
        // The root's rows were read FROM the table AS t: "members.id <= 10" failed with missing FROM-clause entry (exit 7).
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE members (id int PRIMARY KEY, name text);
            INSERT INTO members SELECT i, 'm' || i FROM generate_series(1, 40) i;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.members, where: "members.id <= 10 AND public.members.name <> 'm3'" }]
            """);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "named");

        Assert.Equal(9, Count(await server.QueryAsync(restored, "SELECT count(*) FROM members")));
    }

    /// <summary>
    /// A root without a primary key whose rows repeat: copies share one identity (their content), and `limit: 3` kept
    /// every copy of each chosen identity (60 rows of a table of 20 rows thrice). Now it keeps exactly min(limit, rows)
    /// rows, live and from a dump file, by whole groups of copies but the last, the same bytes on a second run, with
    /// their parents. Which contents are chosen differs between the modes (a live row is known by md5(t::text), a dump
    /// file's by a digest of its COPY line); a table whose rows are all alike gives the same rows in both.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    public async Task ReplicaDump_LimitOnAKeylessRootWithDuplicateRows_KeepsAtMostLimitRows(int limit)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE kinds (id int PRIMARY KEY, name text);
            INSERT INTO kinds SELECT i, 'k' || i FROM generate_series(1, 20) i;
            CREATE TABLE tallies (kind_id int NOT NULL REFERENCES kinds, tag text);  -- no primary key
            INSERT INTO tallies SELECT g, 'tag ' || g FROM generate_series(1, 20) g, generate_series(1, 3) c;
            CREATE TABLE clones (v text);  -- no primary key, every row alike
            INSERT INTO clones SELECT 'same' FROM generate_series(1, 10);
            ANALYZE;
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, $$"""
            subset:
              roots: [{ table: public.tallies, limit: {{limit}} }, { table: public.clones, limit: {{limit}} }]
            """);
        var file = Path.Combine(cli.WorkingDirectory, "source.sql");
        await server.PgDumpToFileAsync(db, file);

        var live = await DumpAndLoadAsync(cli, config, "live-1");
        var liveAgain = await DumpAndLoadAsync(cli, config, "live-2");
        var fromFile = await DumpAndLoadAsync(cli, config, "file-1", ["--input", file]);
        var fileAgain = await DumpAndLoadAsync(cli, config, "file-2", ["--input", file]);

        await AssertSameBytesAsync(live.Sql, liveAgain.Sql);
        await AssertSameBytesAsync(fromFile.Sql, fileAgain.Sql);
        foreach (var restored in new[] { live.Database, fromFile.Database })
        {
            Assert.Equal(Math.Min(limit, 60), Count(await server.QueryAsync(restored, "SELECT count(*) FROM tallies")));
            Assert.Equal(Math.Min(limit, 10), Count(await server.QueryAsync(restored, "SELECT count(*) FROM clones WHERE v = 'same'")));
            Assert.Equal(Math.Min(limit, 10), Count(await server.QueryAsync(restored, "SELECT count(*) FROM clones")));
            // The source's rows, every group of copies whole but at most one (the last one chosen).
            var groups = await server.QueryAsync(restored, "SELECT kind_id, tag, count(*) FROM tallies GROUP BY 1, 2 ORDER BY 1");
            Assert.All(groups, g => Assert.Equal("tag " + g[0], g[1]));
            Assert.All(groups, g => Assert.InRange(long.Parse(g[2]!, System.Globalization.CultureInfo.InvariantCulture), 1, 3));
            Assert.True(groups.Count(g => g[2] != "3") <= 1, string.Join("; ", groups.Select(g => string.Join(" ", g))));
            // Their parents, and only theirs (psql already validated the foreign key).
            Assert.Equal(groups.Count, Count(await server.QueryAsync(restored, "SELECT count(*) FROM kinds")));
        }
        Assert.Equal(await server.QueryAsync(live.Database, "SELECT v FROM clones ORDER BY 1"),
            await server.QueryAsync(fromFile.Database, "SELECT v FROM clones ORDER BY 1"));
    }

    [Fact]
    public async Task RunAsync_PercentAndLimitOnTwentyThousandRows_KeepTheShareAndTheCountOnEveryRun()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE accounts (id bigint PRIMARY KEY, region text NOT NULL);
            INSERT INTO accounts SELECT i, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END FROM generate_series(1, 20000) i;
            """);
        await using var connection = new NpgsqlConnection(server.ConnectionString(db));
        await connection.OpenAsync();
        var (tables, links, infos) = await PostgresSubsetSource.ReadGraphAsync(connection, [], CancellationToken.None);
        var accounts = tables.Single();

        async Task<SubsetClosure> RunAsync(SubsetStart root)
        {
            var graph = new SubsetGraph(tables, links, [root], new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), unreachedFull: false);
            var closure = new SubsetClosure(graph, new PostgresSubsetSource(connection, infos), Store(), "percent-secret"u8);
            await closure.RunAsync(CancellationToken.None);
            return closure;
        }
        var tenPercent = await RunAsync(new SubsetStart(accounts) { Percent = 10 });
        var again = await RunAsync(new SubsetStart(accounts) { Percent = 10 });
        var limited = await RunAsync(new SubsetStart(accounts) { Where = "region = 'eu'", Percent = 50, Limit = 137 });

        // Within 2 percentage points of 10 % of 20,000 rows; the same rows on a second run.
        Assert.InRange(tenPercent.KeptCount(accounts), 1600, 2400);
        Assert.Equal(tenPercent.Kept(accounts).Order(StringComparer.Ordinal), again.Kept(accounts).Order(StringComparer.Ordinal));
        // where, then percent, then limit: exactly 137 even ids.
        Assert.Equal(137, limited.KeptCount(accounts));
        Assert.All(limited.Kept(accounts), id => Assert.Equal(0, long.Parse(id, System.Globalization.CultureInfo.InvariantCulture) % 2));
    }
}
