using Replica.Catalog;


namespace Replica.Core.Tests.Catalog;

/// <summary>Hand-built catalogs for tests that need no server.</summary>
internal static class CatalogBuilder
{
    public static CatalogTable Table(string schema, string name, string columns, string? unique = null, TableReference? partitionOf = null, TableKind kind = TableKind.Table)
    {
        var list = new List<CatalogColumn>();
        foreach (var part in columns.Split(',', StringSplitOptions.TrimEntries))
        {
            var space = part.IndexOf(' ');
            list.Add(new CatalogColumn(part[..space], part[(space + 1)..], true, list.Count + 1));
        }
        var keys = unique is null ? new List<UniqueKey>() : [new UniqueKey(name + "_" + unique + "_key", UniqueKeyKind.UniqueConstraint, [unique])];
        return new CatalogTable(schema, name, kind, partitionOf, 10, 8192, 8192, list, null, keys, []);
    }

    /// <summary>
    /// public.customers (email unique, first_name, notes, email_verified), public.payments (iban), audit.logs (ip inet),
    /// public.events partitioned into events_2024 (ip_address).
    /// </summary>
    public static DatabaseCatalog Shop() => new("shop", "15.0", ["audit", "public"],
    [
        Table("public", "customers", "id integer, email text, first_name text, notes text, email_verified boolean", unique: "email"),
        Table("public", "payments", "id integer, iban text"),
        Table("audit", "logs", "id integer, ip inet"),
        Table("public", "events", "id integer, ip_address text", kind: TableKind.Partitioned),
        Table("public", "events_2024", "id integer, ip_address text", partitionOf: new TableReference("public", "events")),
    ]);
}
