using Replica.Catalog;
using Replica.Config;
using Replica.Core.Tests.Catalog;
using Replica.Core.Tests.Config;
using Replica.Scanning;

namespace Replica.Core.Tests.Scanning;

public sealed class StrictPolicyTests
{
    static ReplicaConfig Config(string body) => ConfigTestHelpers.Parse("secret: ${REPLICA_SECRET}\npolicy: strict\n" + body);

    static List<string> Uncovered(string body) =>
        StrictPolicy.Uncovered(CatalogBuilder.Shop(), Config(body)).ConvertAll(f => f.QualifiedName);

    [Fact]
    public void Uncovered_NoRules_ListsEveryPersonalColumnOnce()
    {
        Assert.Equal(
            ["public.customers.email", "public.customers.first_name", "public.payments.iban", "audit.logs.ip", "public.events.ip_address"],
            Uncovered(""));
    }

    [Fact]
    public void Uncovered_ColumnRulesSkipAndDrop_CoverTheirColumns()
    {
        Assert.Equal(["public.events.ip_address"], Uncovered("""
            transformers:
              - table: customers
                columns: { email: email, first_name: transient }
              - table: payments
                data: skip
              - table: audit.logs
                drop: true
            """));
    }

    [Fact]
    public void Uncovered_RuleOnParent_CoversPartitions_AndRulesOnEveryPartition_CoverTheParent()
    {
        Assert.DoesNotContain("public.events.ip_address", Uncovered("""
            transformers:
              - table: events
                columns: { ip_address: hash }
            """));
        Assert.DoesNotContain("public.events.ip_address", Uncovered("""
            transformers:
              - table: events_2024
                columns: { ip_address: hash }
            """));
    }

    [Fact]
    public void Uncovered_SourceFiltersAndOnlyTables_LeaveTablesOut()
    {
        Assert.Equal(["public.customers.email", "public.customers.first_name"], Uncovered("""
            source:
              exclude_table_data: [payments]
              exclude_schemas: [audit]
              exclude_tables: ['events*']
            """));
        Assert.Equal(["public.payments.iban"], Uncovered("""
            source:
              tables: [public.payments]
            """));
        Assert.Equal(["public.customers.email", "public.customers.first_name"], Uncovered("""
            only_tables: [customers]
            """));
    }

    [Fact]
    public void Uncovered_WildcardColumnRule_CoversEveryColumn()
    {
        Assert.DoesNotContain("public.customers.email", Uncovered("""
            transformers:
              - table: '*.customers'
                columns: { '*': transient }
            """));
    }

    [Fact]
    public void Check_Uncovered_ThrowsNamingEveryColumnAndItsTransformer()
    {
        var config = Config("""
            transformers:
              - table: customers
                columns: { first_name: first-name }
            """);
        var e = Assert.Throws<ConfigException>(() => StrictPolicy.Check(CatalogBuilder.Shop(), config));
        Assert.Contains("4 columns look like personal data", e.Message);
        Assert.Contains("public.customers.email (text) → email", e.Message);
        Assert.Contains("public.payments.iban (text) → random", e.Message);
        Assert.Contains("audit.logs.ip (inet) → ip-address", e.Message);
        Assert.Contains("public.events.ip_address (text) → ip-address", e.Message);
        Assert.DoesNotContain("first_name", e.Message);
        Assert.DoesNotContain("notes", e.Message);
        Assert.StartsWith("replica.yaml: 'policy': strict mode", e.Message);
    }

    [Fact]
    public void Check_AllCovered_DoesNotThrow()
    {
        StrictPolicy.Check(CatalogBuilder.Shop(), Config("""
            transformers:
              - table: '*.*'
                columns: { '*': transient }
            """));
    }
}
