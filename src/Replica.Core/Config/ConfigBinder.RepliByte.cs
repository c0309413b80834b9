using YamlDotNet.RepresentationModel;

namespace Replica.Config;

/// <summary>
/// RepliByte's conf.yaml, read as is (https://www.replibyte.com/docs/getting-started/configuration, and the serde
/// structs of replibyte/src/config.rs that define it). What Replica cannot honour yet is refused with a clear error,
/// never ignored: ignoring encryption_key would store data unencrypted, ignoring database_subset would copy everything.
/// </summary>
internal sealed partial class ConfigBinder
{
    static readonly string[] s_rbRootKeys = ["encryption_key", "source", "datastore", "destination", "secret", "locale"];
    static readonly string[] s_rbSourceKeys = ["connection_uri", "compression", "transformers", "skip", "only_tables", "database_subset"];
    static readonly string[] s_rbTableKeys = ["database", "table"];
    static readonly string[] s_rbTransformerKeys = ["database", "table", "columns"];
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

        if (f.Get("encryption_key") is { } key && !IsNull(key.Yaml))
        {
            throw Error(key, "encryption is not supported yet: it arrives with the bridge codecs. Replica will not store the dump "
                + "unencrypted while this file asks for encryption; remove encryption_key to store it unencrypted, knowingly");
        }

        var locale = f.Get("locale") is { } localeNode ? Locale(localeNode) : "en";

        var source = new SourceConfig();
        var skipRules = new List<TableRule>();
        var transformRules = new List<TableRule>();
        var only = new List<TablePattern>();
        var seen = new Dictionary<(TablePattern, NamePattern), string>();
        if (f.Get("source") is { } sourceNode)
        {
            var sf = Mapping(sourceNode, s_rbSourceKeys, hint);
            if (sf.Get("database_subset") is { } subset && !IsNull(subset.Yaml))
            {
                throw Error(subset, "database subsetting is not supported yet (it arrives later); remove database_subset to copy whole "
                    + "tables, or leave tables out with source.skip / source.only_tables");
            }
            source = new SourceConfig { ConnectionUri = sf.Get("connection_uri") is { } c ? ConnectionUri(c) : null };
            if (sf.Get("compression") is { } compression)
            {
                // RepliByte compresses the dump it stores (default true). Accepted so the file loads; Replica's bridge
                // codecs decide compression, and no data is exposed either way.
                Bool(compression);
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

        var bridge = new BridgeConfig();
        if (f.Get("datastore") is { } datastoreNode)
        {
            var df = Mapping(datastoreNode, ["aws", "gcp", "local_disk"]);
            if (df.Get("aws") is { } aws)
            {
                throw Error(aws, "S3 datastores are not supported yet (the S3 bridge arrives later); use 'datastore: { local_disk: { dir: ./replica-bridge } }' for now");
            }
            if (df.Get("gcp") is { } gcp)
            {
                throw Error(gcp, "Google Cloud Storage datastores are not supported yet (the S3 bridge arrives later); use 'datastore: { local_disk: { dir: ./replica-bridge } }' for now");
            }
            if (df.Get("local_disk") is { } localDisk)
            {
                var lf = Mapping(localDisk, ["dir"]);
                bridge = new BridgeConfig { LocalPath = NonEmpty(lf.Require("dir", "the datastore directory, e.g. dir: ./replica-bridge"), "a directory path") };
            }
        }

        var destination = new DestinationConfig();
        if (f.Get("destination") is { } destinationNode)
        {
            var df = Mapping(destinationNode, ["connection_uri", "wipe_database"]);
            destination = new DestinationConfig
            {
                ConnectionUri = ConnectionUri(df.Require("connection_uri", "the database to restore into, e.g. connection_uri: $DATABASE_URL")),
                WipeDatabase = df.Get("wipe_database") is { } wipe ? Bool(wipe) : null,
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
            Secret = Secret(f.Get("secret"), tables, RepliByteSecretHelp),
            Locale = locale,
            Source = source,
            Bridge = bridge,
            Destination = destination,
            Tables = tables,
            OnlyTables = only,
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
                var options = cf.Get("transformer_options") is { } o ? Options(o) : [];
                columns.Add(new ColumnRule(column, Spec(transformer, options, null, columnItem.Yaml)));
            }
        }
        return new TableRule(table, TableAction.Transform, columns) { Source = Where(item.Yaml) };
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
}
