using Replica.Config;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Config;

/// <summary>The config files shipped in the repository load, and mean what their comments say.</summary>
public class ExampleConfigTests
{
    static string PathOf(string relative) => Path.Combine(RepoRoot(), relative);

    [Fact]
    public void Load_ReplicaExampleYaml_LoadsWithSecretFromEnvironment()
    {
        var config = ConfigLoader.Load(PathOf("replica.example.yaml"), Known, Env(("REPLICA_SECRET", Secret)));

        Assert.Equal(Secret, config.Secret);
        Assert.Equal("postgres://replica@localhost:5432/shop", config.Source.ConnectionUri);
        Assert.Equal(4L << 20, config.Bridge.ChunkSize);
        Assert.Contains(config.Tables, t => t.Action == TableAction.Drop);
        Assert.Contains(config.Tables, t => t.Action == TableAction.SkipData);
        Assert.NotEmpty(config.OnlyTables);
        Assert.Equal(UnmatchedRules.Error, config.UnmatchedRules);
        Assert.Contains(config.Tables, t => t.Optional);
    }

    /// <summary>The commented '<paramref name="key"/>:' block of replica.example.yaml, uncommented.</summary>
    static string UncommentedExample(string key)
    {
        var lines = File.ReadAllLines(PathOf("replica.example.yaml"));
        var start = Array.IndexOf(lines, $"# {key}:");
        Assert.True(start > 0, $"replica.example.yaml documents {key}:");
        return string.Join('\n', lines[start..].TakeWhile(l => l == $"# {key}:" || l.StartsWith("#   ", StringComparison.Ordinal)).Select(l => l[2..]));
    }

    [Fact]
    public void Load_ReplicaExampleYamlSubsetBlockUncommented_ReadsWhatItsCommentsSay()
    {
        // The commented 'subset:' block at the end, uncommented: the docs and the binder cannot drift apart.
        var yaml = "secret: s3cr3t-s3cr3t-s3cr3t\n" + UncommentedExample("subset");

        var subset = ConfigLoader.Parse(yaml, "replica.yaml", Known, Env()).Subset!;

        Assert.Equal(["public.customers", "public.products"], subset.Roots.Select(r => r.Table.ToString()));
        Assert.Equal(("country = 'DE'", 10.0, 5000L), (subset.Roots[0].Where, subset.Roots[0].Percent!.Value, subset.Roots[0].Limit!.Value));
        Assert.Equal(["public.orders", "public.order_items", "public.payments"], subset.FollowChildren.Select(t => t.ToString()));
        Assert.Equal(["public.countries"], subset.Passthrough.Select(t => t.ToString()));
        var link = Assert.Single(subset.VirtualForeignKeys);
        Assert.Equal(("public.comments", "commentable_id", "public.posts", "id", "commentable_type = 'Post'"),
            (link.Table.ToString(), link.Columns.Single(), link.References.ToString(), link.ReferencedColumns.Single(), link.Where));
        Assert.Equal((10_000_000L, false, 64L << 20), (subset.MaxRowsPerTable!.Value, subset.UnreachedFull, subset.MemoryBytes));
    }

    [Fact]
    public void Load_ReplicaExampleYamlSanitizeBlockUncommented_ReadsWhatItsCommentsSay()
    {
        // The commented 'sanitize:' block, uncommented: the docs and the binder cannot drift apart.
        var yaml = "secret: s3cr3t-s3cr3t-s3cr3t\nsource:\n  connection_uri: postgres://replica@localhost:5432/shop\n" + UncommentedExample("sanitize");

        var sanitize = ConfigLoader.Parse(yaml, "replica.yaml", Known, Env()).Sanitize!;

        Assert.Equal("postgres://replica@localhost:5432/replica_scratch", sanitize.ScratchUri);
        Assert.Equal(["UPDATE public.users SET password_hash = 'x' WHERE role <> 'admin'", "DELETE FROM public.customers WHERE country = 'XX'"],
            sanitize.Statements.Select(s => s.Sql));
    }

