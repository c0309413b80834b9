using Replica.Config;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Config;

public class ConfigLoaderTests
{
    const string Full = """
        secret: ${REPLICA_SECRET}
        locale: de
        source:
          connection_uri: postgres://app:pw@db:5432/shop
        bridge:
          local: { path: /var/replica }
          chunk_size: 8MiB
        limits:
          max_row_size: 1GiB
        destination:
          connection_uri: postgresql://dev@localhost/shop
        transformers:
          - table: public.customers
            columns:
              email: email
              last_name: last-name
              phone: { transformer: redact, options: { width: 4, character: '#' } }
              ssn: { transformer: hash, unique: true }
              metadata:
                transformer: json
                options:
                  path: $.contact.email
                  transformer: email
                  extra: [a, { b: c }, ~]
          - table: public.audit_log
            data: skip
          - table: public.scratch
            drop: true
        only_tables: [public.customers, 'sales.*']
        """;

    [Fact]
    public void Parse_EveryKey_IsBound()
    {
        var config = Parse(Full);

        Assert.Equal(ConfigFormat.Replica, config.Format);
        Assert.Equal("replica.yaml", config.File);
        Assert.Equal(Secret, config.Secret);
        Assert.Equal("de", config.Locale);
        Assert.Equal("postgres://app:pw@db:5432/shop", config.Source.ConnectionUri);
        Assert.Equal("/var/replica", config.Bridge.LocalPath);
        Assert.Equal(8L << 20, config.Bridge.ChunkSize);
        Assert.Equal(1L << 30, config.MaxRowBytes);
        Assert.Equal("postgresql://dev@localhost/shop", config.Destination.ConnectionUri);
        Assert.True(Parse(Full.Replace("localhost/shop\n", "localhost/shop\n  allow_privileged_role: true\n", StringComparison.Ordinal)).Destination.AllowPrivilegedRole);

        Assert.Equal(3, config.Tables.Count);
        var customers = config.Tables[0];
        Assert.Equal(new TablePattern(new NamePattern("public"), new NamePattern("customers")), customers.Table);
        Assert.Equal(TableAction.Transform, customers.Action);
        Assert.Equal("replica.yaml:13:5", customers.Source);
        Assert.Equal(["email", "last_name", "phone", "ssn", "metadata"], customers.Columns.Select(c => c.Column.Name));
        Assert.Equal(["email", "last-name", "redact", "hash", "json"], customers.Columns.Select(c => c.Transformer.Name));

        var phone = customers.Columns[2].Transformer;
        Assert.Equal("4", phone.Options["width"]);
        Assert.Equal("#", phone.Options["character"]);
        Assert.Null(phone.Unique);
        Assert.Equal("replica.yaml:17:14", phone.Source);

        var ssn = customers.Columns[3].Transformer;
        Assert.True(ssn.Unique);
        Assert.Empty(ssn.Options);

        var json = customers.Columns[4].Transformer;
        Assert.Equal("$.contact.email", json.Options["path"]);
        Assert.Equal("email", json.Options["transformer"]);
        var extra = Assert.IsAssignableFrom<IReadOnlyList<object?>>(json.Options["extra"]);
        Assert.Equal("a", extra[0]);
        var nested = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(extra[1]);
        Assert.Equal("c", nested["b"]);
        Assert.Null(extra[2]);

        Assert.Equal(TableAction.SkipData, config.Tables[1].Action);
        Assert.Empty(config.Tables[1].Columns);
        Assert.Equal(TableAction.Drop, config.Tables[2].Action);

        Assert.Equal(["public.customers", "sales.*"], config.OnlyTables.Select(t => t.ToString()));
    }

