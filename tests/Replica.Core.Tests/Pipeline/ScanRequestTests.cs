using System.Text.Json;
using Replica.Clients;
using Replica.Core.Tests.Catalog;
using Replica.Core.Tests.Config;
using Replica.Pipeline;
using Replica.Scanning;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// What `replica scan` reports for a catalog already read (CatalogBuilder.Shop: customers.email and first_name,
/// payments.iban, audit.logs.ip, events.ip_address look like personal data by name): which columns the config covers,
/// the header, the YAML to paste and the JSON.
/// </summary>
public sealed class ScanRequestTests
{
    static readonly DatabaseUri s_uri = DatabaseUri.Parse("postgres://reader:hunter2@db.example.com:5432/shop");

    static ScanResult Assess(string rules, Dictionary<(string Schema, string Table, string Column), ValueSample>? samples = null, string[]? notes = null) =>
        ScanRequest.Assess(s_uri, CatalogBuilder.Shop(), samples, notes ?? [], ConfigTestHelpers.Parse("secret: ${REPLICA_SECRET}\n" + rules));

    [Fact]
    public void Assess_ColumnWithARule_IsCoveredCountedInTheHeaderAndLeftOutOfTheYaml()
    {
        var result = Assess("""
            transformers:
              - table: customers
                columns: { email: email }
            """);

        Assert.Equal(
            [("public.customers.email", true), ("public.customers.first_name", false), ("public.payments.iban", false), ("audit.logs.ip", false),
             ("public.events.ip_address", false)],
            result.Findings.Select(f => (f.QualifiedName, f.Covered)));
        Assert.Equal(1, result.CoveredCount);
        Assert.Equal(4, result.Uncovered.Count);
        Assert.Equal(
            "replica scan of database shop on db.example.com:5432: 4 column(s) that look like personal data (1 more already have rules in replica.yaml), by name only."
            + "\nReview every line, then paste under 'transformers:' in replica.yaml (merge entries for tables already listed).",
            result.Header);
        var yaml = result.ToYaml();
        Assert.StartsWith("# replica scan of database shop on db.example.com:5432: 4 column(s)", yaml);
        Assert.Contains("first_name: first-name", yaml);
        Assert.DoesNotContain("email:", yaml);
    }

    [Fact]
    public void Assess_NothingCovered_HeaderNamesNoConfig()
    {
        var result = Assess("");

        Assert.Equal(0, result.CoveredCount);
        Assert.StartsWith("replica scan of database shop on db.example.com:5432: 5 column(s) that look like personal data, by name only.\n", result.Header);
    }

    [Fact]
    public void Assess_WithSamples_FindsAColumnByItsValues_AndTheHeaderNoLongerSaysByNameOnly()
    {
        var notes = new ValueSample();
        foreach (var value in new[] { "ann@example.com", "bob@example.org", "cy@example.net" })
        {
            notes.Add(value);
        }

        var result = Assess("", new() { [("public", "customers", "notes")] = notes }, ["values of audit.logs were not sampled: permission denied"]);

        var found = Assert.Single(result.Findings, f => f.Column == "notes");
        Assert.Equal(PersonalDataKind.Email, found.Kind);
        Assert.Equal("values: 100% match email (3 sampled)", found.Reason);
        Assert.True(result.Sampled);
        Assert.EndsWith(": 6 column(s) that look like personal data.\nReview every line, then paste under 'transformers:' in replica.yaml (merge entries for tables already listed).",
            result.Header);
        Assert.Equal(["values of audit.logs were not sampled: permission denied"], result.Notes);
    }

    [Fact]
    public void ToJson_ListsEveryFindingWithCovered_TheNotes_AndTheDatabaseWithoutItsPassword()
    {
        var result = Assess("""
            transformers:
              - table: payments
                data: skip
            """, notes: ["a note"]);

        var json = result.ToJson();

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("postgres://reader@db.example.com:5432/shop", root.GetProperty("database").GetString());
        Assert.DoesNotContain("hunter2", json);
        var findings = root.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(5, findings.Count);
        var iban = Assert.Single(findings, f => f.GetProperty("column").GetString() == "iban");
        Assert.True(iban.GetProperty("covered").GetBoolean());
        Assert.Equal("iban", iban.GetProperty("kind").GetString());
        Assert.False(findings[0].GetProperty("covered").GetBoolean());
        Assert.Equal(["a note"], root.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
    }
}
