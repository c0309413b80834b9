using Replica.Catalog;
using Replica.Core.Tests.Catalog;
using Replica.Core.Tests.Config;
using Replica.Scanning;

namespace Replica.Core.Tests.Scanning;

public sealed class ScanYamlTests
{
    [Fact]
    public void Write_Findings_LoadWithTheConfigLoaderAndCoverEveryColumn()
    {
        var catalog = new DatabaseCatalog("shop", "15.0", ["Sales", "public"],
        [
            CatalogBuilder.Table("public", "customers", "email text, first_name text, phone text, \"on\" text, birth_date date", unique: "email"),
            CatalogBuilder.Table("Sales", "Mixed Case", "EmailAddress text, lat double precision"),
        ]);
        var findings = PersonalDataScanner.Scan(catalog);
        var yaml = ScanYaml.Write(findings, "header line one\nline two");

        var config = ConfigTestHelpers.Parse("secret: ${REPLICA_SECRET}\n" + yaml);

        Assert.StartsWith("# header line one\n# line two\ntransformers:\n", yaml);
        Assert.Contains("email: { transformer: email, unique: true }", yaml);
        Assert.Contains("table: '\"Sales\".\"Mixed Case\"'", yaml);
        Assert.Contains("lat: { transformer: number-noise, options: { percent: '1' } }", yaml);
        var customers = Assert.Single(config.Tables, t => t.Table.Matches("public", "customers"));
        Assert.True(customers.Columns.Single(c => c.Column.Matches("email")).Transformer.Unique);
        Assert.Equal("date-shift", customers.Columns.Single(c => c.Column.Matches("birth_date")).Transformer.Name);
        var mixed = Assert.Single(config.Tables, t => t.Table.Matches("Sales", "Mixed Case"));
        Assert.Equal("email", mixed.Columns.Single(c => c.Column.Matches("EmailAddress")).Transformer.Name);
        Assert.Empty(StrictPolicy.Uncovered(catalog, config));
    }

    [Fact]
    public void Write_NoFindings_IsAnEmptyList()
    {
        var config = ConfigTestHelpers.Parse("secret: ${REPLICA_SECRET}\n" + ScanYaml.Write([], "nothing"));
        Assert.Empty(config.Tables);
    }
}
