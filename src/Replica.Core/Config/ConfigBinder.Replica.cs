using YamlDotNet.RepresentationModel;

namespace Replica.Config;

/// <summary>Replica's own shape; replica.example.yaml documents every key read here.</summary>
internal sealed partial class ConfigBinder
{
    static readonly string[] s_rootKeys = ["secret", "locale", "policy", "source", "bridge", "limits", "destination", "transformers", "only_tables", "unmatched_rules", "subset", "sanitize"];
    static readonly string[] s_tableKeys = ["table", "columns", "data", "drop", "optional"];
    static readonly string[] s_columnKeys = ["transformer", "options", "unique"];

    /// <summary>Largest chunk or row size: one array must hold it.</summary>
    static readonly long s_maxBufferBytes = Array.MaxLength;

    const string ReplicaSecretHelp =
        "Add 'secret: ${REPLICA_SECRET}' to the file and set the REPLICA_SECRET environment variable to a long random value "
        + "(e.g. export REPLICA_SECRET=\"$(openssl rand -base64 32)\"); keep it out of the file and out of version control.";

    /// <summary>
    /// A list of SQL steps: each a statement (or several), or <c>{ file: path.sql }</c> (relative to the config's folder,
    /// read now), with ${VAR} expanded in both; the values that came from variables go with each step (its Secrets).
    /// </summary>
    List<SqlStep> SqlSteps(ConfigNode node)
    {
        var steps = new List<SqlStep>();
        foreach (var item in Sequence(node, "SQL statements, or { file: path.sql }"))
        {
            var substituted = new List<string>();
            if (item.Yaml is YamlDotNet.RepresentationModel.YamlMappingNode)
            {
                var path = FilePath(NonEmpty(Mapping(item, ["file"]).Get("file") ?? throw Error(item, "expected { file: path.sql }"), "a file of SQL statements"));
                string text;
                try
                {
                    text = File.ReadAllText(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw Error(item, $"cannot read {path}: {e.Message}");
                }
                if (!EnvInterpolation.TryExpand(text, _getEnv, out var expanded, out _, out var error, substituted))
                {
                    throw Error(item, $"{path}: {error}");
                }
                steps.Add(new SqlStep(expanded, $"{item.Path} (file {path})") { Secrets = SqlStep.SecretsOf(substituted) });
                continue;
            }
            var statement = NonEmpty(item, "an SQL statement", substituted);
            steps.Add(new SqlStep(statement, item.Path) { Secrets = SqlStep.SecretsOf(substituted) });
        }
        return steps;
    }

    ReplicaConfig BindReplica(ConfigNode root)
    {
        var f = Mapping(root, s_rootKeys);

        var locale = f.Get("locale") is { } localeNode ? Locale(localeNode) : "en";

        var source = f.Get("source") is { } sourceNode ? BindSource(sourceNode) : new SourceConfig();
        var strict = false;
        if (f.Get("policy") is { } policyNode)
        {
            var policy = RequiredScalar(policyNode, "strict or lenient");
            strict = policy.Value switch
            {
                "strict" => true,
                "lenient" => false,
                _ => throw Error(policyNode, $"expected strict (a dump fails when a column that looks like personal data has no rule) or lenient (the default), found {policy.Shown}"),
            };
        }

        var bridge = f.Get("bridge") is { } bridgeNode ? BindBridge(bridgeNode) : new BridgeConfig();
        var unmatched = f.Get("unmatched_rules") is { } unmatchedNode ? UnmatchedRulesSetting(unmatchedNode) : UnmatchedRules.Error;

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
            var df = Mapping(destinationNode, ["connection_uri", "wipe", "create_database", "after_restore", "allow_privileged_role", "no_owner", "no_privileges", "lock_wait_timeout"]);
            var wipe = WipeMode.None;
            if (df.Get("wipe") is { } wipeNode)
            {
                var text = RequiredScalar(wipeNode, "none, schemas or database");
                wipe = text.Value switch
                {
                    "none" => WipeMode.None,
                    "schemas" => WipeMode.Schemas,
                    "database" => WipeMode.Database,
                    _ => throw Error(wipeNode, $"expected none (the default), schemas (drop the destination's schemas in the restore's transaction) or database (restore into a new database and swap it in), found {text.Shown}"),
                };
            }
            destination = new DestinationConfig
            {
                ConnectionUri = df.Get("connection_uri") is { } c ? ConnectionUri(c) : null,
                Wipe = wipe,
                CreateDatabase = df.Get("create_database") is not { } cd || Bool(cd),
                AfterRestore = df.Get("after_restore") is { } ar ? SqlSteps(ar) : [],
                AllowPrivilegedRole = df.Get("allow_privileged_role") is { } ap && Bool(ap),
                LockWaitSeconds = df.Get("lock_wait_timeout") is { } lw ? Int(lw, 1, 31_536_000) : 60,
                LeaveOut = LeaveOutOf(df),
            };
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
            ChildEnvironment = _childEnvironment,
            Warnings = _warnings,
            Secret = Secret(f.Get("secret"), tables, ReplicaSecretHelp),
            Strict = strict,
            Locale = locale,
            Source = source,
            Bridge = bridge,
            Destination = destination,
            Tables = tables,
            OnlyTables = only,
            MaxRowBytes = maxRow,
            UnmatchedRules = unmatched,
            Subset = f.Get("subset") is { } subsetNode && !IsNull(subsetNode.Yaml) ? BindSubset(subsetNode) : null,
            Sanitize = f.Get("sanitize") is { } sanitizeNode && !IsNull(sanitizeNode.Yaml) ? BindSanitize(sanitizeNode, source) : null,
        };
    }