    [Fact(Timeout = 30_000)]
    public async Task Parse_HugeUnknownTransformerName_FailsAtOnce()
    {
        var name = string.Concat(Enumerable.Repeat("postgres://u:p@h:5432/db?sslmode=require", 60_000)); // 2.4 MB
        var yaml = $"secret: x\ntransformers:\n  - table: public.t\n    columns:\n      a: {name}\n";

        // Found by fuzzing: "did you mean" computed a full edit-distance matrix against every known name (seconds here).
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Task.Run(() => Fails(yaml));

        Assert.Contains("unknown transformer", ex.Message);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"took {stopwatch.Elapsed}");
    }

    [Theory]
    [InlineData(": [\nH")]
    [InlineData(" : a")]
    public void Parse_TextThatStopsTheYamlScanner_IsAConfigErrorNamingTheFile(string yaml)
    {
        var ex = Fails(yaml);

        Assert.Contains("replica.yaml", ex.Message);
        Assert.Contains("not valid YAML", ex.Message);
    }

    [Fact]
    public void Parse_UnmatchedRulesAndOptional_AreBoundWithPositions()
    {
        var config = Parse("""
            secret: ${REPLICA_SECRET}
            unmatched_rules: warn
            transformers:
              - table: public.customers
                optional: true
                columns:
                  email: email
              - table: public.orders
                columns: { total: redact }
            """);

        Assert.Equal(UnmatchedRules.Warn, config.UnmatchedRules);
        Assert.True(config.Tables[0].Optional);
        Assert.False(config.Tables[1].Optional);
        Assert.Equal("replica.yaml:7:7", config.Tables[0].Columns[0].Source);
        Assert.Equal("replica.yaml:9:16", config.Tables[1].Columns[0].Source);
        Assert.Equal(UnmatchedRules.Error, Parse("secret: ${REPLICA_SECRET}").UnmatchedRules);

        var e = Fails("""
            secret: ${REPLICA_SECRET}
            unmatched_rules: ignore
            """);
        Assert.Contains("replica.yaml:2:18: 'unmatched_rules': expected error", e.Message);
    }

    [Fact]
    public void Parse_MinimalFile_UsesDefaults()
    {
        var config = Parse("bridge: { local: { path: ./out } }", Env());

        Assert.Equal("", config.Secret);
        Assert.Equal("en", config.Locale);
        Assert.Null(config.Source.ConnectionUri);
        Assert.Equal(Path.GetFullPath("out"), config.Bridge.LocalPath);
        Assert.Equal(4L << 20, config.Bridge.ChunkSize);
        Assert.Equal(256L << 20, config.MaxRowBytes);
        Assert.Null(config.Destination.ConnectionUri);
        Assert.False(config.Destination.AllowPrivilegedRole);
        Assert.Empty(config.Tables);
        Assert.Empty(config.OnlyTables);
    }

    [Fact]
    public void Parse_UnknownKey_NamesFileLineColumnPathAndSuggestion()
    {
        var e = Fails("""
            transformers:
              - table: public.a
                columns: { x: email }
              - table: public.b
                colums:
                  email: email
            """);

        Assert.Equal("replica.yaml", e.File);
        Assert.Equal(5, e.LineNumber);
        Assert.Equal(5, e.ColumnNumber);
        Assert.Equal("transformers[1].colums", e.Key);
        Assert.StartsWith("replica.yaml:5:5: 'transformers[1].colums': unknown key 'colums'", e.Message);
        Assert.Contains("did you mean 'columns'?", e.Message);
        Assert.Contains("accepted here: table, columns, data, drop", e.Message);
    }

    [Fact]
    public void Parse_UnknownTopLevelKey_SuggestsClosest()
    {
        var e = Fails("secrte: x\n");

        Assert.Equal(1, e.LineNumber);
        Assert.Equal(1, e.ColumnNumber);
        Assert.Equal("secrte", e.Key);
        Assert.Contains("did you mean 'secret'?", e.Message);
    }

    [Fact]
    public void Parse_UnknownKeyFarFromAll_HasNoSuggestionButListsAccepted()
    {
        var e = Fails("bridge: { local: { path: x }, qqqqqqqq: zstd }");

        Assert.Equal("bridge.qqqqqqqq", e.Key);
        Assert.DoesNotContain("did you mean", e.Message);
        Assert.Contains("accepted here: local, s3, chunk_size, workers, compression, encryption", e.Message);
    }

    [Fact]
    public void Parse_UnknownTransformer_ListsKnownNamesAndPath()
    {
        var e = Fails("""
            transformers:
              - table: customers
                columns:
                  email: emial
            """);

        Assert.Equal("transformers[0].columns.email", e.Key);
        Assert.Equal(4, e.LineNumber);
        Assert.Equal(14, e.ColumnNumber);
        Assert.Contains("unknown transformer 'emial'", e.Message);
        Assert.Contains("did you mean 'email'?", e.Message);
        Assert.Contains("known transformers: ", e.Message);
        Assert.Contains("date-shift, email,", e.Message);
    }

    [Fact]
    public void Parse_ColumnMappingWithoutTransformer_SaysWhatIsMissing()
    {
        var e = Fails("""
            transformers:
              - table: customers
                columns:
                  ssn: { unique: true }
            """);

        Assert.Equal("transformers[0].columns.ssn.transformer", e.Key);
        Assert.Contains("missing", e.Message);
    }

    [Theory]
    [InlineData("1048576", 1048576)]
    [InlineData("32MiB", 32L << 20)]
    [InlineData("32 MiB", 32L << 20)]
    [InlineData("5MB", 5_000_000)]
    [InlineData("1gib", 1L << 30)]
    public void Parse_ChunkSize_AcceptsBytesAndUnits(string text, long bytes)
    {
        var config = Parse($"bridge: {{ chunk_size: '{text}' }}");

        Assert.Equal(bytes, config.Bridge.ChunkSize);
    }

    [Fact]
    public void Parse_BridgeWorkers_ReadOrDefaultToNull()
    {
        Assert.Equal(3, Parse("bridge: { workers: 3 }").Bridge.Workers);
        Assert.Null(Parse("bridge: { chunk_size: 1MiB }").Bridge.Workers); // the chunker's default: cores, at most 4
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("many")]
    public void Parse_BridgeWorkersOutOfRange_IsPositionedAndSaysTheRange(string text)
    {
        var e = Fails($"bridge:\n  workers: {text}\n");

        Assert.Equal("bridge.workers", e.Key);
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("expected a whole number from 1 to 64", e.Message);
    }

    [Theory]
    [InlineData("32MiBs")]
    [InlineData("32M")]
    [InlineData("-1")]
    [InlineData("1.5GiB")]
    [InlineData("lots")]
    public void Parse_BadSize_IsPositionedAndSaysWhatIsAccepted(string text)
    {
        var e = Fails($"bridge:\n  chunk_size: {text}\n");

        Assert.Equal("bridge.chunk_size", e.Key);
        Assert.Equal(2, e.LineNumber);
        Assert.Equal(15, e.ColumnNumber);
        Assert.Contains($"'{text}' is not a size", e.Message);
        Assert.Contains("KiB, MiB, GiB", e.Message);
    }

    [Fact]
    public void Parse_SizeOutOfRange_SaysTheRange()
    {
        var e = Fails("limits: { max_row_size: 0 }");

        Assert.Equal("limits.max_row_size", e.Key);
        Assert.Contains("out of range", e.Message);
    }

    [Theory]
    [InlineData("a.b.c")]
    [InlineData("public.")]
    [InlineData("'\"unterminated'")]
    public void Parse_BadTablePattern_IsPositioned(string table)
    {
        var e = Fails($"transformers:\n  - table: {table}\n    columns: {{ x: email }}\n");

        Assert.Equal("transformers[0].table", e.Key);
        Assert.Equal(2, e.LineNumber);
        Assert.Equal(12, e.ColumnNumber);
        Assert.Contains("expected", e.Message);
        Assert.Contains("schema.table", e.Message);
    }

    [Fact]
    public void Parse_QuotedNames_AreExactAndBareNamesFold()
    {
        var config = Parse("""
            transformers:
              - table: '"Sales"."Orders"'
                columns:
                  '"Email"': email
                  Email: hash
              - table: Customers
                columns: { '"a.b"': redact }
            """);

        Assert.Equal(new TablePattern(new NamePattern("Sales"), new NamePattern("Orders")), config.Tables[0].Table);
        Assert.Equal(["Email", "email"], config.Tables[0].Columns.Select(c => c.Column.Name));
        Assert.Equal(new TablePattern(new NamePattern("public"), new NamePattern("customers")), config.Tables[1].Table);
        Assert.Equal("a.b", config.Tables[1].Columns[0].Column.Name);
    }

    [Fact]
    public void Parse_Wildcards_MatchAnySchemaTableOrColumn()
    {
        var config = Parse("""
            transformers:
              - table: '*.users'
                columns: { email: email }
              - table: 'audit.*'
                data: skip
              - table: '*'
                columns: { '*': redact }
            """);

        Assert.True(config.Tables[0].Table.Schema.IsAny);
        Assert.True(config.Tables[0].Table.Matches("crm", "users"));
        Assert.True(config.Tables[1].Table.Matches("audit", "anything"));
        Assert.False(config.Tables[1].Table.Matches("public", "anything"));
        Assert.Equal(new TablePattern(new NamePattern("public"), NamePattern.Any), config.Tables[2].Table);
        Assert.True(config.Tables[2].Columns[0].Column.IsAny);
    }

    [Fact]
    public void Parse_ColumnTwiceAfterFolding_IsAnError()
    {
        var e = Fails("""
            transformers:
              - table: customers
                columns:
                  email: email
                  EMAIL: hash
            """);

        Assert.Equal("transformers[0].columns.EMAIL", e.Key);
        Assert.Equal(5, e.LineNumber);
        Assert.Contains("already configured at replica.yaml:4:7", e.Message);
    }

    [Fact]
    public void Parse_ColumnsWithSkippedData_IsAnError()
    {
        var e = Fails("""
            transformers:
              - table: audit_log
                data: skip
                columns: { email: email }
            """);

        Assert.Equal("transformers[0].columns", e.Key);
        Assert.Contains("no effect with 'data: skip'", e.Message);
    }

    [Fact]
    public void Parse_DropWithData_IsAnError()
    {
        var e = Fails("transformers: [ { table: t, data: skip, drop: true } ]");

        Assert.Equal("transformers[0].drop", e.Key);
    }

    [Fact]
    public void Parse_DataValueOtherThanSkipOrKeep_SaysWhatIsAccepted()
    {
        var e = Fails("transformers: [ { table: t, data: drop } ]");

        Assert.Equal("transformers[0].data", e.Key);
        Assert.Contains("expected skip", e.Message);
        Assert.Contains("or keep", e.Message);
    }

    [Fact]
    public void Parse_YamlOneOneBoolean_IsRejectedWithReason()
    {
        var e = Fails("transformers: [ { table: t, drop: yes } ]");

        Assert.Contains("expected true or false", e.Message);
        Assert.Contains("YAML 1.1", e.Message);
    }

    [Fact]
    public void Parse_UnquotedStarWildcard_IsAPositionedYamlError()
    {
        // '*' starts a YAML alias, so wildcards must be quoted; the error must still say where.
        var e = Fails("transformers:\n  - table: *.users\n");

        Assert.Equal(2, e.LineNumber);
        Assert.Equal(12, e.ColumnNumber);
        Assert.Contains("quote wildcards: '*.users'", e.Message);
    }

    [Fact]
    public void Parse_InvalidYaml_IsPositioned()
    {
        var e = Fails("bridge:\n  local: { path: x\n");

        Assert.Equal("replica.yaml", e.File);
        Assert.True(e.LineNumber >= 2);
        Assert.Contains("not valid YAML", e.Message);
        Assert.DoesNotContain("Idx:", e.Message);
    }

    [Fact]
    public void Parse_DuplicateYamlKey_IsPositioned()
    {
        var e = Fails("locale: en\nlocale: de\n");

        Assert.Equal(2, e.LineNumber);
    }

    [Fact]
    public void Parse_EmptyFile_SaysSo()
    {
        var e = Fails("# nothing but a comment\n");

        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Parse_TopLevelList_IsRejected()
    {
        var e = Fails("- a\n- b\n");

        Assert.Contains("top level must be a mapping", e.Message);
    }

    [Fact]
    public void Parse_UnknownLocale_SuggestsBogusLocale()
    {
        var e = Fails("locale: en-US");

        Assert.Equal("locale", e.Key);
        Assert.Contains("did you mean 'en_US'?", e.Message);
    }

    /// <summary>
    /// pg_dump matches a bare table name in the search_path of its session (the role's or database's), which Replica's
    /// checks read as schema public: with search_path = app, exclude_table_data: [users] left app.users out and dumped
    /// public.users' rows in clear, while the checks passed.
    /// </summary>
    [Theory]
    [InlineData("tables: [users]", "source.tables[0]")]
    [InlineData("exclude_tables: [public.sessions, audit_log]", "source.exclude_tables[1]")]
    [InlineData("exclude_table_data: ['\"Users.Archive\"']", "source.exclude_table_data[0]")]
    public void Parse_PostgresSourceTablePatternWithoutSchema_IsRejectedAskingForSchemaTable(string filter, string key)
    {
        var e = Fails($"source:\n  connection_uri: postgres://app@db/shop\n  {filter}");

        Assert.Equal(key, e.Key);
        Assert.Contains("names no schema", e.Message);
        Assert.Contains("search_path", e.Message);
        Assert.Contains("write schema.table", e.Message);
    }

    [Fact]
    public void Parse_SourceTablePatternsWithoutSchema_AreKeptForMySqlAndWithoutSource()
    {
        Assert.Equal(["users"], Parse("source:\n  connection_uri: mysql://app@db/shop\n  exclude_table_data: [users]").Source.ExcludeTableData);
        Assert.Equal(["users"], Parse("source:\n  exclude_table_data: [users]").Source.ExcludeTableData);
        Assert.Equal(["public.users", "*.logs", "archive"], Parse(
            "source:\n  connection_uri: postgres://app@db/shop\n  tables: [public.users, '*.logs']\n  exclude_schemas: [archive]").Source.Tables
            .Concat(Parse("source:\n  connection_uri: postgres://app@db/shop\n  exclude_schemas: [archive]").Source.ExcludeSchemas));
    }

    [Fact]
    public void Parse_UnsupportedUriScheme_IsRejectedWithoutShowingPassword()
    {
        var e = Fails("source: { connection_uri: 'mongodb://root:hunter2@db/shop' }");

        Assert.Equal("source.connection_uri", e.Key);
        Assert.Contains("scheme is not supported", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void Parse_S3BridgeCompressionAndEncryption_AreRead()
    {
        var config = Parse("""
            bridge:
              s3:
                bucket: replica-dumps
                prefix: team-a/
                region: eu-west-1
                endpoint: http://127.0.0.1:9000
                force_path_style: true
                access_key_id: AKIA
                secret_access_key: s3cr3t
                retries: 3
              compression: { algorithm: gzip, level: 6 }
              encryption: { passphrase: correct-horse }
            """);

        var s3 = config.Bridge.S3!;
        Assert.Equal(("replica-dumps", "team-a/", "eu-west-1", "http://127.0.0.1:9000", true, 3), (s3.Bucket, s3.Prefix, s3.Region, s3.Endpoint, s3.ForcePathStyle, s3.Retries));
        Assert.Equal(("AKIA", "s3cr3t"), (s3.AccessKeyId, s3.SecretAccessKey));
        Assert.Equal(("gzip", 6), (config.Bridge.Compression.Algorithm, config.Bridge.Compression.Level));
        Assert.Equal("correct-horse", config.Bridge.Encryption!.Passphrase);
    }

    [Fact]
    public void Parse_VariableInsideFlowMapping_IsNotReadAsYamlBraces()
    {
        var config = Parse("""
            bridge:
              encryption: { passphrase: ${PASS}, }
              compression: { algorithm: ${ALG:-gzip} }
            """, Env(("PASS", "p}a{ss"), ("REPLICA_SECRET", Secret)));
        Assert.Equal("p}a{ss", config.Bridge.Encryption!.Passphrase);
        Assert.Equal("gzip", config.Bridge.Compression.Algorithm);
    }

    [Fact]
    public void Parse_BridgeDefaults_AreZstdLevelOneAndNoEncryption()
    {
        var config = Parse("locale: en\n");
        Assert.Equal("zstd", config.Bridge.Compression.Algorithm);
        Assert.Null(config.Bridge.Compression.Level);
        Assert.Null(config.Bridge.Encryption);
        Assert.Null(config.Bridge.S3);
    }

    [Theory]
    [InlineData("bridge:\n  s3: { bucket: b, prefix: team-a }\n", "bridge.s3.prefix", "must end with '/'")]
    [InlineData("bridge:\n  s3: { bucket: b, prefix: team-a/../team-b/ }\n", "bridge.s3.prefix", "'..' segment")]
    [InlineData("bridge:\n  s3: { bucket: b, prefix: ./ }\n", "bridge.s3.prefix", "'.' or '..' segment")]
    [InlineData("bridge:\n  s3: { bucket: b, prefix: 'team\\\\a/' }\n", "bridge.s3.prefix", "must not hold a '\\'")]
    [InlineData("bridge:\n  s3: { bucket: b, endpoint: ftp://x }\n", "bridge.s3.endpoint", "http://")]
    [InlineData("bridge:\n  s3: { bucket: b, access_key_id: a }\n", "bridge.s3", "both access_key_id and secret_access_key")]
    [InlineData("bridge:\n  local: { path: x }\n  s3: { bucket: b }\n", "bridge.s3", "either 'local' or 's3'")]
    [InlineData("bridge:\n  compression: { algorithm: lz4 }\n", "bridge.compression.algorithm", "zstd (the default), gzip or none")]
    [InlineData("bridge:\n  compression: { algorithm: gzip, level: 12 }\n", "bridge.compression.level", "from 1 to 9")]
    [InlineData("bridge:\n  encryption: { passphrase: a, key_file: k }\n", "bridge.encryption", "exactly one of passphrase, key, key_file or recipients")]
    [InlineData("bridge:\n  encryption: { passphrase: a, private_key_file: k }\n", "bridge.encryption.private_key_file", "goes with recipients")]
    public void Parse_BadBridgeSettings_ArePositionedErrors(string yaml, string key, string message)
    {
        var e = Fails(yaml);
        Assert.Equal(key, e.Key);
        Assert.Contains(message, e.Message);
        Assert.True(e.LineNumber > 0);
    }

    /// <summary>
    /// Regression: bridge.s3.endpoint with user-info was accepted, and its password appeared in the bridge's messages.
    /// </summary>
    [Fact]
    public void Parse_S3EndpointWithUserInfo_IsAnErrorThatDoesNotShowIt()
    {
        var e = Fails("bridge:\n  s3: { bucket: b, endpoint: 'http://user:TOPSECRETPW@127.0.0.1:47311' }\n");

        Assert.Equal("bridge.s3.endpoint", e.Key);
        Assert.Contains("must not hold a user name or password", e.Message);
        Assert.DoesNotContain("TOPSECRETPW", e.ToString());
    }

    [Fact]
    public void Parse_MergeKey_SaysItIsNotSupported()
    {
        var e = Fails("""
            bridge:
              local:
                <<: { path: x }
            """);

        Assert.Equal("bridge.local.<<", e.Key);
        Assert.Equal(3, e.LineNumber);
        Assert.Contains("merge keys", e.Message);
    }

    [Fact]
    public void Parse_OptionsNotAMapping_IsAnError()
    {
        var e = Fails("transformers: [ { table: t, columns: { a: { transformer: redact, options: [1, 2] } } } ]");

        Assert.Equal("transformers[0].columns.a.options", e.Key);
        Assert.Contains("expected a mapping of option: value", e.Message);
    }

    [Fact]
    public void Parse_TableEntryWithoutTable_SaysWhatIsMissing()
    {
        var e = Fails("transformers:\n  - columns: { a: email }\n");

        Assert.Equal("transformers[0].table", e.Key);
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Load_MissingFile_NamesThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), "replica-no-such-dir", "replica.yaml");

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, Known, Env()));

        Assert.Equal(path, e.File);
        Assert.StartsWith(path + ": config file not found", e.Message);
    }

    [Fact]
    public void Load_ExistingFile_ParsesItWithItsPath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"replica-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "bridge: { chunk_size: 1KiB }\ntransformers: [ { table: t, columns: { a: nope } } ]\n");
        try
        {
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, Known, Env(("REPLICA_SECRET", Secret))));

            Assert.StartsWith($"{path}:2:", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_RelativePaths_ResolveFromTheConfigFilesFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"replica-{Guid.NewGuid():N}", "conf");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "replica.yaml");
        File.WriteAllText(path, "bridge:\n  local: { path: ./dumps }\n  encryption: { key_file: ../keys/dump.key }\n");
        try
        {
            var config = ConfigLoader.Load(path, Known, Env(("REPLICA_SECRET", Secret)));

            Assert.Equal(Path.Combine(folder, "dumps"), config.Bridge.LocalPath);
            Assert.Equal(Path.Combine(Path.GetDirectoryName(folder)!, "keys", "dump.key"), config.Bridge.Encryption!.KeyFile);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
    }

    [Fact]
    public void Load_AbsoluteBridgePath_StaysAsWritten()
    {
        var path = Path.Combine(Path.GetTempPath(), $"replica-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "bridge: { local: { path: /var/lib/replica } }\n");
        try
        {
            Assert.Equal("/var/lib/replica", ConfigLoader.Load(path, Known, Env(("REPLICA_SECRET", Secret))).Bridge.LocalPath);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
