using System.Text;
using Replica.Catalog;
using Replica.Config;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Catalog;

public sealed class CatalogUniqueTests
{
    const string Dump = """
        CREATE TABLE public.customers (
            id integer NOT NULL,
            phone text
        );

        COPY public.customers (id, phone) FROM stdin;
        1	555-0100
        2	555-0101
        \.

        """;

    static RewriteRules RegistryRules(string column, string transformer) => DumpRequest.BuildRules(new ReplicaConfig
    {
        Secret = "test-secret-0123456789abcdef",
        Tables = [new TableRule(TablePattern.Parse("public.customers"), TableAction.Transform,
            [new ColumnRule(NamePattern.Parse(column), TransformerConfig.Of(transformer))])],
    });

    [Fact]
    public void UniqueColumns_SingleColumnKeysOnly()
    {
        var table = new CatalogTable("public", "t", TableKind.Table, null, null, 0, 0,
            [new CatalogColumn("a", "text", false, 1), new CatalogColumn("b", "text", true, 2), new CatalogColumn("c", "text", true, 3), new CatalogColumn("d", "text", true, 4)],
            new UniqueKey("t_pkey", UniqueKeyKind.PrimaryKey, ["a"]),
            [
                new UniqueKey("t_b_c_key", UniqueKeyKind.UniqueConstraint, ["b", "c"]),
                new UniqueKey("t_d_idx", UniqueKeyKind.UniqueIndex, ["d"], Partial: true),
                new UniqueKey("t_lower_b_idx", UniqueKeyKind.UniqueIndex, [], Expression: "CREATE UNIQUE INDEX t_lower_b_idx ON public.t USING btree (lower(b))"),
            ],
            []);
        var catalog = new DatabaseCatalog("db", "15", ["public"], [table]);

        Assert.Equal([("public", "t", "a"), ("public", "t", "d")], catalog.UniqueColumns());
    }

    [Fact]
    public void MarkUnique_CatalogUniqueColumn_TransformerIsCreatedUniqueSafe()
    {
        // Without the catalog the dump's CREATE TABLE says nothing of uniqueness: credit-card is accepted.
        var plain = Text(Rewrite(Encoding.UTF8.GetBytes(Dump), RegistryRules("phone", "credit-card")));
        Assert.DoesNotContain("555-0100", plain);

        // Marked unique, credit-card (whose outputs can collide) is refused, as for 'unique: true' in the config.
        var rules = RegistryRules("phone", "credit-card");
        rules.MarkUnique([("public", "customers", "phone")]);
        var e = Assert.Throws<ConfigException>(() => Rewrite(Encoding.UTF8.GetBytes(Dump), rules));
        Assert.Contains("cannot keep a unique column unique", e.Message);

        // A fake that can stay unique gets its keyed suffix only when the column is marked.
        var unmarked = Text(Rewrite(Encoding.UTF8.GetBytes(Dump), RegistryRules("phone", "city")));
        var marked = RegistryRules("phone", "city");
        marked.MarkUnique([("public", "customers", "phone")]);
        var output = Text(Rewrite(Encoding.UTF8.GetBytes(Dump), marked));
        Assert.NotEqual(unmarked, output);
        var cities = output.Split('\n').Where(l => l.StartsWith("1\t") || l.StartsWith("2\t")).Select(l => l[2..]).ToList();
        Assert.Equal(2, cities.Distinct().Count());
    }
}
