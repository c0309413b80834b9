using System.Globalization;
using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// Subsets of MariaDB sources with the real executable: a live source (mariadb-dump's stream spooled, then subset like a
/// file) and a mariadb-dump file keep the same rows, every foreign key holds in the restored database, masked columns
/// are masked.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlSubsetTests(MariaDbServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    const string Schema = """
        CREATE TABLE employees (id int PRIMARY KEY, manager_id int NULL, name varchar(40),
            CONSTRAINT employees_manager FOREIGN KEY (manager_id) REFERENCES employees (id)) ENGINE=InnoDB;
        CREATE TABLE customers (id int PRIMARY KEY, country char(2) NOT NULL, email varchar(80)) ENGINE=InnoDB;
        CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, salesperson_id int NULL,
            CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
            CONSTRAINT orders_salesperson FOREIGN KEY (salesperson_id) REFERENCES employees (id)) ENGINE=InnoDB;
        CREATE TABLE order_items (order_id bigint NOT NULL, line int NOT NULL, sku varchar(20),
            PRIMARY KEY (order_id, line), CONSTRAINT items_order FOREIGN KEY (order_id) REFERENCES orders (id)) ENGINE=InnoDB;
        CREATE TABLE notes (customer_id int NULL, body text, CONSTRAINT notes_customer FOREIGN KEY (customer_id) REFERENCES customers (id)) ENGINE=InnoDB;
        INSERT INTO employees SELECT seq, IF(seq > 1, seq DIV 2, NULL), CONCAT('e', seq) FROM seq_1_to_40;
        INSERT INTO customers SELECT seq, IF(seq % 3 = 0, 'DE', 'FR'), CONCAT('c', seq, '@example.org') FROM seq_1_to_3000;
        INSERT INTO orders SELECT seq, 1 + seq % 3000, IF(seq % 4 = 0, NULL, 1 + seq % 40) FROM seq_1_to_9000;
        INSERT INTO order_items SELECT 1 + seq % 9000, seq, CONCAT('sku', seq % 50) FROM seq_1_to_20000;
        INSERT INTO notes SELECT IF(seq % 5 = 0, NULL, 1 + seq % 3000), CONCAT('note ', seq) FROM seq_1_to_500;
        """;

    string Config(string sourceUri, string destinationUri, string name) => _cli.WriteConfig(name: name, body: $$"""
        secret: mysql-subset-secret-0123456789
        source:
          connection_uri: '{{sourceUri}}'
        destination:
          connection_uri: '{{destinationUri}}'
          allow_privileged_role: true
        bridge:
          local:
            path: {{_cli.BridgePath}}
        transformers:
          - table: customers
            columns:
              email: email
        subset:
          roots: [{ table: customers, percent: 20, limit: 150 }]
          follow_children: [orders, order_items, notes]
        """);

    async Task<long> CountAsync(string db, string sql) => long.Parse((await server.ScalarAsync(db, sql))!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task ReplicaDump_SubsetOfALiveSourceAndOfItsDumpFile_KeepTheSameRowsAndEveryForeignKeyHolds()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, Schema);
        var liveTarget = "replica_subset_" + Guid.NewGuid().ToString("N")[..8];
        var fileTarget = "replica_subset_" + Guid.NewGuid().ToString("N")[..8];
        var liveConfig = Config(server.ConnectionUri(source), server.ConnectionUri(liveTarget), "live.yaml");
        var fileConfig = Config(server.ConnectionUri(source), server.ConnectionUri(fileTarget), "file.yaml");
        var file = Path.Combine(_cli.WorkingDirectory, "source.sql");
        var mariadbDump = await ProcessRunner.RunAsync(server.DumpBinary, ["--defaults-file=" + server.ClientConfigPath, "--single-transaction", source]);
        await File.WriteAllTextAsync(file, mariadbDump.Stdout);

        var live = await _cli.RunAsync("dump", "-c", liveConfig, "--name", "live");
        var fromFile = await _cli.RunAsync("dump", "-c", fileConfig, "--name", "file", "--input", file, "--dialect", "MySql");
        Assert.True(live.ExitCode == 0, live.Stderr);
        Assert.True(fromFile.ExitCode == 0, fromFile.Stderr);
        Assert.Contains($"{source}.customers 150", live.Stderr, StringComparison.Ordinal);
        var restoreLive = await _cli.RunAsync("restore", "-c", liveConfig, "--name", "live");
        var restoreFile = await _cli.RunAsync("restore", "-c", fileConfig, "--name", "file");
        Assert.True(restoreLive.ExitCode == 0, restoreLive.Stderr);
        Assert.True(restoreFile.ExitCode == 0, restoreFile.Stderr);

        foreach (var query in new[]
        {
            "SELECT id FROM customers ORDER BY id", "SELECT id, customer_id, salesperson_id FROM orders ORDER BY id",
            "SELECT order_id, line FROM order_items ORDER BY 1, 2", "SELECT id, manager_id FROM employees ORDER BY id", "SELECT count(*) FROM notes",
        })
        {
            Assert.Equal(await server.QueryAsync(liveTarget, query), await server.QueryAsync(fileTarget, query));
        }
        Assert.Equal(150, await CountAsync(fileTarget, "SELECT count(*) FROM customers"));
        // Every foreign key holds (the restore loads with foreign_key_checks off, as mariadb-dump's output does).
        foreach (var orphans in new[]
        {
            "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL",
            "SELECT count(*) FROM orders o LEFT JOIN employees e ON e.id = o.salesperson_id WHERE o.salesperson_id IS NOT NULL AND e.id IS NULL",
            "SELECT count(*) FROM employees m LEFT JOIN employees e ON e.id = m.manager_id WHERE m.manager_id IS NOT NULL AND e.id IS NULL",
            "SELECT count(*) FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL",
            "SELECT count(*) FROM notes n LEFT JOIN customers c ON c.id = n.customer_id WHERE n.customer_id IS NOT NULL AND c.id IS NULL",
        })
        {
            Assert.Equal(0, await CountAsync(fileTarget, orphans));
            Assert.Equal(0, await CountAsync(liveTarget, orphans));
        }
        // Children completeness against the source, and masking of what is kept.
        var kept = string.Join(", ", (await server.QueryAsync(fileTarget, "SELECT id FROM customers")).Select(r => r[0]));
        Assert.Equal(await CountAsync(source, $"SELECT count(*) FROM orders WHERE customer_id IN ({kept})"), await CountAsync(fileTarget, "SELECT count(*) FROM orders"));
        Assert.Equal(await CountAsync(source, $"SELECT count(*) FROM notes WHERE customer_id IN ({kept})"), await CountAsync(fileTarget, "SELECT count(*) FROM notes"));
        Assert.Equal(0, await CountAsync(fileTarget, $"SELECT count(*) FROM customers t JOIN `{source}`.customers s ON s.id = t.id AND s.email = t.email"));
    }

    /// <summary>
    /// A root without a primary key whose rows repeat (copies share one identity, their content): `limit: 7` kept every
    /// copy of 7 identities; now exactly 7 rows, live (mariadb-dump's stream, subset like a file) and from a
    /// mariadb-dump file, by whole groups of copies but the last, with their parents.
    /// </summary>
    [Fact]
    public async Task ReplicaDump_LimitOnAKeylessRootWithDuplicateRows_KeepsAtMostLimitRows()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE kinds (id int PRIMARY KEY, name varchar(10)) ENGINE=InnoDB;
            CREATE TABLE tallies (kind_id int NOT NULL, tag varchar(20), CONSTRAINT tallies_kind FOREIGN KEY (kind_id) REFERENCES kinds (id)) ENGINE=InnoDB;
            INSERT INTO kinds SELECT seq, CONCAT('k', seq) FROM seq_1_to_20;
            INSERT INTO tallies SELECT g.seq, CONCAT('tag ', g.seq) FROM seq_1_to_20 g, seq_1_to_3 c;
            """);
        var file = Path.Combine(_cli.WorkingDirectory, "keyless.sql");
        var mariadbDump = await ProcessRunner.RunAsync(server.DumpBinary, ["--defaults-file=" + server.ClientConfigPath, "--single-transaction", source]);
        await File.WriteAllTextAsync(file, mariadbDump.Stdout);
        async Task<string> DumpAsync(string name, params string[] arguments)
        {
            var target = "replica_subset_" + Guid.NewGuid().ToString("N")[..8];
            var config = _cli.WriteConfig(name: name + ".yaml", body: $$"""
                secret: mysql-subset-secret-0123456789
                source:
                  connection_uri: '{{server.ConnectionUri(source)}}'
                destination:
                  connection_uri: '{{server.ConnectionUri(target)}}'
                  allow_privileged_role: true
                bridge:
                  local:
                    path: {{_cli.BridgePath}}
                subset:
                  roots: [{ table: tallies, limit: 7 }]
                """);
            var dump = await _cli.RunAsync(["dump", "-c", config, "--name", name, .. arguments]);
            Assert.True(dump.ExitCode == 0, dump.Stderr);
            var restore = await _cli.RunAsync("restore", "-c", config, "--name", name);
            Assert.True(restore.ExitCode == 0, restore.Stderr);
            return target;
        }

        foreach (var target in new[] { await DumpAsync("keyless-live"), await DumpAsync("keyless-file", "--input", file, "--dialect", "MySql") })
        {
            Assert.Equal(7, await CountAsync(target, "SELECT count(*) FROM tallies"));
            var groups = await server.QueryAsync(target, "SELECT kind_id, tag, count(*) FROM tallies GROUP BY 1, 2 ORDER BY 1");
            Assert.All(groups, g => Assert.Equal("tag " + g[0], g[1]));
            Assert.Equal(1, groups.Count(g => g[2] != "3"));
            Assert.Equal(0, await CountAsync(target, "SELECT count(*) FROM tallies t LEFT JOIN kinds k ON k.id = t.kind_id WHERE k.id IS NULL"));
            Assert.Equal(groups.Count, await CountAsync(target, "SELECT count(*) FROM kinds"));
        }
    }

    /// <summary>
    /// MariaDB compares a foreign key's values with the column's collation (case- and accent-insensitive by default,
    /// trailing blanks ignored), so a child row can reference a parent whose key is written differently; a subset,
    /// computed on the dump's text, keeps those parents too (the restore loads with foreign_key_checks off, so a lost
    /// parent would be an orphan, not an error).
    /// </summary>
    [Fact]
    public async Task ReplicaDump_ForeignKeysEqualUnderTheirCollation_KeepTheReferencedRows()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE users (email varchar(80) PRIMARY KEY) ENGINE=InnoDB;
            CREATE TABLE logins (id int PRIMARY KEY, email varchar(80) NOT NULL,
                CONSTRAINT logins_user FOREIGN KEY (email) REFERENCES users (email)) ENGINE=InnoDB;
            INSERT INTO users VALUES ('Alice@X.org'), ('bob@x.org'), ('carol@x.org'), ('dave@x.org'), ('eve@x.org');
            INSERT INTO logins VALUES (1, 'alice@x.org'), (2, 'BOB@X.ORG'), (3, 'carol@x.org  '), (4, 'dàve@x.org'), (5, 'eve@x.org');
            CREATE TABLE codes (code varchar(10) COLLATE utf8mb4_bin PRIMARY KEY, rate decimal(10,2) NOT NULL UNIQUE) ENGINE=InnoDB;
            CREATE TABLE coded (id int PRIMARY KEY, code varchar(10) COLLATE utf8mb4_bin NOT NULL, rate decimal(10,2) NOT NULL,
                CONSTRAINT coded_code FOREIGN KEY (code) REFERENCES codes (code),
                CONSTRAINT coded_rate FOREIGN KEY (rate) REFERENCES codes (rate)) ENGINE=InnoDB;
            INSERT INTO codes VALUES ('a', 1), ('A', 2), ('b', 3);
            INSERT INTO coded VALUES (1, 'a', 2), (2, 'A', 1);
            """);
        var target = "replica_subset_" + Guid.NewGuid().ToString("N")[..8];
        var config = _cli.WriteConfig(name: "collation.yaml", body: $$"""
            secret: mysql-subset-secret-0123456789
            source:
              connection_uri: '{{server.ConnectionUri(source)}}'
            destination:
              connection_uri: '{{server.ConnectionUri(target)}}'
              allow_privileged_role: true
            bridge:
              local:
                path: {{_cli.BridgePath}}
            subset:
              roots: [{ table: logins }, { table: coded }]
            """);

        var dump = await _cli.RunAsync("dump", "-c", config, "--name", "collation");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "collation");
        Assert.True(restore.ExitCode == 0, restore.Stderr);

        Assert.Equal(0, await CountAsync(target, "SELECT count(*) FROM logins l LEFT JOIN users u ON u.email = l.email WHERE u.email IS NULL"));
        Assert.Equal(5, await CountAsync(target, "SELECT count(*) FROM users"));
        Assert.Equal(0, await CountAsync(target, "SELECT count(*) FROM coded c LEFT JOIN codes p ON p.code = c.code WHERE p.code IS NULL"));
        Assert.Equal(0, await CountAsync(target, "SELECT count(*) FROM coded c LEFT JOIN codes p ON p.rate = c.rate WHERE p.rate IS NULL"));
    }
}
