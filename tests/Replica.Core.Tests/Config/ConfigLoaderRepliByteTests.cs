using Replica.Config;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Config;

public class ConfigLoaderRepliByteTests
{
    const string RepliByteFile = """
        source:
          connection_uri: $DATABASE_URL # you can use $DATABASE_URL
          transformers:
            - database: public
              table: customers
              columns:
                - name: first_name
                  transformer_name: first-name
                - name: email
                  transformer_name: email
                - name: card
                  transformer_name: redacted
                  transformer_options:
                    character: '#'
                    width: 4
            - database: sales
              table: '"Orders"'
              columns:
                - name: '"fullName"'
                  transformer_name: random
          skip:
            - database: public
              table: audit_log
          only_tables:
            - database: public
              table: customers
            - database: sales
              table: '"Orders"'
            - database: public
              table: audit_log
        datastore:
          local_disk:
            dir: /data/replibyte
        destination:
          connection_uri: postgres://root:root@localhost:5432/dev
          wipe_database: false
        """;

    const string EquivalentReplicaFile = """
        source: { connection_uri: "${DATABASE_URL}" }
        bridge: { local: { path: /data/replibyte } }
        destination: { connection_uri: "postgres://root:root@localhost:5432/dev" }
        transformers:
          - table: public.audit_log
            data: skip
          - table: public.customers
            columns:
              first_name: first-name
              email: email
              card: { transformer: redact, options: { character: '#', width: 4 } }
          - table: sales."Orders"
            columns:
              '"fullName"': random
        only_tables: [public.customers, 'sales."Orders"', public.audit_log]
        """;

    static readonly Func<string, string?> s_env = Env(("REPLICA_SECRET", Secret), ("DATABASE_URL", "postgres://prod:pw@db/shop"));

    [Fact]
    public void Parse_RepliByteFile_MapsToTheSameRulesAsTheEquivalentReplicaFile()
    {
        var rb = ConfigLoader.Parse(RepliByteFile, "conf.yaml", Known, s_env);
        var replica = ConfigLoader.Parse(EquivalentReplicaFile, "replica.yaml", Known, s_env);

        Assert.Equal(ConfigFormat.RepliByte, rb.Format);
        Assert.Equal(ConfigFormat.Replica, replica.Format);
        Assert.Equal(Describe(replica.Tables), Describe(rb.Tables));
        Assert.Equal(replica.OnlyTables, rb.OnlyTables);
        Assert.Equal(replica.Source.ConnectionUri, rb.Source.ConnectionUri);
        Assert.Equal("postgres://prod:pw@db/shop", rb.Source.ConnectionUri);
        Assert.Equal(replica.Bridge.LocalPath, rb.Bridge.LocalPath);
        Assert.Equal(replica.Destination.ConnectionUri, rb.Destination.ConnectionUri);
        Assert.False(rb.Destination.WipeDatabase);
        Assert.False(rb.Destination.AllowPrivilegedRole);
        Assert.Equal(Secret, rb.Secret);
    }

    [Fact]
    public void Parse_RepliByteFile_RulesCarryTheirPositions()
    {
        var rb = ConfigLoader.Parse(RepliByteFile, "conf.yaml", Known, s_env);

        Assert.Equal("conf.yaml:22:7", rb.Tables[0].Source); // the skip entry
        Assert.Equal("conf.yaml:4:7", rb.Tables[1].Source);
        Assert.Equal("conf.yaml:7:11", rb.Tables[1].Columns[0].Transformer.Source);
    }

    [Fact]
    public void Parse_EncryptionKey_BecomesAPassphrase()
    {
        var config = ConfigLoader.Parse(
            "encryption_key: $MY_PRIVATE_ENC_KEY\n" + RepliByteFile, "conf.yaml", Known, Env(("MY_PRIVATE_ENC_KEY", "k3y-v4lue"), ("REPLICA_SECRET", Secret), ("DATABASE_URL", "postgres://prod:pw@db/shop")));

        Assert.Equal("k3y-v4lue", config.Bridge.Encryption!.Passphrase);
        Assert.Equal("zstd", config.Bridge.Compression.Algorithm);
    }

    [Fact]
    public void Parse_AwsDatastore_BecomesTheS3Bridge()
    {
        var config = ConfigLoader.Parse("""
            source:
              compression: false
            datastore:
              aws:
                bucket: $BUCKET_NAME
                region: eu-west-3
                credentials:
                  access_key_id: AKIA
                  secret_access_key: $SECRET_KEY
                endpoint:
                  custom: http://127.0.0.1:9000
            """, "conf.yaml", Known, Env(("BUCKET_NAME", "dumps"), ("SECRET_KEY", "s3cr3t"), ("REPLICA_SECRET", Secret)));

        var s3 = config.Bridge.S3!;
        Assert.Equal(("dumps", "eu-west-3", "AKIA", "s3cr3t", "http://127.0.0.1:9000", true), (s3.Bucket, s3.Region, s3.AccessKeyId, s3.SecretAccessKey, s3.Endpoint, s3.ForcePathStyle));
        Assert.True(config.Bridge.Compression.IsNone);
    }

    [Fact]
    public void Parse_DatabaseSubset_MapsToARootSampledByPercentWithPassthroughTables()
    {
        var config = ConfigLoader.Parse("""
            source:
              connection_uri: postgres://u@h/db
              database_subset:
                database: public
                table: orders
                strategy_name: random
                strategy_options:
                  percent: 50
                passthrough_tables:
                  - us_states
            datastore:
              local_disk: { dir: ./d }
            """, "conf.yaml", Known, s_env);

        var subset = config.Subset!;
        var root = Assert.Single(subset.Roots);
        Assert.Equal(("public.orders", 50.0, (long?)null, (string?)null), (root.Table.ToString(), root.Percent, root.Limit, root.Where));
        Assert.Equal(["public.us_states"], subset.Passthrough.Select(p => p.ToString()));
        // RepliByte follows parents only.
        Assert.False(subset.FollowAllChildren);
        Assert.Empty(subset.FollowChildren);
        Assert.Equal("conf.yaml:4:5", subset.Source);
    }

