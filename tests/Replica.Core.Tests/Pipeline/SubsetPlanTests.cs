using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Subsetting;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// Subset plans over MySQL tables whose names differ only in case (lower_case_table_names=0): the config's exact name
/// picks one, an unclear one is a config error naming both (it crashed with "Sequence contains more than one element").
/// And which rows a plan takes as not kept, as the dump's rules decide them through inheritance and partitions.
/// </summary>
public class SubsetPlanTests
{
    static readonly SubsetTable[] s_tables =
    [
        new("shop.Customers", ["id"], [0]),
        new("shop.customers", ["id"], [0]),
        new("shop.Orders", ["id"], [0]),
        new("shop.ORDERS", ["id"], [0]),
    ];

    static SubsetPlan Plan(string subset) => SubsetPlan.Build(
        ConfigLoader.Parse("secret: s3cr3t-s3cr3t-s3cr3t\nsubset:\n" + subset, "replica.yaml", Known, Env()),
        s_tables, [], s_tables.ToDictionary(t => t, _ => 10L), SqlDialect.MySql);

    [Theory]
    [InlineData("customers", "shop.customers")]
    [InlineData("'\"Customers\"'", "shop.Customers")]
    [InlineData("'\"ORDERS\"'", "shop.ORDERS")]
    public void Build_MySqlTablesDifferingOnlyInCase_TheExactNameIsTheRoot(string table, string root)
    {
        var plan = Plan($"  roots: [{{ table: {table}, percent: 100 }}]\n");
        Assert.Equal(root, Assert.Single(plan.Graph.Roles, r => r.Value == SubsetRole.Root).Key.Name);
    }

