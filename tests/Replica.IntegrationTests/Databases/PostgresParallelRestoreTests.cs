using System.IO.Pipelines;
using System.Text;
using Replica.Bridges;
using Replica.Config;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;
using Replica.Pipeline;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// `replica restore --jobs N` into a real PostgreSQL: dumps in parts (cut from pg_dump at its sections, as
/// `replica dump --jobs` writes them) and single-stream dumps give the same database as `--jobs 1`; a failure in the data
/// phase or in post-data, or a refused meta-command, leaves an existing destination exactly as it was and no staging
/// database behind.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresParallelRestoreTests(PostgresServer server) : IDisposable
{
    static readonly string s_key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray());

    // Small chunks, zstd and AES-GCM: every part spans several chunks, and each connection decodes with its own codec.
    static readonly BridgeConfig s_bridge = new()
    {
        ChunkSize = 16 << 10,
        Compression = new CompressionConfig { Algorithm = "zstd" },
        Encryption = new EncryptionConfig { Key = s_key },
    };

    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>A config restoring into <paramref name="destination"/> (and dumping <paramref name="source"/>, when given).</summary>
    string Config(string destination, string? source = null) => _cli.WriteConfig((source is null ? "" : $"""
        source:
          connection_uri: '{server.PasswordUri(source)}'

        """) + $"""
        destination:
          connection_uri: '{server.PasswordUri(destination)}'
          allow_privileged_role: true
        bridge:
          local:
            path: {_cli.BridgePath}
          chunk_size: 16KiB
          compression: {"{"} algorithm: zstd {"}"}
          encryption: {"{"} key: '{s_key}' {"}"}
        """, $"replica-{destination}.yaml");

    /// <summary>A shop with keys, foreign keys, indexes, a check constraint, awkward text and a large object.</summary>
    async Task<string> SourceAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE);
            CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), total numeric(10,2), note text);
            CREATE INDEX orders_customer ON orders (customer_id);
            CREATE TABLE items (order_id bigint REFERENCES orders (id), sku text, qty int CHECK (qty > 0));
            CREATE INDEX items_sku ON items (sku);
            CREATE UNIQUE INDEX items_order_sku ON items (order_id, sku);
            COMMENT ON CONSTRAINT orders_customer_id_fkey ON orders IS 'every order has its customer';
            INSERT INTO customers (name, email) SELECT 'name ' || i || E'\ttab\\back', 'c' || i || '@example.com' FROM generate_series(1, 2000) i;
            INSERT INTO orders (customer_id, total, note) SELECT 1 + i % 2000, i * 1.25, CASE WHEN i % 7 = 0 THEN NULL ELSE E'line\nbreak ' || i END FROM generate_series(1, 5000) i;
            INSERT INTO items SELECT 1 + i % 5000, 'sku-' || i, 1 + i % 9 FROM generate_series(1, 8000) i;
            SELECT lo_from_bytea(0, 'a large object');
            """);
        return db;
    }

    async Task<string> PgDumpAsync(string db, params string[] options)
    {
        var path = Path.Combine(_cli.WorkingDirectory, $"{Guid.NewGuid():N}.sql");
        await server.PgDumpToFileAsync(db, path, ["--no-owner", .. options]);
        return await File.ReadAllTextAsync(path);
    }

    /// <summary>
    /// The dump in parts, as `replica dump --jobs` writes them: pre-data, then per table its data (COPY, with the
    /// session settings pg_dump starts with and its sequence), then post-data. <paramref name="edit"/> may change a part.
    /// </summary>
    async Task StorePartsAsync(string source, string name, Func<string, string, string>? edit = null)
    {
        var parts = new List<(string Kind, string? Table, string Sql)> { (PartKind.PreData, null, await PgDumpAsync(source, "--section=pre-data")) };
        foreach (var table in new[] { "public.customers", "public.orders", "public.items" })
        {
            parts.Add((PartKind.Data, table, await PgDumpAsync(source, "--section=data", $"--table={table}")));
        }
        parts.Add((PartKind.PostData, null, await PgDumpAsync(source, "--section=post-data")));

        var codecs = BridgeCodecs.ForNewDump(s_bridge);
        using var codec = codecs.Codec;
        var bridge = new LocalBridge(_cli.BridgePath);
        await using var writer = await bridge.BeginDumpAsync(name, CancellationToken.None);
        long plain = 0;
        foreach (var (kind, table, sql) in parts)
        {
            var text = edit?.Invoke(table ?? kind, sql) ?? sql;
            int part = writer.BeginPart(kind, table);
            var pipe = new Pipe();
            var chunking = DumpChunker.RunPartAsync(pipe.Reader, writer, part, (int)s_bridge.ChunkSize, codec, 2, CancellationToken.None);
            await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(text));
            await pipe.Writer.CompleteAsync();
            plain += await chunking;
        }
        await writer.CompleteAsync(new DumpSummary(plain, "test parts", Compressed: true, Encrypted: true)
        {
            Compression = codecs.Compression,
            Encryption = codecs.Encryption,
            AuthenticateChunks = codecs.AuthenticateChunks,
            SizePlain = plain,
        }, CancellationToken.None);
    }

    /// <summary>Stores a single-stream dump through `replica dump --input`.</summary>
    async Task StoreStreamAsync(string sql, string name)
    {
        var input = Path.Combine(_cli.WorkingDirectory, name + ".sql");
        await File.WriteAllTextAsync(input, sql);
        var dump = await _cli.RunAsync("dump", "-c", Config("unused"), "--input", input, "--name", name);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
    }

    /// <summary>The schema as pg_dump writes it (without \restrict's random key).</summary>
    async Task<string> SchemaAsync(string db)
    {
        var lines = (await PgDumpAsync(db, "--schema-only")).Split('\n');
        return string.Join('\n', lines.Where(l => !l.StartsWith("\\restrict ", StringComparison.Ordinal) && !l.StartsWith("\\unrestrict ", StringComparison.Ordinal)));
    }

    /// <summary>Per table its row count and a checksum of its rows; the sequences' values; the large objects.</summary>
    async Task<string> ChecksumsAsync(string db)
    {
        var text = new StringBuilder();
        foreach (var table in await server.ListTablesAsync(db))
        {
            var row = (await server.QueryAsync(db, $"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') FROM {table} t"))[0];
            text.Append(table).Append(' ').Append(row[0]).Append('\n');
        }
        foreach (var row in await server.QueryAsync(db, "SELECT schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, '-') FROM pg_sequences ORDER BY 1"))
        {
            text.Append(row[0]).Append('\n');
        }
        var objects = await server.QueryAsync(db, "SELECT count(*) || ' ' || coalesce(md5(string_agg(oid::text || encode(lo_get(oid), 'hex'), ',' ORDER BY oid)), '-') FROM pg_largeobject_metadata");
        return text.Append("large objects ").Append(objects[0][0]).ToString();
    }

    async Task AssertSameDatabaseAsync(string expected, string actual)
    {
        Assert.Equal(await SchemaAsync(expected), await SchemaAsync(actual));
        Assert.Equal(await ChecksumsAsync(expected), await ChecksumsAsync(actual));
    }

    async Task<ProcessOutput> RestoreAsync(string name, string destination, int jobs, params string[] extra) =>
        await _cli.RunAsync(["restore", "-c", Config(destination), "--name", name, "--jobs", jobs.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra]);

    /// <summary>A destination with data of its own, which a failed restore must leave exactly as it was.</summary>
    async Task<(string Db, string Schema, string Checksums)> ExistingDestinationAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, "CREATE TABLE keep_me (id int PRIMARY KEY, note text); INSERT INTO keep_me SELECT i, 'note ' || i FROM generate_series(1, 100) i");
        return (db, await SchemaAsync(db), await ChecksumsAsync(db));
    }

    async Task AssertUnchangedAsync((string Db, string Schema, string Checksums) destination)
    {
        Assert.Equal(destination.Schema, await SchemaAsync(destination.Db));
        Assert.Equal(destination.Checksums, await ChecksumsAsync(destination.Db));
        var staging = await server.QueryAsync("postgres", $"SELECT datname FROM pg_database WHERE datname LIKE '{destination.Db}\\_replica\\_%'");
        Assert.Empty(staging);
    }

    /// <summary>`replica dump --jobs 2` of <paramref name="source"/>, then `replica restore --jobs 2` into a new database; both succeed.</summary>
    async Task<(string Destination, ProcessOutput Restore)> DumpAndRestoreJobs2Async(string source, string name)
    {
        var destination = NewName();
        var config = Config(destination, source);
        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", "2", "--name", name);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", name, "--jobs", "2");
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        return (destination, restore);
    }

    static string NewName() => "restored_" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task RestoreJobs_MultiPartDump_GivesTheSameDatabaseAsJobs1()
    {
        var source = await SourceAsync();
        await StorePartsAsync(source, "parts");
        string serial = NewName(), parallel = NewName();

        var one = await RestoreAsync("parts", serial, 1);
        var two = await RestoreAsync("parts", parallel, 2);

        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.True(two.ExitCode == 0, two.Stderr);
        Assert.Contains("restoring on 2 connections: pre-data on one, 3 data parts in parallel", two.Stderr, StringComparison.Ordinal);
        Assert.Contains(", 15000 rows)", two.Stderr, StringComparison.Ordinal);
        await AssertSameDatabaseAsync(serial, parallel);
        // Tables and sequences as in the source (pg_dump --table leaves large objects out of the data parts).
        Assert.Equal((await ChecksumsAsync(source)).Split('\n')[..5], (await ChecksumsAsync(parallel)).Split('\n')[..5]);
    }

    [Fact]
    public async Task RestoreJobs2_OfAReplicaDumpJobs2_GivesTheSourceDatabase()
    {
        // The whole loop with the real executable: `replica dump --jobs 2` writes the rest of pg_dump's data section
        // (sequence values, the large object) as a post-data part ahead of the indexes and constraints.
        var source = await SourceAsync();

        var (destination, restore) = await DumpAndRestoreJobs2Async(source, "loop");

        var manifest = await new LocalBridge(_cli.BridgePath).ReadManifestAsync("loop", CancellationToken.None);
        Assert.Equal([PartKind.PreData, PartKind.Data, PartKind.Data, PartKind.Data, PartKind.PostData, PartKind.PostData],
            manifest.Parts!.Select(p => p.Kind));
        Assert.Contains("3 data parts in parallel", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains(", 15000 rows)", restore.Stderr, StringComparison.Ordinal);
        // Tables, sequences and the large object as in the source.
        await AssertSameDatabaseAsync(source, destination);
    }

    [Fact]
    public async Task RestoreJobs2_PartitionedTablesAndForeignKeys_GivesTheSourceDatabase()
    {
        // Post-data's index builds and foreign keys run as soon as their tables are in, except where a table has no data
        // part of its own: the index on ONLY the partitioned parent waits for all the data, the partitions' indexes are
        // attached in dump order with the rest, and the foreign key to the parent (which needs the attached index)
        // stays in the rest; keys between plain tables in both directions run one at a time.
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE regions (id int PRIMARY KEY, name text UNIQUE, flagship_shop int);
            CREATE TABLE shops (id int PRIMARY KEY, region_id int REFERENCES regions (id), best_shop int REFERENCES shops (id));
            CREATE TABLE sales (id bigint, shop_id int NOT NULL REFERENCES shops (id), sold_on date NOT NULL, amount numeric) PARTITION BY RANGE (sold_on);
            CREATE TABLE sales_2025 PARTITION OF sales FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE sales_2026 PARTITION OF sales FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            ALTER TABLE sales ADD PRIMARY KEY (id, sold_on);
            CREATE INDEX sales_shop ON sales (shop_id);
            CREATE TABLE refunds (id int PRIMARY KEY, sale_id bigint, sold_on date, FOREIGN KEY (sale_id, sold_on) REFERENCES sales (id, sold_on));
            INSERT INTO regions SELECT i, 'region ' || i FROM generate_series(1, 50) i;
            INSERT INTO shops SELECT i, 1 + i % 50, 1 + i % 7 FROM generate_series(1, 400) i;
            UPDATE regions SET flagship_shop = id;
            ALTER TABLE regions ADD FOREIGN KEY (flagship_shop) REFERENCES shops (id);
            INSERT INTO sales SELECT i, 1 + i % 400, DATE '2025-06-01' + (i % 400), i * 0.5 FROM generate_series(1, 6000) i;
            INSERT INTO refunds SELECT i, i, DATE '2025-06-01' + (i % 400) FROM generate_series(1, 300) i;
            """);

        var (destination, restore) = await DumpAndRestoreJobs2Async(source, "partitioned");

        Assert.Contains("foreign keys as soon as their tables are in", restore.Stderr, StringComparison.Ordinal);
        await AssertSameDatabaseAsync(source, destination);
    }

    [Fact]
    public async Task RestoreJobs_SingleStreamDump_IsSplitAtItsCopyBlocksAndGivesTheSameDatabase()
    {
        var source = await SourceAsync();
        await StoreStreamAsync(await PgDumpAsync(source), "stream");
        string serial = NewName(), parallel = NewName();

        var one = await RestoreAsync("stream", serial, 1);
        var two = await RestoreAsync("stream", parallel, 2);

        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.True(two.ExitCode == 0, two.Stderr);
        Assert.Contains("a single-stream dump split at its COPY blocks", two.Stderr, StringComparison.Ordinal);
        Assert.Contains("3 COPY blocks in parallel", two.Stderr, StringComparison.Ordinal);
        Assert.Contains(", 15000 rows)", two.Stderr, StringComparison.Ordinal);
        await AssertSameDatabaseAsync(serial, parallel);
        await AssertSameDatabaseAsync(source, parallel);
    }

    [Fact]
    public async Task RestoreJobs_InsertFormDump_RestoresOnOneConnectionSayingWhy()
    {
        var source = await SourceAsync();
        await StoreStreamAsync(await PgDumpAsync(source, "--inserts"), "inserts");
        var parallel = NewName();

        var two = await RestoreAsync("inserts", parallel, 2);

        Assert.True(two.ExitCode == 0, two.Stderr);
        Assert.Contains("restoring on one connection, not 2: the dump has no COPY block to load in parallel (INSERT form, or no data)", two.Stderr, StringComparison.Ordinal);
        await AssertSameDatabaseAsync(source, parallel);
    }

    [Fact]
    public async Task RestoreJobs_CorruptChunkInADataPart_LeavesTheDestinationAsItWas()
    {
        var source = await SourceAsync();
        await StorePartsAsync(source, "corrupt");
        var manifest = await new LocalBridge(_cli.BridgePath).ReadManifestAsync("corrupt", CancellationToken.None);
        var items = manifest.Parts!.Single(p => p.Table == "public.items");
        Assert.True(items.ChunkCount > 2);
        var key = LocalBridge.ChunkKey(items.Index, items.ChunkCount / 2);
        var chunk = Path.Combine(_cli.BridgePath, "corrupt", key);
        var bytes = await File.ReadAllBytesAsync(chunk);
        bytes[^1] ^= 1;
        await File.WriteAllBytesAsync(chunk, bytes);
        var destination = await ExistingDestinationAsync();

        var restore = await RestoreAsync("corrupt", destination.Db, 2, "--wipe", "database", "--yes");

        Assert.Equal(5, restore.ExitCode);
        Assert.Contains(key, restore.Stderr, StringComparison.Ordinal);
        await AssertUnchangedAsync(destination);
    }

    [Fact]
    public async Task RestoreJobs_RowViolatingACheckInADataPart_LeavesTheDestinationAsItWas()
    {
        var source = await SourceAsync();
        await StorePartsAsync(source, "bad-row", (part, sql) => part == "public.items" ? sql.Replace("sku-100\t", "sku-100\t-", StringComparison.Ordinal) : sql);
        var destination = await ExistingDestinationAsync();

        var restore = await RestoreAsync("bad-row", destination.Db, 2, "--wipe", "database", "--yes");

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("items_qty_check", restore.Stderr, StringComparison.Ordinal);
        // psql's line is one of that connection's input: the error names what it ran (found by review: it pointed nowhere).
        Assert.Matches("psql's line numbers count this connection's input, not the dump's lines: it ran [^\n]*the data of public.items", restore.Stderr);
        await AssertUnchangedAsync(destination);
    }

    [Fact]
    public async Task RestoreJobs_ForeignKeyThatDoesNotHold_FailsInPostDataAndLeavesTheDestinationAsItWas()
    {
        var source = await SourceAsync();
        // An order of a customer that does not exist: the data goes in, the foreign key of post-data fails.
        await StorePartsAsync(source, "bad-fk", (part, sql) => part == "public.orders" ? sql.Replace("\n\\.\n", "\n999999\t1999999\t1.00\t\\N\n\\.\n", StringComparison.Ordinal) : sql);
        var destination = await ExistingDestinationAsync();

        var restore = await RestoreAsync("bad-fk", destination.Db, 2, "--wipe", "database", "--yes");

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("orders_customer_id_fkey", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("not the dump's lines: it ran an index build or foreign key of post-data", restore.Stderr, StringComparison.Ordinal);
        await AssertUnchangedAsync(destination);
    }

    public static TheoryData<string> HidingPlaces => new() { "public.orders", PartKind.PostData };

    [Theory]
    [MemberData(nameof(HidingPlaces))]
    public async Task RestoreJobs_MetaCommandHiddenInAPart_IsRefusedAndChangesNothing(string part)
    {
        var marker = Path.Combine(_cli.WorkingDirectory, "marker");
        var source = await SourceAsync();
        await StorePartsAsync(source, "evil", (name, sql) => name == part ? sql + $"\n\\! touch {marker}\n" : sql);
        var destination = await ExistingDestinationAsync();

        var restore = await RestoreAsync("evil", destination.Db, 2, "--wipe", "database", "--yes");

        Assert.Equal(3, restore.ExitCode);
        Assert.Contains("psql meta-command \\!", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "the shell command ran");
        await AssertUnchangedAsync(destination);
    }

    [Fact]
    public async Task RestoreJobs_MetaCommandInSingleStreamDump_IsRefusedBeforeTheDestinationIsTouched()
    {
        var marker = Path.Combine(_cli.WorkingDirectory, "marker");
        var source = await SourceAsync();
        var sql = await PgDumpAsync(source);
        // Behind replica's back: `replica dump` refuses the same, so the chunk is written into the bridge directly.
        var bridge = new LocalBridge(_cli.BridgePath);
        await using (var writer = await bridge.BeginDumpAsync("evil-stream", CancellationToken.None))
        {
            var bytes = Encoding.UTF8.GetBytes(sql + $"\n\\! touch {marker}\n");
            await writer.WriteChunkAsync(bytes, CancellationToken.None);
            await writer.CompleteAsync(new DumpSummary(bytes.Length, "test", Compressed: false, Encrypted: false), CancellationToken.None);
        }
        var destination = await ExistingDestinationAsync();
        var config = _cli.WriteConfig($"""
            destination:
              connection_uri: '{server.PasswordUri(destination.Db)}'
              allow_privileged_role: true
            bridge:
              local:
                path: {_cli.BridgePath}
            """, "plain.yaml");

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "evil-stream", "--jobs", "2", "--wipe", "database", "--yes");

        Assert.Equal(3, restore.ExitCode);
        Assert.Contains("psql meta-command \\!", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "the shell command ran");
        await AssertUnchangedAsync(destination);
    }

    /// <summary>
    /// Gives <paramref name="db"/> a comment and a setting of its own; returns a fresh marker and the EXECUTE statements of
    /// code that changes both and puts the marker in the role's settings: what a failed restore must leave as it was
    /// (<see cref="OutsideAsync"/> reads it).
    /// </summary>
    async Task<(string Marker, string Body)> OutsideChangesAsync(string db)
    {
        await server.ExecuteAsync("postgres", $"COMMENT ON DATABASE {db} IS 'the dev db'; ALTER DATABASE {db} SET work_mem = '7MB'");
        var marker = "m" + Guid.NewGuid().ToString("N")[..8];
        var body = $"EXECUTE 'COMMENT ON DATABASE {db} IS ''changed by dump'''; EXECUTE 'ALTER DATABASE {db} SET work_mem = ''1MB''';"
            + $" EXECUTE 'ALTER ROLE CURRENT_USER SET replica_test.marker = ''{marker}''';";
        return (marker, body);
    }

    /// <summary>The destination's comment and settings (ALTER DATABASE SET), and how many role settings name <paramref name="marker"/>.</summary>
    async Task<string> OutsideAsync(string db, string marker)
    {
        var row = (await server.QueryAsync("postgres", $"""
            SELECT coalesce(shobj_description(d.oid, 'pg_database'), '-') || ' | '
                || coalesce((SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setdatabase = d.oid AND setrole = 0), '-') || ' | '
                || (SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%{marker}%')
            FROM pg_database d WHERE d.datname = '{db}'
            """))[0];
        return row[0]!;
    }

    /// <summary>
    /// A DO block after the dump's first session settings, as a dump may hold one: code that the guard cannot look into,
    /// run at restore time. <paramref name="body"/> is its EXECUTE statements.
    /// </summary>
    static string WithDo(string sql, string body)
    {
        const string After = "SET row_security = off;\n";
        Assert.Contains(After, sql, StringComparison.Ordinal);
        var at = sql.IndexOf(After, StringComparison.Ordinal) + After.Length;
        return sql[..at] + "DO $$ BEGIN " + body + " END $$;\n" + sql[at..];
    }

    /// <summary>A row of items whose qty violates its CHECK: the restore fails in the data, after the DO block ran.</summary>
    static string WithBadRow(string sql) => sql.Replace("sku-100\t", "sku-100\t-", StringComparison.Ordinal);

    public static TheoryData<bool> StreamOrParts => new() { true, false };

    [Theory]
    [MemberData(nameof(StreamOrParts))]
    public async Task RestoreJobs_DoBlockChangingTheDestinationThenABadRow_LeavesDatabaseAndRoleSettingsAsTheyWere(bool stream)
    {
        // Found by review: the schema part committed on its own in the staging database, so the DO block's ALTER DATABASE
        // and ALTER ROLE stayed after the failure, which still said "rolled back, the database is unchanged".
        var source = await SourceAsync();
        var destination = await ExistingDestinationAsync();
        var (marker, body) = await OutsideChangesAsync(destination.Db);
        if (stream)
        {
            await StoreStreamAsync(WithBadRow(WithDo(await PgDumpAsync(source), body)), "do-bad");
        }
        else
        {
            await StorePartsAsync(source, "do-bad", (part, sql) => part == PartKind.PreData ? WithDo(sql, body) : part == "public.items" ? WithBadRow(sql) : sql);
        }
        var before = await OutsideAsync(destination.Db, marker);
        Assert.Equal("the dev db | work_mem=7MB | 0", before);

        var restore = await RestoreAsync("do-bad", destination.Db, 2, "--wipe", "database", "--yes");

        Assert.Equal(7, restore.ExitCode);
        Assert.Equal(before, await OutsideAsync(destination.Db, marker));
        await AssertUnchangedAsync(destination);
        Assert.Contains("restoring on one connection, not 2: the dump runs code (DO at line ", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("items_qty_check", restore.Stderr, StringComparison.Ordinal);
    }

    /// <summary><paramref name="text"/> before pg_dump's closing \unrestrict line (at the end when there is none).</summary>
    static string BeforeEnd(string sql, string text)
    {
        var at = sql.LastIndexOf("\n\\unrestrict ", StringComparison.Ordinal);
        return at < 0 ? sql + "\n" + text : sql[..(at + 1)] + text + sql[(at + 1)..];
    }

    public static TheoryData<bool, bool> StreamOrPartsBySelectOrTrigger => new() { { true, false }, { true, true }, { false, false }, { false, true } };

    [Theory]
    [MemberData(nameof(StreamOrPartsBySelectOrTrigger))]
    public async Task RestoreJobs_FunctionRunBySelectOrTriggerThenAFailure_LeavesDatabaseAndRoleSettingsAsTheyWere(bool stream, bool trigger)
    {
        // Found by review: only a top-level DO or CALL made the restore serial, but a function the dump defines runs its
        // code just as well when a SELECT calls it, or as a trigger that the data's COPY fires, in a part that commits on
        // its own. With --input, whoever writes the SQL file chooses it. The restore fails at its very end, after every
        // data connection committed.
        var source = await SourceAsync();
        var destination = await ExistingDestinationAsync();
        var (marker, body) = await OutsideChangesAsync(destination.Db);
        var code = trigger
            ? $"CREATE FUNCTION public.replica_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$;\n"
                + "CREATE TRIGGER replica_t AFTER INSERT ON public.customers FOR EACH STATEMENT EXECUTE FUNCTION public.replica_f();\n"
            : $"CREATE FUNCTION public.replica_f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN {body} END $$;\nSELECT public.replica_f();\n";
        const string Fails = "SELECT 1/0;\n";
        if (stream)
        {
            var sql = await PgDumpAsync(source);
            var copy = sql.IndexOf("\nCOPY ", StringComparison.Ordinal) + 1;
            await StoreStreamAsync(BeforeEnd(sql[..copy] + code + sql[copy..], Fails), "code-fails");
        }
        else
        {
            await StorePartsAsync(source, "code-fails", (part, sql) => part == PartKind.PreData ? BeforeEnd(sql, code) : part == PartKind.PostData ? BeforeEnd(sql, Fails) : sql);
        }
        var before = await OutsideAsync(destination.Db, marker);
        Assert.Equal("the dev db | work_mem=7MB | 0", before);

        var restore = await RestoreAsync("code-fails", destination.Db, 2, "--wipe", "database", "--yes");

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("division by zero", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await OutsideAsync(destination.Db, marker));
        await AssertUnchangedAsync(destination);
        Assert.Contains("restoring on one connection, not 2: the dump runs code (CREATE FUNCTION at line ", restore.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreJobs_DoBlockRenamingTheDestinationThenABadRow_LeavesTheDestinationInPlace()
    {
        var source = await SourceAsync();
        var destination = await ExistingDestinationAsync();
        var gone = destination.Db + "_gone";
        await StoreStreamAsync(WithBadRow(WithDo(await PgDumpAsync(source), $"EXECUTE 'ALTER DATABASE {destination.Db} RENAME TO {gone}';")), "do-rename");

        var restore = await RestoreAsync("do-rename", destination.Db, 2, "--wipe", "database", "--yes");

        Assert.Equal(7, restore.ExitCode);
        Assert.Empty(await server.QueryAsync("postgres", $"SELECT 1 FROM pg_database WHERE datname = '{gone}'"));
        await AssertUnchangedAsync(destination);
    }

    [Theory]
    [MemberData(nameof(StreamOrParts))]
    public async Task RestoreJobs_DumpWithADoBlock_RestoresOnOneConnectionSayingWhy(bool stream)
    {
        var source = await SourceAsync();
        const string Body = "EXECUTE 'CREATE TABLE public.made_by_do (id int)';";
        if (stream)
        {
            await StoreStreamAsync(WithDo(await PgDumpAsync(source), Body), "do-ok");
        }
        else
        {
            await StorePartsAsync(source, "do-ok", (part, sql) => part == PartKind.PostData ? WithDo(sql, Body) : sql);
        }
        var parallel = NewName();

        var two = await RestoreAsync("do-ok", parallel, 2);

        Assert.True(two.ExitCode == 0, two.Stderr);
        var where = stream ? "" : " of the post-data part";
        Assert.Matches($"restoring on one connection, not 2: the dump runs code \\(DO at line [0-9]+{where}\\) that a restore in parallel could not roll back", two.Stderr);
        Assert.Single(await server.QueryAsync(parallel, "SELECT 1 FROM pg_class WHERE relname = 'made_by_do'"));
        Assert.Contains(", 15000 rows)", two.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CALL no_such_procedure();", "CALL")]
    [InlineData("CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1';\nSELECT public.f();", "CREATE FUNCTION")]
    public async Task RestoreJobs_CallOrFunctionInADataPart_IsRefusedAndChangesNothing(string statement, string word)
    {
        // Data parts are not read before the restore: their connections refuse code instead of running it.
        var source = await SourceAsync();
        await StorePartsAsync(source, "call-data", (part, sql) => part == "public.orders" ? sql + "\n" + statement + "\n" : sql);
        var destination = await ExistingDestinationAsync();

        var restore = await RestoreAsync("call-data", destination.Db, 2, "--wipe", "database", "--yes");

        Assert.Equal(3, restore.ExitCode);
        Assert.Contains(word + " in a data part", restore.Stderr, StringComparison.Ordinal);
        await AssertUnchangedAsync(destination);
    }

    [Fact]
    public async Task RestoreJobs_GrantOnTheDatabaseWithNoPrivileges_IsLeftOutAsWithJobs1()
    {
        // Found by review: the scan of a single-stream dump refused what no_privileges leaves out.
        var source = await SourceAsync();
        var destination = await ExistingDestinationAsync();
        await StoreStreamAsync(await PgDumpAsync(source) + $"\nGRANT CONNECT ON DATABASE {destination.Db} TO PUBLIC;\n", "grant");
        var config = Config(destination.Db);
        File.WriteAllText(config, File.ReadAllText(config).Replace("destination:\n", "destination:\n  no_privileges: true\n", StringComparison.Ordinal));

        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "grant", "--jobs", "2", "--wipe", "database", "--yes");

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Contains("a single-stream dump split at its COPY blocks", restore.Stderr, StringComparison.Ordinal);
        await AssertSameDatabaseAsync(source, destination.Db);
    }

    [Fact]
    public async Task RestoreJobs_ExistingDestinationWithoutWipeDatabase_IsRefusedSayingWhy()
    {
        var source = await SourceAsync();
        await StorePartsAsync(source, "parts");
        var destination = await ExistingDestinationAsync();

        var plain = await RestoreAsync("parts", destination.Db, 2);
        var schemas = await RestoreAsync("parts", destination.Db, 2, "--wipe", "schemas", "--yes");

        Assert.Equal(2, plain.ExitCode);
        Assert.Contains("exists: --jobs 2 restores on several connections into a staging database", plain.Stderr, StringComparison.Ordinal);
        Assert.Contains("pass --wipe database", plain.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, schemas.ExitCode);
        Assert.Contains("--wipe schemas drops schemas inside one transaction", schemas.Stderr, StringComparison.Ordinal);
        await AssertUnchangedAsync(destination);
    }

    [Fact]
    public async Task RestoreJobs_ToOutputFile_IsRefusedSayingWhy()
    {
        var source = await SourceAsync();
        await StorePartsAsync(source, "parts");

        var restore = await _cli.RunAsync("restore", "-c", Config("unused"), "--name", "parts", "--jobs", "2", "--output", "out.sql");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains("--jobs 2 restores into a PostgreSQL database (destination.connection_uri) on several connections; file out.sql gets one SQL stream", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cli.WorkingDirectory, "out.sql")));
    }

    [Fact]
    public async Task RestoreJobs_MySqlDestination_IsRefusedSayingWhy()
    {
        var config = _cli.WriteConfig($"""
            destination:
              connection_uri: 'mysql://root@127.0.0.1:1/shop'
              allow_privileged_role: true
            bridge:
              local:
                path: {_cli.BridgePath}
            """, "mysql.yaml");

        var restore = await _cli.RunAsync("restore", "-c", config, "--latest", "--jobs", "2");

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains("--jobs 2 restores into PostgreSQL on several connections; a MySQL restore loads one stream into its staging database", restore.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreJobs_Zero_IsAUsageError()
    {
        var restore = await _cli.RunAsync("restore", "-c", Config("unused"), "--latest", "--jobs", "0");

        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("--jobs needs a number of connections, 1 or more", restore.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreJobs_BridgeFormatV1Dump_IsSplitAtItsCopyBlocksAndGivesTheSameDatabase()
    {
        // The v1 bridge committed as a fixture of the core tests (written before dumps had parts).
        var fixture = Path.Combine(TestPaths.RepositoryRoot, "tests", "Replica.Core.Tests", "Bridges", "Fixtures", "v1-bridge");
        foreach (var file in Directory.EnumerateFiles(fixture, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_cli.BridgePath, Path.GetRelativePath(fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        string serial = NewName(), parallel = NewName();
        string ConfigOf(string db) => _cli.WriteConfig($"""
            destination:
              connection_uri: '{server.PasswordUri(db)}'
              allow_privileged_role: true
            bridge:
              local:
                path: {_cli.BridgePath}
            """, $"v1-{db}.yaml");

        var one = await _cli.RunAsync("restore", "-c", ConfigOf(serial), "--name", "v1-zstd");
        var two = await _cli.RunAsync("restore", "-c", ConfigOf(parallel), "--name", "v1-zstd", "--jobs", "2");

        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.True(two.ExitCode == 0, two.Stderr);
        Assert.Contains("2 COPY blocks in parallel", two.Stderr, StringComparison.Ordinal);
        await AssertSameDatabaseAsync(serial, parallel);
    }
}
