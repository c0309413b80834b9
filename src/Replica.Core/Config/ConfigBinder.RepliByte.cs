using YamlDotNet.RepresentationModel;

namespace Replica.Config;

/// <summary>
/// RepliByte's conf.yaml, read as is (https://www.replibyte.com/docs/getting-started/configuration, and the serde
/// structs of replibyte/src/config.rs that define it). What Replica cannot honour yet is refused with a clear error,
/// never ignored: ignoring encryption_key would store data unencrypted, ignoring database_subset would copy everything.
/// </summary>
internal sealed partial class ConfigBinder
{
    static readonly string[] s_rbRootKeys = ["encryption_key", "source", "datastore", "destination", "secret", "locale", "unmatched_rules"];
    static readonly string[] s_rbSourceKeys = ["connection_uri", "compression", "transformers", "skip", "only_tables", "database_subset"];
    static readonly string[] s_rbTableKeys = ["database", "table"];
    static readonly string[] s_rbTransformerKeys = ["database", "table", "columns", "optional"];
    static readonly string[] s_rbColumnKeys = ["name", "transformer_name", "transformer_options"];

    const string RepliByteSecretHelp =
        "RepliByte files have no secret: set the REPLICA_SECRET environment variable to a long random value "
        + "(e.g. export REPLICA_SECRET=\"$(openssl rand -base64 32)\"), or add 'secret: ${REPLICA_SECRET}' at the top level "
        + "(RepliByte ignores keys it does not know, so the file keeps working there).";

    /// <summary>Why a file is read as RepliByte's shape, or null for Replica's own.</summary>
    static string? RepliByteReason(YamlMappingNode root)
    {
        foreach (var (key, value) in root.Children)
        {
            if (key is YamlScalarNode { Value: "datastore" or "encryption_key" } k)
            {
                return $"it has a top-level '{k.Value}'";
            }
            if (key is YamlScalarNode { Value: "source" } && value is YamlMappingNode source)
            {
                foreach (var sourceKey in source.Children.Keys)
                {
                    if (sourceKey is YamlScalarNode { Value: "transformers" or "skip" or "only_tables" or "database_subset" or "compression" } sk)
                    {
                        return $"it has 'source.{sk.Value}'";
                    }
                }
            }
        }
        return null;
    }