    /// <summary>
    /// 'sanitize:': a scratch database (PostgreSQL or MySQL, named, never the source's database: replica drops it
    /// afterwards) and at least one step. That its kind is the dump's is checked when the dump runs (--dialect can
    /// name it).
    /// </summary>
    SanitizeConfig BindSanitize(ConfigNode node, SourceConfig source)
    {
        var sf = Mapping(node, ["scratch_uri", "statements", "allow_privileged_role", "no_owner", "no_privileges"]);
        var uriNode = sf.Require("scratch_uri", "a database for replica to create and drop, e.g. postgres://replica@127.0.0.1:5432/replica_scratch");
        var text = ConnectionUri(uriNode) ?? throw Error(uriNode, "expected a connection URI (postgres://user@host:port/database or mysql://...), found nothing");
        var scratch = Clients.DatabaseUri.Parse(text);
        if (scratch.Database is null)
        {
            throw Error(uriNode, "expected a database replica creates and drops (postgres://user@host:port/database or mysql://user@host:port/database): the URI names none");
        }
        if (source.ConnectionUri is { } sourceText && Clients.DatabaseUri.Parse(sourceText) is { } sourceUri && sourceUri.Kind == scratch.Kind
            && string.Equals(sourceUri.Database, scratch.Database, StringComparison.Ordinal))
        {
            throw Error(uriNode, $"the scratch database '{scratch.Database}' has the name of the source's database; replica drops the scratch database "
                + "after every dump: name one of its own (e.g. replica_scratch)");
        }
        var statementsNode = sf.Require("statements", "SQL statements, or { file: path.sql }");
        var statements = SqlSteps(statementsNode);
        if (statements.Count == 0)
        {
            throw Error(statementsNode, "expected at least one SQL statement or { file: path.sql }: without one, leave 'sanitize:' out");
        }
        return new SanitizeConfig
        {
            ScratchUri = text,
            Statements = statements,
            Source = Where(node.Yaml),
            AllowPrivilegedRole = sf.Get("allow_privileged_role") is { } ap && Bool(ap),
            LeaveOut = LeaveOutOf(sf),
        };
    }