    [Fact]
    public void Parse_DatabaseSubsetWithAnotherStrategy_IsRefusedAtItsPosition()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            source:
              connection_uri: postgres://u@h/db
              database_subset:
                database: public
                table: orders
                strategy_name: newest
                strategy_options: { percent: 50 }
            """, "conf.yaml", Known, s_env));

        Assert.Equal("source.database_subset.strategy_name", e.Key);
        Assert.Equal(6, e.LineNumber);
        Assert.Contains("expected random", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gcp", "bucket: b", "Google Cloud Storage")]
    public void Parse_CloudDatastore_IsRefusedAtItsPosition(string kind, string body, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(
            $"datastore:\n  {kind}:\n    {body}\n", "conf.yaml", Known, s_env));

        Assert.Equal($"datastore.{kind}", e.Key);
        Assert.Equal(3, e.LineNumber);
        Assert.Contains(expected, e.Message);
        Assert.Contains("local_disk", e.Message);
    }

    [Fact]
    public void Parse_CustomWasm_SuggestsTheCustomTransformer()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            source:
              transformers:
                - database: public
                  table: users
                  columns:
                    - name: email
                      transformer_name: custom-wasm
                      transformer_options:
                        path: ./t.wasm
            datastore: { local_disk: { dir: ./d } }
            """, "conf.yaml", Known, s_env));

        Assert.Equal("source.transformers[0].columns[0].transformer_name", e.Key);
        Assert.Equal(7, e.LineNumber);
        Assert.Contains("custom-wasm", e.Message);
        Assert.Contains("'custom' transformer", e.Message);
    }

    [Fact]
    public void Parse_UnknownRepliByteTransformer_ListsKnownNames()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            source:
              transformers:
                - database: public
                  table: users
                  columns:
                    - name: phone
                      transformer_name: mobile-number
            """, "conf.yaml", Known, s_env));

        Assert.Equal("source.transformers[0].columns[0].transformer_name", e.Key);
        Assert.Contains("unknown transformer 'mobile-number'", e.Message);
        Assert.Contains("phone-number", e.Message);
    }

    [Fact]
    public void Parse_ReplicaKeyInRepliByteFile_ExplainsWhyItIsReadAsRepliByte()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            datastore: { local_disk: { dir: ./d } }
            transformers: []
            """, "conf.yaml", Known, s_env));

        Assert.Equal("transformers", e.Key);
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("read as a RepliByte conf.yaml because it has a top-level 'datastore'", e.Message);
    }

    [Fact]
    public void Parse_TypoInRepliByteColumn_SuggestsTheKey()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            source:
              transformers:
                - database: public
                  table: users
                  columns:
                    - name: phone
                      transfomer_name: phone-number
            """, "conf.yaml", Known, s_env));

        Assert.Equal("source.transformers[0].columns[0].transfomer_name", e.Key);
        Assert.Contains("did you mean 'transformer_name'?", e.Message);
    }

    [Fact]
    public void Parse_SameColumnInTwoEntries_IsAnError()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            source:
              transformers:
                - database: public
                  table: users
                  columns:
                    - name: email
                      transformer_name: email
                - database: public
                  table: users
                  columns:
                    - name: email
                      transformer_name: random
            """, "conf.yaml", Known, s_env));

        Assert.Equal("source.transformers[1].columns[0]", e.Key);
        Assert.Contains("already configured at conf.yaml:6:11", e.Message);
    }

    [Fact]
    public void Parse_MissingDatabaseInEntry_SaysWhatIsMissing()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            source:
              skip:
                - table: logs
            """, "conf.yaml", Known, s_env));

        Assert.Equal("source.skip[0].database", e.Key);
        Assert.Equal(3, e.LineNumber);
    }

    [Fact]
    public void Parse_RepliByteWithoutSecret_SaysToSetReplicaSecret()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(
            RepliByteFile, "conf.yaml", Known, Env(("DATABASE_URL", "postgres://u@h/db"))));

        Assert.Equal("secret", e.Key);
        Assert.Contains("RepliByte files have no secret", e.Message);
        Assert.Contains("REPLICA_SECRET", e.Message);
    }

    [Fact]
    public void Parse_RepliByteWithSecretExtension_UsesIt()
    {
        var config = ConfigLoader.Parse("secret: ${MY_KEY}\n" + RepliByteFile, "conf.yaml", Known,
            Env(("MY_KEY", "another-secret-0123456789"), ("DATABASE_URL", "postgres://u@h/db")));

        Assert.Equal("another-secret-0123456789", config.Secret);
    }

    [Fact]
    public void Parse_UnsupportedSourceScheme_IsRefusedWithoutShowingPassword()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(
            "source:\n  connection_uri: $DATABASE_URL\n  transformers: []\n", "conf.yaml", Known,
            Env(("DATABASE_URL", "mongodb://root:pw@h/db"))));

        Assert.Equal("source.connection_uri", e.Key);
        Assert.Contains("postgres://", e.Message);
        Assert.DoesNotContain("pw@h", e.Message);
    }

    [Fact]
    public void Parse_CompressionFlag_IsAccepted()
    {
        var config = ConfigLoader.Parse("source:\n  compression: false\n  transformers: []\n", "conf.yaml", Known, Env());

        Assert.Equal(ConfigFormat.RepliByte, config.Format);
        Assert.Empty(config.Tables);
    }
}
