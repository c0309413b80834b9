using System.Text.Json;
using Replica.Catalog;
using Replica.Scanning;
using Replica.Clients;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>The catalog reader, the scan and `replica schema` against a real PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresCatalogTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    async Task<(string Db, DatabaseUri Uri)> SourceAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.PsqlAsync(db, CatalogFixture.Sql());
        return (db, DatabaseUri.Parse(server.ConnectionUri(db)));
    }

    [Fact]
    public async Task ReadAsync_FixtureDatabase_HasTablesKeysAndColumns()
    {
        var (db, uri) = await SourceAsync();

        var catalog = await PostgresCatalog.ReadAsync(uri, CancellationToken.None);

        Assert.Equal(db, catalog.Database);
        Assert.Contains("public", catalog.Schemas);
        Assert.Equal(
            ["public.\"Mixed Case\"", "public.customers", "public.events", "public.events_2024", "public.events_2025", "public.order_lines", "public.products", "public.shipments"],
            catalog.Tables.Select(t => t.QualifiedName));

        var customers = catalog.Find("public", "customers")!;
        Assert.Equal(30, customers.EstimatedRows);
        Assert.True(customers.TotalBytes >= customers.TableBytes && customers.TableBytes > 0);
        Assert.Equal(["id"], customers.PrimaryKey!.Columns);
        Assert.Equal(["email"], Assert.Single(customers.UniqueKeys).Columns);
        var email = customers.Column("email")!;
        Assert.Equal(("character varying(200)", false, 2), (email.Type, email.Nullable, email.Number));
        Assert.Equal(("inet", true), (customers.Column("last_ip")!.Type, customers.Column("last_ip")!.Nullable));
        var self = Assert.Single(customers.ForeignKeys);
        Assert.Equal(["referrer_id"], self.Columns);
        Assert.Equal(["id"], self.ReferencedColumns);
        Assert.Equal(("customers", ReferentialAction.SetNull), (self.References.Name, self.OnDelete));

        var lines = catalog.Find("public", "order_lines")!;
        Assert.Equal(["order_id", "line_no"], lines.PrimaryKey!.Columns);
        Assert.Equal(["sku", "order_id"], Assert.Single(lines.UniqueKeys).Columns);

        var shipments = catalog.Find("public", "shipments")!;
        var composite = Assert.Single(shipments.ForeignKeys);
        Assert.Equal(("shipments_line_fk", ReferentialAction.Cascade), (composite.Name, composite.OnDelete));
        Assert.Equal(["order_id", "line_no"], composite.Columns);
        Assert.Equal(["order_id", "line_no"], composite.ReferencedColumns);
        Assert.Equal(new TableReference("public", "order_lines"), composite.References);
        var index = Assert.Single(shipments.UniqueKeys);
        Assert.Equal(("shipments_tracking_code_idx", UniqueKeyKind.UniqueIndex, false), (index.Name, index.Kind, index.Partial));
        Assert.Equal(["tracking_code"], index.Columns);

        var events = catalog.Find("public", "events")!;
        Assert.Equal(TableKind.Partitioned, events.Kind);
        Assert.Null(events.PartitionOf);
        Assert.Equal(new TableReference("public", "events"), catalog.Find("public", "events_2024")!.PartitionOf);
        Assert.Equal(["events_2024", "events_2025"], catalog.PartitionsOf(events).Select(p => p.Name));
        Assert.Equal(30, events.EstimatedRows); // the partitions' rows, summed

        var mixed = catalog.Find("public", "Mixed Case")!;
        Assert.Equal(["Id", "EmailAddress", "Label"], mixed.Columns.Select(c => c.Name));

        Assert.Contains(("public", "customers", "email"), catalog.UniqueColumns());
        Assert.Contains(("public", "shipments", "tracking_code"), catalog.UniqueColumns());
        Assert.DoesNotContain(catalog.UniqueColumns(), c => c.Table == "order_lines");
    }

    [Fact]
    public async Task SchemaCommand_Json_DescribesTheDatabase()
    {
        var (db, _) = await SourceAsync();

        var result = await _cli.RunAsync("schema", "--source", server.ConnectionUri(db), "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var root = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(db, root.GetProperty("database").GetString());
        var tables = root.GetProperty("tables").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        var shipments = tables["shipments"];
        Assert.Equal("public", shipments.GetProperty("schema").GetString());
        Assert.Equal(30, shipments.GetProperty("estimated_rows").GetInt64());
        var fk = shipments.GetProperty("foreign_keys")[0];
        Assert.Equal("cascade", fk.GetProperty("on_delete").GetString());
        Assert.Equal("order_lines", fk.GetProperty("references").GetProperty("name").GetString());
        Assert.Equal(["order_id", "line_no"], fk.GetProperty("referenced_columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("unique_index", shipments.GetProperty("unique_keys")[0].GetProperty("kind").GetString());
        Assert.Equal("partitioned", tables["events"].GetProperty("kind").GetString());
        Assert.Equal("events", tables["events_2025"].GetProperty("partition_of").GetProperty("name").GetString());
        var column = tables["customers"].GetProperty("columns")[1];
        Assert.Equal(("email", "character varying(200)", false, 2),
            (column.GetProperty("name").GetString(), column.GetProperty("type").GetString(), column.GetProperty("nullable").GetBoolean(), column.GetProperty("number").GetInt32()));
        Assert.True(tables.ContainsKey("Mixed Case"));

        var text = await _cli.RunAsync("schema", "--source", server.ConnectionUri(db));
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("public.shipments  ~30 rows", text.Stdout);
        Assert.Contains("foreign key shipments_line_fk (order_id, line_no) → public.order_lines (order_id, line_no) on delete cascade", text.Stdout);
        Assert.Contains("public.events_2024 (partition of public.events)", text.Stdout);
        Assert.Contains("public.\"Mixed Case\"", text.Stdout);
    }

    [Fact]
    public async Task SchemaCommand_UriWithoutHostAndUser_TakesThemFromThePgEnvironment()
    {
        var (db, _) = await SourceAsync();
        var environment = new Dictionary<string, string?>(server.ClientEnvironment) { ["PGDATABASE"] = db };

        var result = await ProcessRunner.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "replica.dll"), "schema", "--source", "postgres://", "--json"],
            environment, throwOnError: false, workingDirectory: _cli.WorkingDirectory);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(db, JsonDocument.Parse(result.Stdout).RootElement.GetProperty("database").GetString());
    }

    [Fact]
    public async Task Scan_FixtureDatabase_FindsPersonalColumnsByNameAndValues()
    {
        var (_, uri) = await SourceAsync();
        var catalog = await PostgresCatalog.ReadAsync(uri, CancellationToken.None);
        var notes = new List<string>();

        var samples = await PersonalDataScanner.SampleAsync(uri, catalog, notes, CancellationToken.None);
        var findings = PersonalDataScanner.Scan(catalog, samples).ToDictionary(f => $"{f.Table}.{f.Column}");

        Assert.Empty(notes);
        Assert.Equal(
            ["Mixed Case.EmailAddress", "customers.birth_date", "customers.contact", "customers.email", "customers.first_name", "customers.last_ip",
             "customers.last_name", "customers.mobile", "customers.phone", "events.ip_address"],
            findings.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("email", true), (findings["customers.email"].Transformer?.Name, findings["customers.email"].Unique));
        Assert.Contains("values: 100% match email (30 sampled)", findings["customers.email"].Reason);
        // Named neutrally, found by its values.
        Assert.Equal((PersonalDataKind.Email, "email"), (findings["customers.contact"].Kind, findings["customers.contact"].Transformer?.Name));
        Assert.StartsWith("values: 100% match email", findings["customers.contact"].Reason);
        Assert.Contains("values: 100% match phone number", findings["customers.phone"].Reason);
        // Named like a phone, holding none: still proposed (by name), and the reason says no values matched.
        Assert.Equal("name (phone number)", findings["customers.mobile"].Reason);
        Assert.Equal("ip-address", findings["customers.last_ip"].Transformer?.Name);
        Assert.Equal("date-shift", findings["customers.birth_date"].Transformer?.Name);
        Assert.Equal("first-name", findings["customers.first_name"].Transformer?.Name);

        // By name only, the neutrally named column goes unnoticed.
        Assert.DoesNotContain(PersonalDataScanner.Scan(catalog), f => f.Column == "contact");
    }
}