    /// <summary>'no_owner' and 'no_privileges' of a destination or a sanitize section.</summary>
    LeaveOut LeaveOutOf(Fields fields) =>
        (fields.Get("no_owner") is { } no && Bool(no) ? LeaveOut.Owners : LeaveOut.None)
        | (fields.Get("no_privileges") is { } np && Bool(np) ? LeaveOut.Privileges : LeaveOut.None);

    SourceConfig BindSource(ConfigNode node)
    {
        var sf = Mapping(node, ["connection_uri", "tables", "exclude_tables", "exclude_table_data", "schemas", "exclude_schemas", "data_format"]);
        var format = DataFormat.Copy;
        if (sf.Get("data_format") is { } formatNode)
        {
            var text = RequiredScalar(formatNode, "copy or inserts");
            format = text.Value switch
            {
                "copy" => DataFormat.Copy,
                "inserts" => DataFormat.Inserts,
                _ => throw Error(formatNode, $"expected copy (the default: COPY blocks, fastest) or inserts (INSERT statements with column names), found {text.Shown}"),
            };
        }
        var uri = sf.Get("connection_uri") is { } c ? ConnectionUri(c) : null;
        var postgres = uri is not null && Clients.DatabaseUri.Parse(uri).Kind == Clients.DatabaseKind.PostgreSql;
        return new SourceConfig
        {
            ConnectionUri = uri,
            Tables = Patterns(sf.Get("tables"), postgres),
            ExcludeTables = Patterns(sf.Get("exclude_tables"), postgres),
            ExcludeTableData = Patterns(sf.Get("exclude_table_data"), postgres),
            Schemas = Patterns(sf.Get("schemas")),
            ExcludeSchemas = Patterns(sf.Get("exclude_schemas")),
            DataFormat = format,
        };
    }

    /// <summary>
    /// A list of pg_dump name patterns (https://www.postgresql.org/docs/current/app-psql.html#APP-PSQL-PATTERNS). For a
    /// PostgreSQL source (<paramref name="schemaRequired"/>) a table pattern must name its schema: pg_dump matches a bare
    /// name against the tables visible in its session's search_path, which the role's or database's settings (ALTER ROLE
    /// ... SET search_path) or the URI's options decide, not the config. Replica's checks (unmatched entries, strict
    /// mode, --jobs) could then pass one table while pg_dump left out another, and dump rows in clear.
    /// </summary>
    List<string> Patterns(ConfigNode? node, bool schemaRequired = false)
    {
        var patterns = new List<string>();
        if (node is not null)
        {
            foreach (var item in Sequence(node.Value, "name patterns such as public.users or 'audit.*'"))
            {
                var pattern = NonEmpty(item, "a name pattern such as public.users");
                if (schemaRequired && !Clients.PgDumpPattern.NamesSchema(pattern))
                {
                    throw Error(item, $"'{pattern}' names no schema: pg_dump would match it against the tables in the search_path of "
                        + $"the source's role and database, which may not be schema public; write schema.table (e.g. public.{pattern}, or '*.{pattern}' for every schema)");
                }
                patterns.Add(pattern);
            }
        }
        return patterns;
    }