    [Fact]
    public void Load_ReplicaExampleYaml_WithoutSecret_SaysWhichVariableIsMissing()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(PathOf("replica.example.yaml"), Known, Env()));

        Assert.Equal("secret", e.Key);
        Assert.Contains("REPLICA_SECRET is not set", e.Message);
    }

    [Fact]
    public void Load_QuickstartYaml_RunsOutOfTheBoxWithItsDefaultSecret()
    {
        var config = ConfigLoader.Load(PathOf("examples/replica.yaml"), Known, Env());

        Assert.Equal("replica-example-secret", config.Secret);
        Assert.Equal(PathOf("examples/replica-bridge"), config.Bridge.LocalPath);
    }

    [Fact]
    public void Load_QuickstartYaml_PrefersReplicaSecretFromEnvironment()
    {
        var config = ConfigLoader.Load(PathOf("examples/replica.yaml"), Known, Env(("REPLICA_SECRET", Secret)));

        Assert.Equal(Secret, config.Secret);
    }

    [Fact]
    public void Load_QuickstartYaml_MasksEveryPersonalColumnOfTheSampleDatabase()
    {
        var config = ConfigLoader.Load(PathOf("examples/replica.yaml"), Known, Env());

        var masked = config.Tables
            .SelectMany(t => t.Columns.Select(c => $"{t.Table}.{c.Column} {c.Transformer.Name}"))
            .ToArray();
        Assert.Equal(
        [
            "public.customers.first_name first-name",
            "public.customers.last_name last-name",
            "public.customers.email email",
            "public.customers.phone phone-number",
            "public.customers.birth_date date-shift",
            "public.customers.street street-address",
            "public.customers.city city",
            "public.orders.email_at_order email",
            "public.orders.shipping_address street-address",
            "public.payments.card_number credit-card",
            "public.payments.iban hash",
            "public.support_tickets.body redact",
            "public.support_tickets.metadata json",
        ], masked);
        Assert.True(config.Tables[0].Columns.Single(c => c.Column.Name == "email").Transformer.Unique);
        var json = config.Tables.Single(t => t.Table.Table.Name == "support_tickets").Columns.Single(c => c.Column.Name == "metadata").Transformer;
        // Both pieces of personal data in the ticket's contact: the e-mail and the phone number.
        var paths = Assert.IsAssignableFrom<System.Collections.IDictionary>(json.Options["paths"]);
        Assert.Equal("email", paths["$.contact.email"]);
        Assert.Equal("phone-number", paths["$.contact.phone"]);
        var audit = Assert.Single(config.Tables, t => t.Table.Table.Name == "audit_log");
        Assert.Equal(TableAction.SkipData, audit.Action);
    }

    [Fact]
    public void Load_RepliByteExample_LoadsAsRepliByte()
    {
        var config = ConfigLoader.Load(PathOf("examples/replibyte.yaml"), Known, Env(
            ("REPLICA_SECRET", Secret), ("DATABASE_URL", "postgres://u@prod/shop"), ("DESTINATION_DATABASE_URL", "postgres://u@dev/shop")));

        Assert.Equal(ConfigFormat.RepliByte, config.Format);
        Assert.Equal("postgres://u@prod/shop", config.Source.ConnectionUri);
        Assert.Equal("postgres://u@dev/shop", config.Destination.ConnectionUri);
        Assert.Equal(PathOf("examples/replica-bridge"), config.Bridge.LocalPath);
        Assert.Equal(TableAction.SkipData, config.Tables[0].Action);
        Assert.Equal("audit_log", config.Tables[0].Table.Table.Name);
        var iban = config.Tables.SelectMany(t => t.Columns).Single(c => c.Column.Name == "iban").Transformer;
        Assert.Equal("redact", iban.Name);
        Assert.Equal("10", iban.Options["width"]);
    }
}
