using Replica.Transformers;
using YamlDotNet.RepresentationModel;

namespace Replica.Config;

/// <summary>Replica's own shape; replica.example.yaml documents every key read here.</summary>
internal sealed partial class ConfigBinder
{
    static readonly string[] s_rootKeys = ["secret", "locale", "source", "bridge", "limits", "destination", "transformers", "only_tables"];
    static readonly string[] s_tableKeys = ["table", "columns", "data", "drop"];
    static readonly string[] s_columnKeys = ["transformer", "options", "unique"];

    /// <summary>Largest chunk or row size: one array must hold it.</summary>
    static readonly long s_maxBufferBytes = Array.MaxLength;

    const string ReplicaSecretHelp =
        "Add 'secret: ${REPLICA_SECRET}' to the file and set the REPLICA_SECRET environment variable to a long random value "
        + "(e.g. export REPLICA_SECRET=\"$(openssl rand -base64 32)\"); keep it out of the file and out of version control.";

    ReplicaConfig BindReplica(ConfigNode root)
    {
        var f = Mapping(root, s_rootKeys);

        var locale = f.Get("locale") is { } localeNode ? Locale(localeNode) : "en";

        var source = new SourceConfig();
        if (f.Get("source") is { } sourceNode)
        {
            var sf = Mapping(sourceNode, ["connection_uri"]);
            source = new SourceConfig { ConnectionUri = sf.Get("connection_uri") is { } c ? ConnectionUri(c) : null };
        }

        var bridge = new BridgeConfig();
        if (f.Get("bridge") is { } bridgeNode)
        {
            var bf = Mapping(bridgeNode, ["local", "chunk_size", "s3"]);
            if (bf.Get("s3") is { } s3 && !IsNull(s3.Yaml))
            {
                throw Error(s3, "the S3 bridge is not available yet (it arrives later); use 'bridge: { local: { path: ./replica-bridge } }' for now");
            }
            var path = bridge.LocalPath;
            if (bf.Get("local") is { } localNode)
            {
                var lf = Mapping(localNode, ["path"]);
                path = NonEmpty(lf.Require("path", "the bridge directory, e.g. path: ./replica-bridge"), "a directory path");
            }
            var chunk = bf.Get("chunk_size") is { } chunkNode ? Size(chunkNode, 1, s_maxBufferBytes) : bridge.ChunkSize;
            bridge = new BridgeConfig { LocalPath = path, ChunkSize = chunk };
        }

        var maxRow = new ReplicaConfig().MaxRowBytes;
        if (f.Get("limits") is { } limitsNode)
        {
            var lf = Mapping(limitsNode, ["max_row_size"]);
            if (lf.Get("max_row_size") is { } m)
            {
                maxRow = Size(m, 1, s_maxBufferBytes);
            }
        }

        var destination = new DestinationConfig();
        if (f.Get("destination") is { } destinationNode)
        {
            var df = Mapping(destinationNode, ["connection_uri"]);
            destination = new DestinationConfig { ConnectionUri = df.Get("connection_uri") is { } c ? ConnectionUri(c) : null };
        }

        var tables = new List<TableRule>();
        var seen = new Dictionary<(TablePattern, NamePattern), string>();
        if (f.Get("transformers") is { } transformersNode)
        {
            foreach (var item in Sequence(transformersNode, "table entries (- table: schema.table)"))
            {
                tables.Add(BindReplicaTable(item, seen));
            }
        }

        var only = new List<TablePattern>();
        if (f.Get("only_tables") is { } onlyNode)
        {
            foreach (var item in Sequence(onlyNode, "table names"))
            {
                only.Add(Table(item));
            }
        }

        return new ReplicaConfig
        {
            File = _file,
            Format = ConfigFormat.Replica,
            Secret = Secret(f.Get("secret"), tables, ReplicaSecretHelp),
            Locale = locale,
            Source = source,
            Bridge = bridge,
            Destination = destination,
            Tables = tables,
            OnlyTables = only,
            MaxRowBytes = maxRow,
        };
    }