    [Fact]
    public void Build_MySqlRootMatchingTablesDifferingOnlyInCaseNoneExactly_IsAConfigErrorNamingThem()
    {
        var e = Assert.Throws<ConfigException>(() => Plan("  roots: [{ table: orders, percent: 100 }]\n"));
        Assert.Contains("matches 2 tables whose names differ only in case (shop.Orders, shop.ORDERS", e.Message, StringComparison.Ordinal);
        Assert.Contains("write the root's exact name in double quotes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MySqlFollowChildrenAndPassthrough_TakeTheExactName()
    {
        var plan = Plan("  roots: [{ table: '\"Customers\"', percent: 100 }]\n  follow_children: [customers]\n  passthrough: ['\"ORDERS\"']\n");
        Assert.Equal(["shop.customers"], plan.Graph.Followed.Select(t => t.Name));
        Assert.Equal(["shop.ORDERS"], plan.Graph.Passthrough.Select(t => t.Name));
    }

    /// <summary>A shop with inheritance (cars INHERITS vehicles) and a partitioned table with a key declared on a partition and one into a partition.</summary>
    static (List<SubsetTable> Tables, List<SubsetLink> Links) Shop() => SubsetSchema.Build(
        [
            new("public.vehicles", ["id"]),
            new("public.cars", ["id"]) { Parents = ["public.vehicles"] },
            new("public.rentals", ["id"]),
            new("public.countries", ["code"]),
            new("public.sales", ["id", "at"]),
            new("public.sales_2024", ["id", "at"]) { Parents = ["public.sales"], Partition = true },
            new("public.sales_2025", ["id", "at"]) { Parents = ["public.sales"], Partition = true },
            new("public.refunds", ["id"]),
        ],
        [
            new("rentals_car_id_fkey", "public.rentals", ["car_id"], "public.cars", ["id"], Nullable: false),
            new("sales_2024_country_fkey", "public.sales_2024", ["country"], "public.countries", ["code"], Nullable: true),
            new("refunds_sale_fkey", "public.refunds", ["sale_id", "sale_at"], "public.sales_2024", ["id", "at"], Nullable: false),
        ]);

    static SubsetPlan ShopPlan(string yaml)
    {
        var (tables, links) = Shop();
        return SubsetPlan.Build(ConfigLoader.Parse("secret: s3cr3t-s3cr3t-s3cr3t\n" + yaml, "replica.yaml", Known, Env()), tables, links, tables.ToDictionary(t => t, _ => 10L));
    }

    [Fact]
    public void SchemaBuild_KeyOnOrIntoAPartition_IsThePartitionedTablesLink()
    {
        var (tables, links) = Shop();

        Assert.DoesNotContain(tables, t => t.Name.StartsWith("public.sales_", StringComparison.Ordinal));
        Assert.Equal(["public.sales_2024", "public.sales_2025"], tables.Single(t => t.Name == "public.sales").Partitions);
        Assert.Equal(["public.vehicles"], tables.Single(t => t.Name == "public.cars").Ancestors);
        Assert.Equal(["public.rentals -> public.cars", "public.sales -> public.countries", "public.refunds -> public.sales"],
            links.Select(l => $"{l.Child.Name} -> {l.Parent.Name}"));
        Assert.Equal(["id", "at", "country"], tables.Single(t => t.Name == "public.sales").KeyColumns);
    }

    [Fact]
    public void Build_SkippedInheritanceParent_ItsChildKeepsNoRows()
    {
        var e = Assert.Throws<ConfigException>(() => ShopPlan("transformers:\n  - table: public.vehicles\n    data: skip\nsubset:\n  roots: [{ table: public.rentals }]\n"));

        Assert.Contains("foreign key rentals_car_id_fkey (public.rentals -> public.cars) is NOT NULL, but no row of public.cars is kept", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SkippedPartitionOfAReferencedTable_IsAPlanErrorNamingIt()
    {
        const string PartitionRule = "transformers:\n  - table: public.sales_2025\n    data: skip\n";

        var e = Assert.Throws<ConfigException>(() => ShopPlan(PartitionRule + "subset:\n  roots: [{ table: public.refunds }]\n"));
        var unreferenced = ShopPlan(PartitionRule + "subset:\n  roots: [{ table: public.sales }]\n");

        Assert.Contains("refunds_sale_fkey (public.refunds -> public.sales) references public.sales, whose partition public.sales_2025 keeps no rows", e.Message, StringComparison.Ordinal);
        Assert.Equal(SubsetRole.Root, unreferenced.Graph.Roles.Single(r => r.Key.Name == "public.sales").Value);
    }

    [Theory]
    [InlineData("transformers:\n  - table: public.vehicles\n    drop: true\n")]
    [InlineData("only_tables: [public.rentals, public.countries, public.sales, public.sales_2024, public.sales_2025, public.refunds]\n")]
    public void Build_DroppedParent_ItsKeysAreNotTheSubsets(string rules)
    {
        var plan = ShopPlan(rules + "subset:\n  roots: [{ table: public.rentals }]\n");

        var rentals = plan.Graph.Tables.Single(t => t.Name == "public.rentals");
        Assert.Empty(plan.Graph.ParentLinks(rentals));
        Assert.Empty(plan.Graph.NulledColumns(rentals));
        Assert.Equal(SubsetRole.Excluded, plan.Graph.Roles.Single(r => r.Key.Name == "public.cars").Value);
    }

    // A PostgreSQL schema for the plan's checks: comments point at posts or photos (a polymorphic virtual key on a NOT
    // NULL or a nullable column), offices.region is unique, references regions and is referenced by staff.
    static readonly SchemaTable[] s_schema =
    [
        new("public.posts", ["id"]),
        new("public.photos", ["id"]),
        new("public.comments", ["id"]) { NotNullColumns = ["id", "commentable_type", "commentable_id"] },
        new("public.notes", ["id"]) { NotNullColumns = ["id"] },
        new("public.regions", ["code"]) { NotNullColumns = ["code"] },
        new("public.offices", ["id"]) { NotNullColumns = ["id"] },
        new("public.staff", ["id"]) { NotNullColumns = ["id", "office_region"] },
        new("public.audit", ["id"]) { NotNullColumns = ["id", "staff_id"] },
    ];

    static readonly SchemaLink[] s_links =
    [
        new("offices_region_fkey", "public.offices", ["region"], "public.regions", ["code"], Nullable: true),
        new("staff_office_region_fkey", "public.staff", ["office_region"], "public.offices", ["region"], Nullable: false),
        new("audit_staff_id_fkey", "public.audit", ["staff_id"], "public.staff", ["id"], Nullable: false),
    ];

    static SubsetPlan PlanPostgres(string rules)
    {
        var config = ConfigLoader.Parse("secret: s3cr3t-s3cr3t-s3cr3t\n" + rules, "replica.yaml", Known, Env());
        var (tables, links) = SubsetSchema.Build(s_schema, [.. s_links, .. SubsetPlan.VirtualLinks(config.Subset!)]);
        return SubsetPlan.Build(config, tables, links, tables.ToDictionary(t => t, _ => 10L));
    }

    const string VirtualKeys = """
          virtual_foreign_keys:
            - table: public.comments
              columns: [commentable_id]
              references: { table: public.posts, columns: [id] }
            - table: public.notes
              columns: [post_id]
              references: { table: public.posts, columns: [id] }
              where: "kind = 'Post'"
        """;

    [Fact]
    public void Build_VirtualKeyOnANotNullColumnIntoASkippedTable_IsAPlanErrorNamingTheVirtualKey()
    {
        // It was taken as nullable whatever the column said: every comment's commentable_id was written as NULL, and the load failed.
        var e = Assert.Throws<ConfigException>(() => PlanPostgres("""
            transformers:
              - table: public.posts
                data: skip
            subset:
              roots: [{ table: public.comments }]

            """ + VirtualKeys));
        Assert.Contains("foreign key virtual public.comments (commentable_id) (public.comments -> public.posts) is NOT NULL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_VirtualKeyWithAWhereIntoASkippedTable_IsAPlanErrorSayingWhy()
    {
        // It was written as NULL in every row, also in those its condition does not hold for (their link is to another table).
        var e = Assert.Throws<ConfigException>(() => PlanPostgres("""
            transformers:
              - table: public.posts
                data: skip
            subset:
              roots: [{ table: public.notes }]
              virtual_foreign_keys:
                - table: public.notes
                  columns: [post_id]
                  references: { table: public.posts, columns: [id] }
                  where: "kind = 'Post'"
            """));
        Assert.Contains("virtual foreign key virtual public.notes (post_id) applies where kind = 'Post', but no row of public.posts is kept", e.Message, StringComparison.Ordinal);
        Assert.Contains("a dump writes a column as NULL in every row or in none", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_VirtualKeyOnANullableColumnIntoASkippedTable_IsWrittenAsNull()
    {
        var plan = PlanPostgres("""
            transformers:
              - table: public.posts
                data: skip
            subset:
              roots: [{ table: public.notes }]
              virtual_foreign_keys:
                - table: public.notes
                  columns: [post_id]
                  references: { table: public.posts, columns: [id] }
            """);
        Assert.Equal(["post_id"], plan.Graph.NulledColumns(plan.Graph.Tables.Single(t => t.Name == "public.notes")));
    }

    [Fact]
    public void Build_NulledColumnThatAKeptTableReferences_IsAPlanErrorNamingBothKeys()
    {
        // offices.region was written as NULL while staff kept 'eu': staff_office_region_fkey failed on load.
        var e = Assert.Throws<ConfigException>(() => PlanPostgres("""
            transformers:
              - table: public.regions
                data: skip
            subset:
              roots: [{ table: public.staff }]
            """));
        Assert.Contains("public.offices (region) is written as NULL (foreign key offices_region_fkey into public.regions, whose rows are not kept), "
            + "but foreign key staff_office_region_fkey (public.staff -> public.offices) references it", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NulledColumnReferencedOnlyByAnUnreachedTable_IsWrittenAsNull()
    {
        var plan = PlanPostgres("""
            transformers:
              - table: public.regions
                data: skip
            subset:
              roots: [{ table: public.offices }]
            """);
        Assert.Equal(SubsetRole.Unreached, plan.Graph.Roles[plan.Graph.Tables.Single(t => t.Name == "public.staff")]);
        Assert.Equal(["region"], plan.Graph.NulledColumns(plan.Graph.Tables.Single(t => t.Name == "public.offices")));
    }

    [Fact]
    public void Build_NotNullForeignKeyOfAnUnreachedTableIntoASkippedTable_IsNoPlanError()
    {
        // audit keeps no rows (no root reaches it): it has no staff_id to write as NULL.
        var plan = PlanPostgres("""
            transformers:
              - table: public.staff
                data: skip
            subset:
              roots: [{ table: public.posts }]
            """);
        Assert.Equal(SubsetRole.Unreached, plan.Graph.Roles[plan.Graph.Tables.Single(t => t.Name == "public.audit")]);
    }

    [Theory]
    [InlineData("follow_children: [public.offces]", "subset: follow_children names public.offces, which matches no table of the source (did you mean 'public.offices'?)")]
    [InlineData("passthrough: [public.regoins]", "subset: passthrough names public.regoins, which matches no table of the source (did you mean 'public.regions'?)")]
    [InlineData("passthrough: [nosuch.*]", "subset: passthrough names nosuch.*, which matches no table of the source")]
    public void Build_FollowChildrenOrPassthroughNamingNoTable_IsAPlanErrorWithASuggestion(string list, string message)
    {
        // Such a name was silently ignored: nothing followed, nothing copied whole.
        var e = Assert.Throws<ConfigException>(() => PlanPostgres($"subset:\n  roots: [{{ table: public.staff }}]\n  {list}\n"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RootOnASkippedTable_IsAPlanError()
    {
        // It was silently ignored: the subset started from nothing.
        var e = Assert.Throws<ConfigException>(() => PlanPostgres("""
            transformers:
              - table: public.posts
                data: skip
            subset:
              roots: [{ table: public.posts }]
            """));
        Assert.Contains("subset: root public.posts keeps no rows (data: skip, drop, only_tables or source.exclude_table_data)", e.Message, StringComparison.Ordinal);
    }
}
