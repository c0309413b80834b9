using Replica.Catalog;

namespace Replica.Core.Tests.Catalog;

/// <summary>The text `replica schema` prints for a catalog.</summary>
public sealed class DatabaseCatalogTextTests
{
    [Fact]
    public void ToText_TablesKeysAndColumns_OneAlignedBlockPerTable()
    {
        var orders = new CatalogTable("public", "Orders", TableKind.Partitioned, null, 1_234_567, 3L << 20, 2048,
            [new CatalogColumn("id", "bigint", false, 1), new CatalogColumn("Customer Id", "integer", true, 2)],
            new UniqueKey("orders_pkey", UniqueKeyKind.PrimaryKey, ["id"]),
            [
                new UniqueKey("orders_customer_key", UniqueKeyKind.UniqueIndex, ["Customer Id"], Partial: true),
                new UniqueKey("orders_lower_key", UniqueKeyKind.UniqueIndex, [], Expression: "(lower(note))"),
            ],
            [new ForeignKey("orders_customer_fkey", ["Customer Id"], new TableReference("public", "customers"), ["id"], ReferentialAction.Cascade, ReferentialAction.NoAction)]);
        var partition = CatalogBuilder.Table("public", "orders_2024", "id bigint", partitionOf: new TableReference("public", "Orders")) with { EstimatedRows = null };
        var catalog = new DatabaseCatalog("shop", "17.2", ["public"], [orders, partition]);

        Assert.Equal("""
            database shop (PostgreSQL 17.2): 1 schema(s), 2 table(s)

            public."Orders" (partitioned)  ~1,234,567 rows, 3.0 MiB (table 2.0 KiB)
              primary key (id)
              unique index orders_customer_key ("Customer Id") (partial)
              unique index orders_lower_key (lower(note))
              foreign key orders_customer_fkey ("Customer Id") → public.customers (id) on delete cascade
                id             bigint not null
                "Customer Id"  integer

            public.orders_2024 (partition of public."Orders")  rows unknown (not analyzed), 8.0 KiB (table 8.0 KiB)
                id  bigint

            """.ReplaceLineEndings("\n"), catalog.ToText());
    }
}