    ReplicaConfig BindRepliByte(ConfigNode root, string reason)
    {
        var hint = $"This file is read as a RepliByte conf.yaml because {reason}; Replica's own keys (top-level transformers:, bridge:) cannot be mixed into it";
        var f = Mapping(root, s_rbRootKeys, hint);

        // RepliByte's encryption_key becomes a passphrase: stretched with PBKDF2 into a key that wraps a random per-dump data
        // key (RepliByte padded the string itself into the AES key and used one nonce for everything).
        EncryptionConfig? encryption = null;
        if (f.Get("encryption_key") is { } key && !IsNull(key.Yaml))
        {
            encryption = new EncryptionConfig { Passphrase = NonEmpty(key, "the encryption key, e.g. encryption_key: $MY_PRIVATE_ENC_KEY") };
        }
        var compress = true;

        var locale = f.Get("locale") is { } localeNode ? Locale(localeNode) : "en";

        var source = new SourceConfig();
        var skipRules = new List<TableRule>();
        var transformRules = new List<TableRule>();
        var only = new List<TablePattern>();
        var seen = new Dictionary<(TablePattern, NamePattern), string>();
        SubsetConfig? subset = null;
        if (f.Get("source") is { } sourceNode)
        {
            var sf = Mapping(sourceNode, s_rbSourceKeys, hint);
            if (sf.Get("database_subset") is { } subsetNode && !IsNull(subsetNode.Yaml))
            {
                subset = RepliByteSubset(subsetNode);
            }
            source = new SourceConfig { ConnectionUri = sf.Get("connection_uri") is { } c ? ConnectionUri(c) : null };
            if (sf.Get("compression") is { } compression)
            {
                // RepliByte compresses the dump it stores unless this is false; Replica does the same, with zstd.
                compress = Bool(compression);
            }
            if (sf.Get("skip") is { } skipNode)
            {
                // RepliByte's skip drops only the table's INSERT statements while reading the dump: CREATE TABLE and
                // the rest of the schema stay (source/postgres.rs, skip_tables_map). That is TableAction.SkipData.
                foreach (var item in Sequence(skipNode, "tables (- database: public, table: name)"))
                {
                    skipRules.Add(new TableRule(RepliByteTable(item), TableAction.SkipData, []) { Source = Where(item.Yaml) });
                }
            }
            if (sf.Get("transformers") is { } transformersNode)
            {
                foreach (var item in Sequence(transformersNode, "table entries (- database: public, table: name, columns: [...])"))
                {
                    transformRules.Add(BindRepliByteTable(item, seen));
                }
            }
            if (sf.Get("only_tables") is { } onlyNode)
            {
                // RepliByte passes these to pg_dump --table, so every other table is absent: schema and data.
                foreach (var item in Sequence(onlyNode, "tables (- database: public, table: name)"))
                {
                    only.Add(RepliByteTable(item));
                }
            }
        }

        var localPath = FilePath(new BridgeConfig().LocalPath);
        S3Config? s3 = null;
        if (f.Get("datastore") is { } datastoreNode)
        {
            var df = Mapping(datastoreNode, ["aws", "gcp", "local_disk"]);
            if (df.Get("aws") is { } aws)
            {
                s3 = RepliByteS3(aws);
            }
            if (df.Get("gcp") is { } gcp)
            {
                throw Error(gcp, "Google Cloud Storage datastores are not supported; use an S3-compatible bucket (datastore: { aws: ... }) or local_disk");
            }
            if (df.Get("local_disk") is { } localDisk)
            {
                var lf = Mapping(localDisk, ["dir"]);
                localPath = FilePath(NonEmpty(lf.Require("dir", "the datastore directory, e.g. dir: ./replica-bridge"), "a directory path"));
            }
        }
        var bridge = new BridgeConfig
        {
            LocalPath = localPath,
            S3 = s3,
            Compression = compress ? new CompressionConfig() : new CompressionConfig { Algorithm = "none" },
            Encryption = encryption,
        };

        var destination = new DestinationConfig();
        if (f.Get("destination") is { } destinationNode)
        {
            // allow_privileged_role is Replica's own (RepliByte restored as any role): without it a RepliByte config could
            // not restore as a superuser at all.
            var df = Mapping(destinationNode, ["connection_uri", "wipe_database", "allow_privileged_role"]);
            bool? wipeDatabase = df.Get("wipe_database") is { } wipe ? Bool(wipe) : null;
            destination = new DestinationConfig
            {
                ConnectionUri = ConnectionUri(df.Require("connection_uri", "the database to restore into, e.g. connection_uri: $DATABASE_URL")),
                WipeDatabase = wipeDatabase,
                // RepliByte wipes by default: it drops and recreates the public schema before restoring.
                Wipe = wipeDatabase ?? true ? WipeMode.Schemas : WipeMode.None,
                AllowPrivilegedRole = df.Get("allow_privileged_role") is { } ap && Bool(ap),
            };
        }

        // Skip rules first: in RepliByte a skipped table loses its rows even when it also has transformers, and in
        // Replica the first matching rule decides a table's action.
        var tables = new List<TableRule>(skipRules.Count + transformRules.Count);
        tables.AddRange(skipRules);
        tables.AddRange(transformRules);

        return new ReplicaConfig
        {
            File = _file,
            Format = ConfigFormat.RepliByte,
            ChildEnvironment = _childEnvironment,
            Secret = Secret(f.Get("secret"), tables, RepliByteSecretHelp),
            Locale = locale,
            Source = source,
            Bridge = bridge,
            Destination = destination,
            Tables = tables,
            OnlyTables = only,
            UnmatchedRules = f.Get("unmatched_rules") is { } unmatchedNode ? UnmatchedRulesSetting(unmatchedNode) : UnmatchedRules.Error,
            Subset = subset,
        };
    }

    /// <summary>
    /// RepliByte's database_subset: one table (database: its schema) sampled at random by percent, passthrough tables
    /// copied whole; RepliByte follows parents only, so no child table is followed.
    /// </summary>
    SubsetConfig RepliByteSubset(ConfigNode node)
    {
        var f = Mapping(node, ["database", "table", "strategy_name", "strategy_options", "passthrough_tables"]);
        var table = RepliByteTable(f);
        var strategyNode = f.Require("strategy_name", "the subset strategy, e.g. strategy_name: random");
        var strategy = RequiredScalar(strategyNode, "random");
        if (strategy.Value != "random")
        {
            throw Error(strategyNode, $"expected random (RepliByte's only strategy), found {strategy.Shown}");
        }
        var options = Mapping(f.Require("strategy_options", "the strategy's options, e.g. strategy_options: { percent: 50 }"), ["percent"]);
        var percentNode = options.Require("percent", "the share of rows to keep, e.g. percent: 50");
        var percent = Int(percentNode, 1, 100);
        var passthrough = new List<TablePattern>();
        if (f.Get("passthrough_tables") is { } passNode)
        {
            foreach (var item in Sequence(passNode, "table names in the same database"))
            {
                var name = RequiredScalar(item, "a table name");
                passthrough.Add(new TablePattern(table.Schema, Name(item, name.Value, name.FromEnvironment, "table")));
            }
        }
        return new SubsetConfig
        {
            Roots = [new SubsetRootConfig(table) { Percent = percent, Source = Where(node.Yaml) }],
            Passthrough = passthrough,
            Source = Where(node.Yaml),
        };
    }

    /// <summary>{ database: schema, table: name }: RepliByte's 'database' is the PostgreSQL schema.</summary>
    TablePattern RepliByteTable(ConfigNode item)
    {
        var f = Mapping(item, s_rbTableKeys);
        return RepliByteTable(f);
    }