    BridgeConfig BindBridge(ConfigNode node)
    {
        var bf = Mapping(node, ["local", "s3", "chunk_size", "workers", "compression", "encryption"]);
        var defaults = new BridgeConfig();
        if (bf.Has("local") && bf.Has("s3"))
        {
            throw Error(bf.Get("s3")!.Value, "give either 'local' or 's3', not both: a dump lives in one bridge");
        }
        var path = FilePath(defaults.LocalPath);
        if (bf.Get("local") is { } localNode)
        {
            var lf = Mapping(localNode, ["path"]);
            path = FilePath(NonEmpty(lf.Require("path", "the bridge directory, e.g. path: ./replica-bridge"), "a directory path"));
        }
        S3Config? s3 = null;
        if (bf.Get("s3") is { } s3Node)
        {
            var sf = Mapping(s3Node, ["bucket", "prefix", "region", "endpoint", "force_path_style", "access_key_id", "secret_access_key", "retries"]);
            var prefixScalar = sf.Get("prefix") is { } p ? RequiredScalar(p, "a key prefix ending with '/', e.g. team-a/") : (ConfigScalar?)null;
            var prefix = prefixScalar is { } ps ? NonEmpty(ps.Node, "a key prefix ending with '/', e.g. team-a/") : "";
            if (S3Config.PrefixProblem(prefix) is { } problem)
            {
                throw Error(sf.Get("prefix")!.Value, $"the prefix {prefixScalar!.Value.Shown} is not a plain folder of the bucket: {problem}, e.g. team-a/");
            }
            var accessKey = sf.Get("access_key_id") is { } a ? NonEmpty(a, "an access key id") : null;
            var secretKey = sf.Get("secret_access_key") is { } k ? NonEmpty(k, "a secret access key") : null;
            if ((accessKey is null) != (secretKey is null))
            {
                throw Error(s3Node, "give both access_key_id and secret_access_key, or neither (then the standard AWS credential chain is used)");
            }
            string? endpoint = null;
            if (sf.Get("endpoint") is { } e)
            {
                endpoint = NonEmpty(e, "a URL such as http://127.0.0.1:9000");
                if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    throw Error(e, "expected an http:// or https:// URL, e.g. http://127.0.0.1:9000");
                }
                if (uri.UserInfo.Length > 0)
                {
                    // The endpoint appears in messages (the bridge's description), so a password in it would too; the
                    // message does not repeat the value for the same reason.
                    throw Error(e, "the endpoint URL must not hold a user name or password (user:password@host): "
                        + "give the keys as access_key_id and secret_access_key");
                }
            }
            s3 = new S3Config
            {
                Bucket = NonEmpty(sf.Require("bucket", "the bucket name"), "a bucket name"),
                Prefix = prefix,
                Region = sf.Get("region") is { } r ? NonEmpty(r, "a region such as us-east-1") : "us-east-1",
                Endpoint = endpoint,
                ForcePathStyle = sf.Get("force_path_style") is { } fps && Bool(fps),
                AccessKeyId = accessKey,
                SecretAccessKey = secretKey,
                Retries = sf.Get("retries") is { } rt ? Int(rt, 0, 100) : 5,
            };
        }
        var chunk = bf.Get("chunk_size") is { } chunkNode ? Size(chunkNode, 1, s_maxBufferBytes) : defaults.ChunkSize;
        // At most 64 workers (Pipeline's DumpChunker.MaxWorkers): each holds a chunk or two in memory.
        int? chunkWorkers = bf.Get("workers") is { } workersNode ? Int(workersNode, 1, 64) : null;

        var compression = defaults.Compression;
        if (bf.Get("compression") is { } compressionNode)
        {
            var cf = Mapping(compressionNode, ["algorithm", "level", "workers"]);
            var algorithmScalar = cf.Get("algorithm") is { } an ? RequiredScalar(an, "zstd, gzip or none") : (ConfigScalar?)null;
            var algorithm = algorithmScalar?.Value ?? "zstd";
            if (algorithm is not ("zstd" or "gzip" or "none"))
            {
                throw Error(cf.Get("algorithm")!.Value, $"expected zstd (the default), gzip or none, found {algorithmScalar!.Value.Shown}");
            }
            int? level = cf.Get("level") is { } ln ? Int(ln, 1, algorithm == "gzip" ? 9 : 22) : null;
            var workers = cf.Get("workers") is { } wn ? Int(wn, 0, 256) : 0;
            compression = new CompressionConfig { Algorithm = algorithm, Level = level, Workers = workers };
        }