    TableRule BindReplicaTable(ConfigNode item, Dictionary<(TablePattern, NamePattern), string> seen)
    {
        var f = Mapping(item, s_tableKeys);
        var table = Table(f.Require("table", "the table this entry is about, e.g. 'table: public.customers'"));

        var action = TableAction.Transform;
        if (f.Get("data") is { } dataNode)
        {
            var data = RequiredScalar(dataNode, "skip or keep");
            action = data.Value switch
            {
                "skip" => TableAction.SkipData,
                "keep" => TableAction.Transform,
                _ => throw Error(dataNode, $"expected skip (keep the table, drop its rows) or keep (the default), found {data.Shown}"),
            };
        }
        if (f.Get("drop") is { } dropNode && Bool(dropNode))
        {
            if (f.Has("data"))
            {
                throw Error(dropNode, "'drop: true' removes the table with its data; remove the 'data' key from this entry");
            }
            action = TableAction.Drop;
        }

        var columns = new List<ColumnRule>();
        if (f.Get("columns") is { } columnsNode && !IsNull(columnsNode.Yaml))
        {
            if (columnsNode.Yaml is not YamlMappingNode map)
            {
                throw Error(columnsNode, $"expected a mapping of column: transformer (e.g. 'email: email'), found {Describe(columnsNode.Yaml)}");
            }
            if (action != TableAction.Transform && map.Children.Count > 0)
            {
                var what = action == TableAction.Drop ? "'drop: true'" : "'data: skip'";
                throw Error(columnsNode, $"columns have no effect with {what}: the table keeps no rows; remove them or the {what}");
            }
            foreach (var (keyNode, valueNode) in map.Children)
            {
                if (keyNode is not YamlScalarNode { Value: { } key })
                {
                    throw Error(keyNode, columnsNode.Path, $"column names must be plain names, found {Describe(keyNode)}");
                }
                var path = columnsNode.Child(key).Path;
                var column = Name(new ConfigNode(keyNode, path), key, fromEnvironment: false, "column");
                CheckDuplicate(seen, table, column, keyNode, path);
                columns.Add(new ColumnRule(column, BindReplicaColumn(new ConfigNode(valueNode, path))));
            }
        }

        return new TableRule(table, action, columns) { Source = Where(item.Yaml) };
    }

    TransformerSpec BindReplicaColumn(ConfigNode node)
    {
        const string accepted = "a transformer name (email: email) or a mapping { transformer: name, options: { ... }, unique: true }";
        switch (node.Yaml)
        {
            case YamlScalarNode when IsNull(node.Yaml):
                throw Error(node, $"expected {accepted}, found nothing");
            case YamlScalarNode:
                var name = RequiredScalar(node, accepted);
                return Spec(TransformerName(name), [], null, node.Yaml);
            case YamlMappingNode:
                var f = Mapping(node, s_columnKeys);
                var transformer = RequiredScalar(f.Require("transformer", "the transformer's name, e.g. 'transformer: hash'"), "a transformer name");
                var options = f.Get("options") is { } o ? Options(o) : [];
                bool? unique = f.Get("unique") is { } u ? Bool(u) : null;
                return Spec(TransformerName(transformer), options, unique, node.Yaml);
            default:
                throw Error(node, $"expected {accepted}, found {Describe(node.Yaml)}");
        }
    }

    /// <summary>The same column of the same table pattern twice: the later one could never apply, so it is a mistake.</summary>
    void CheckDuplicate(Dictionary<(TablePattern, NamePattern), string> seen, TablePattern table, NamePattern column, YamlNode at, string path)
    {
        if (seen.TryGetValue((table, column), out var first))
        {
            throw Error(at, path, $"column {column} of table {table} is already configured at {first}; keep one of them");
        }
        seen.Add((table, column), Where(at));
    }
}