    TablePattern RepliByteTable(Fields f)
    {
        var databaseNode = f.Require("database", "the schema, e.g. 'database: public'");
        var tableNode = f.Require("table", "the table name, e.g. 'table: customers'");
        var database = RequiredScalar(databaseNode, "a schema name");
        var table = RequiredScalar(tableNode, "a table name");
        return new TablePattern(
            Name(databaseNode, database.Value, database.FromEnvironment, "schema"),
            Name(tableNode, table.Value, table.FromEnvironment, "table"));
    }

    TableRule BindRepliByteTable(ConfigNode item, Dictionary<(TablePattern, NamePattern), string> seen)
    {
        var f = Mapping(item, s_rbTransformerKeys);
        var table = RepliByteTable(f);
        var columns = new List<ColumnRule>();
        if (f.Get("columns") is { } columnsNode)
        {
            foreach (var columnItem in Sequence(columnsNode, "columns (- name: email, transformer_name: email)"))
            {
                var cf = Mapping(columnItem, s_rbColumnKeys);
                var nameNode = cf.Require("name", "the column name, e.g. 'name: email'");
                var name = RequiredScalar(nameNode, "a column name");
                var column = Name(nameNode, name.Value, name.FromEnvironment, "column");
                // RepliByte keeps the last of two entries for one column; Replica refuses to guess which was meant.
                CheckDuplicate(seen, table, column, columnItem.Yaml, columnItem.Path);
                var transformerNode = cf.Require("transformer_name", "the transformer, e.g. 'transformer_name: email'");
                var transformer = RepliByteTransformerName(RequiredScalar(transformerNode, "a transformer name"));
                var optionsNode = cf.Get("transformer_options");
                var options = optionsNode is { } o ? Options(o) : [];
                columns.Add(new ColumnRule(column, Spec(transformer, options, optionsNode, null, columnItem))
                {
                    Source = Where(columnItem.Yaml),
                    FoldedFrom = ColumnRule.Folded(name.Value, column),
                });
            }
        }
        var optional = f.Get("optional") is { } optionalNode && Bool(optionalNode);
        return new TableRule(table, TableAction.Transform, columns) { Source = Where(item.Yaml), Optional = optional };
    }

    /// <summary>RepliByte's transformer names: the same where Replica has the same transformer, 'redacted' is 'redact'.</summary>
    string RepliByteTransformerName(ConfigScalar name)
    {
        switch (name.Value)
        {
            case "custom-wasm":
                var custom = _knownTransformers.Contains("custom")
                    ? "; rewrite it as a 'custom' transformer, which runs a command of yours for each value"
                    : "";
                throw Error(name.Node, "WebAssembly transformers (custom-wasm) are not supported" + custom);
            case "redacted":
                // Replica's redact takes RepliByte's options as they are: character and width.
                return TransformerName(name with { Value = "redact" });
            default:
                return TransformerName(name);
        }
    }

    /// <summary>RepliByte's datastore.aws: bucket, region, credentials, and endpoint (default or custom URL).</summary>
    S3Config RepliByteS3(ConfigNode aws)
    {
        var af = Mapping(aws, ["bucket", "region", "credentials", "endpoint"]);
        string? accessKey = null;
        string? secretKey = null;
        if (af.Get("credentials") is { } credentials)
        {
            var cf = Mapping(credentials, ["access_key_id", "secret_access_key", "session_token"]);
            if (cf.Get("session_token") is { } token && !IsNull(token.Yaml))
            {
                throw Error(token, "session tokens are not supported in the file; leave credentials out to use the standard AWS chain (environment, profile), which supports them");
            }
            accessKey = NonEmpty(cf.Require("access_key_id", "an access key id"), "an access key id");
            secretKey = NonEmpty(cf.Require("secret_access_key", "a secret access key"), "a secret access key");
        }
        string? endpoint = null;
        if (af.Get("endpoint") is { } endpointNode)
        {
            if (endpointNode.Yaml is YamlScalarNode)
            {
                var value = RequiredScalar(endpointNode, "default, or custom: URL").Value;
                if (value != "default")
                {
                    throw Error(endpointNode, "expected 'default' or a mapping 'custom: https://...'");
                }
            }
            else
            {
                var ef = Mapping(endpointNode, ["custom"]);
                endpoint = NonEmpty(ef.Require("custom", "the endpoint URL"), "an http:// or https:// URL");
            }
        }
        return new S3Config
        {
            Bucket = NonEmpty(af.Require("bucket", "the bucket name"), "a bucket name"),
            Region = af.Get("region") is { } r ? NonEmpty(r, "a region such as us-east-1") : "us-east-1",
            Endpoint = endpoint,
            // S3-compatible servers behind a custom endpoint mostly need path-style addressing.
            ForcePathStyle = endpoint is not null,
            AccessKeyId = accessKey,
            SecretAccessKey = secretKey,
        };
    }
}