        EncryptionConfig? encryption = null;
        if (bf.Get("encryption") is { } encryptionNode && !IsNull(encryptionNode.Yaml))
        {
            var ef = Mapping(encryptionNode, ["passphrase", "key", "key_file", "recipients", "private_key_file", "private_key_passphrase"]);
            var recipients = new List<string>();
            if (ef.Get("recipients") is { } rn)
            {
                foreach (var item in Sequence(rn, "public key files (PEM)"))
                {
                    recipients.Add(FilePath(NonEmpty(item, "a public key file")));
                }
            }
            encryption = new EncryptionConfig
            {
                Passphrase = ef.Get("passphrase") is { } pp ? NonEmpty(pp, "a passphrase, e.g. ${REPLICA_PASSPHRASE}") : null,
                Key = ef.Get("key") is { } kn ? NonEmpty(kn, "a base64 32-byte key, e.g. ${REPLICA_KEY}") : null,
                KeyFile = ef.Get("key_file") is { } kf ? FilePath(NonEmpty(kf, "a file holding a base64 32-byte key")) : null,
                Recipients = recipients,
                PrivateKeyFile = ef.Get("private_key_file") is { } pk ? FilePath(NonEmpty(pk, "a private key file (PEM)")) : null,
                PrivateKeyPassphrase = ef.Get("private_key_passphrase") is { } pkp ? NonEmpty(pkp, "the private key file's passphrase") : null,
            };
            if (encryption.KeyFile is { } keyFile)
            {
                WarnIfOthersCanRead(ef.Get("key_file")!.Value, keyFile);
            }
            if (encryption.PrivateKeyFile is { } privateKeyFile)
            {
                WarnIfOthersCanRead(ef.Get("private_key_file")!.Value, privateKeyFile);
            }
            var ways = (encryption.Passphrase is null ? 0 : 1) + (encryption.Key is null ? 0 : 1) + (encryption.KeyFile is null ? 0 : 1)
                + (recipients.Count == 0 ? 0 : 1);
            if (ways != 1)
            {
                throw Error(encryptionNode, "give exactly one of passphrase, key, key_file or recipients (private_key_file goes with recipients, for restoring)");
            }
            if (encryption.PrivateKeyFile is not null && recipients.Count == 0)
            {
                throw Error(ef.Get("private_key_file")!.Value, "private_key_file goes with recipients: it opens dumps made for them");
            }
        }
        return new BridgeConfig { LocalPath = path, S3 = s3, ChunkSize = chunk, Workers = chunkWorkers, Compression = compression, Encryption = encryption };
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
                columns.Add(new ColumnRule(column, BindReplicaColumn(new ConfigNode(valueNode, path)))
                {
                    Source = Where(keyNode),
                    FoldedFrom = ColumnRule.Folded(key, column),
                });
            }
        }

        var optional = f.Get("optional") is { } optionalNode && Bool(optionalNode);
        return new TableRule(table, action, columns) { Source = Where(item.Yaml), Optional = optional };
    }

    TransformerConfig BindReplicaColumn(ConfigNode node)
    {
        const string accepted = "a transformer name (email: email) or a mapping { transformer: name, options: { ... }, unique: true }";
        switch (node.Yaml)
        {
            case YamlScalarNode when IsNull(node.Yaml):
                throw Error(node, $"expected {accepted}, found nothing");
            case YamlScalarNode:
                var name = RequiredScalar(node, accepted);
                return Spec(TransformerName(name), [], null, null, node);
            case YamlMappingNode:
                var f = Mapping(node, s_columnKeys);
                var transformer = RequiredScalar(f.Require("transformer", "the transformer's name, e.g. 'transformer: hash'"), "a transformer name");
                var optionsNode = f.Get("options");
                var options = optionsNode is { } o ? Options(o) : [];
                bool? unique = f.Get("unique") is { } u ? Bool(u) : null;
                return Spec(TransformerName(transformer), options, optionsNode, unique, node);
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
