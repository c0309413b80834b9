using Replica.Config;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Config;

public class ConfigLoaderEnvironmentTests
{
    [Fact]
    public void Parse_EnvVariables_AreInterpolatedWithDefaultsAndDollarEscape()
    {
        var config = Parse("""
            secret: ${MY_SECRET}
            source:
              connection_uri: postgres://${DB_USER}:${DB_PASS}@${DB_HOST:-localhost}:${DB_PORT:-5432}/shop
            bridge:
              local: { path: "${BRIDGE_ROOT}/dumps/$$HOME" }
              chunk_size: ${CHUNK:-4MiB}
            """, Env(("MY_SECRET", Secret), ("DB_USER", "app"), ("DB_PASS", "p@ss"), ("DB_PORT", "6543"), ("BRIDGE_ROOT", "/srv")));

        Assert.Equal(Secret, config.Secret);
        Assert.Equal("postgres://app:p@ss@localhost:6543/shop", config.Source.ConnectionUri);
        Assert.Equal("/srv/dumps/$HOME", config.Bridge.LocalPath);
        Assert.Equal(4L << 20, config.Bridge.ChunkSize);
    }

    /// <summary>A value that came through a variable is not repeated when it is wrong (it may be a secret set in the wrong place).</summary>
    [Theory]
    [InlineData("policy: ${V}", "expected strict", "found 'hunter2-secret'")]
    [InlineData("locale: ${V}", "unknown locale", "unknown locale 'hunter2-secret'")]
    [InlineData("unmatched_rules: ${V}", "expected error", "found 'hunter2-secret'")]
    [InlineData("bridge: { compression: { algorithm: '${V}' } }", "expected zstd", "found 'hunter2-secret'")]
    [InlineData("bridge: { s3: { bucket: b, prefix: '${V}/../' } }", "is not a plain folder", "prefix 'hunter2-secret/../'")]
    [InlineData("source: { connection_uri: 'postgres://u@h/db', data_format: '${V}' }", "expected copy", "found 'hunter2-secret'")]
    public void Parse_BadValueFromAVariable_IsNotShown(string yaml, string expected, string writtenShows)
    {
        var ex = Fails(yaml, Env(("V", "hunter2-secret"), ("REPLICA_SECRET", Secret)));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("from an environment variable, not shown", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        // Written in the file, the same value is shown: the reader sees what to fix.
        Assert.Contains(writtenShows, Fails(yaml.Replace("${V}", "hunter2-secret", StringComparison.Ordinal)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DefaultIsUsedForEmptyVariable()
    {
        var config = Parse("bridge: { local: { path: '${DIR:-./fallback}' } }", Env(("DIR", "")));

        Assert.Equal(Path.GetFullPath("fallback"), config.Bridge.LocalPath);
    }

    [Fact]
    public void Parse_BareDollarNameAsWholeValue_IsAVariable()
    {
        var config = Parse("source: { connection_uri: $DATABASE_URL }", Env(("DATABASE_URL", "postgres://u@h/db")));

        Assert.Equal("postgres://u@h/db", config.Source.ConnectionUri);
    }

    [Fact]
    public void Parse_DollarInsideValue_IsLiteral()
    {
        var config = Parse("""
            transformers:
              - table: t
                columns:
                  meta: { transformer: json, options: { path: $.contact.email, price: 5$, escaped: $$NAME } }
            """);

        var options = config.Tables[0].Columns[0].Transformer.Options;
        Assert.Equal("$.contact.email", options["path"]);
        Assert.Equal("5$", options["price"]);
        Assert.Equal("$NAME", options["escaped"]);
    }

    [Fact]
    public void Parse_MissingVariable_NamesVariableKeyAndPosition()
    {
        var e = Fails("""
            source:
              connection_uri: postgres://u:${DB_PASSWORD}@h/db
            """, Env(("REPLICA_SECRET", Secret)));

        Assert.Equal("source.connection_uri", e.Key);
        Assert.Equal(2, e.LineNumber);
        Assert.Equal(19, e.ColumnNumber);
        Assert.Contains("environment variable DB_PASSWORD is not set", e.Message);
        Assert.Contains("${DB_PASSWORD:-default}", e.Message);
    }

    [Fact]
    public void Parse_MissingBareVariable_NamesIt()
    {
        var e = Fails("source: { connection_uri: $DATABASE_URL }", Env());

        Assert.Contains("environment variable DATABASE_URL is not set", e.Message);
    }

    [Theory]
    [InlineData("${}")]
    [InlineData("${1ABC}")]
    [InlineData("${A B}")]
    [InlineData("${OPEN")]
    public void Parse_MalformedReference_SaysWhatIsAccepted(string value)
    {
        var e = Fails($"bridge: {{ local: {{ path: '{value}' }} }}");

        Assert.Equal("bridge.local.path", e.Key);
        Assert.Contains("${NAME:-default}", e.Message);
    }

    [Fact]
    public void Parse_BadValueFromVariable_DoesNotShowTheValue()
    {
        var e = Fails("bridge: { chunk_size: '${CHUNK}' }", Env(("REPLICA_SECRET", Secret), ("CHUNK", "topsecret-value")));

        Assert.Equal("bridge.chunk_size", e.Key);
        Assert.Contains("not a size", e.Message);
        Assert.DoesNotContain("topsecret-value", e.Message);
    }

    [Fact]
    public void Parse_SecretKeyAbsent_ReadsReplicaSecretVariable()
    {
        var config = Parse("transformers: [ { table: t, columns: { a: email } } ]", Env(("REPLICA_SECRET", Secret)));

        Assert.Equal(Secret, config.Secret);
    }

    [Fact]
    public void Parse_NoSecretButColumnsMasked_SaysHowToSetIt()
    {
        var e = Fails("transformers: [ { table: t, columns: { a: email, b: hash } } ]", Env());

        Assert.Equal("secret", e.Key);
        Assert.Contains("no secret is configured, but 2 column(s)", e.Message);
        Assert.Contains("REPLICA_SECRET", e.Message);
        Assert.Contains("openssl rand", e.Message);
    }

    [Fact]
    public void Parse_SecretEmptyFromDefault_IsPositionedAtTheSecretKey()
    {
        var e = Fails("secret: ${REPLICA_SECRET:-}\ntransformers: [ { table: t, columns: { a: email } } ]\n", Env());

        Assert.Equal("secret", e.Key);
        Assert.Equal(1, e.LineNumber);
        Assert.Equal(9, e.ColumnNumber);
    }

    [Fact]
    public void Parse_NoSecretAndNoColumns_IsFine()
    {
        var config = Parse("transformers: [ { table: audit_log, data: skip } ]", Env());

        Assert.Equal("", config.Secret);
    }

    [Fact]
    public void Parse_ShortSecret_IsRejectedWithoutShowingIt()
    {
        var e = Fails("secret: shortpw1\n", Env());

        Assert.Equal("secret", e.Key);
        Assert.Contains("shorter than 16 characters", e.Message);
        Assert.DoesNotContain("shortpw1", e.Message);
    }

    [Theory]
    [InlineData("abcdefghijklmnop${")]
    [InlineData("${abcdefghijklmnop qrs}")]
    public void Parse_SecretWithBadReference_DoesNotShowTheSecretText(string secret)
    {
        var e = Fails($"secret: '{secret}'\n", Env());

        Assert.Equal("secret", e.Key);
        Assert.DoesNotContain("abcdefghijklmnop", e.Message);
    }
}

public class AfterRestoreConfigTests
{
    [Fact]
    public void Parse_AfterRestore_StatementsAndFiles_InOrderWithVariablesExpandedInBoth()
    {
        string file = Path.Combine(Path.GetTempPath(), $"replica-after-{Guid.NewGuid():N}.sql");
        File.WriteAllText(file, "UPDATE settings SET value = '${HOST}';\nDELETE FROM sessions;\n");
        try
        {
            var config = Parse(
                "destination:\n"
                + "  connection_uri: postgres://u@h/db\n"
                + "  after_restore:\n"
                + "    - UPDATE users SET url = 'https://${HOST}'\n"
                + $"    - {{ file: {file} }}\n",
                Env(("HOST", "staging.example.com")));

            Assert.Equal(
                [("UPDATE users SET url = 'https://staging.example.com'", "destination.after_restore[0]"),
                 ("UPDATE settings SET value = 'staging.example.com';\nDELETE FROM sessions;\n", $"destination.after_restore[1] (file {file})")],
                config.Destination.AfterRestore.Select(s => (s.Sql, s.Origin)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Parse_AfterRestoreAndSanitize_StepsCarryTheValuesOfTheirVariables()
    {
        string file = Path.Combine(Path.GetTempPath(), $"replica-after-{Guid.NewGuid():N}.sql");
        File.WriteAllText(file, "UPDATE settings SET value = '${API_TOKEN}' WHERE name = '${SHORT}';\n");
        try
        {
            var config = Parse(
                "destination:\n"
                + "  connection_uri: postgres://u@h/db\n"
                + "  after_restore:\n"
                + "    - UPDATE users SET token = '${API_TOKEN}', url = 'https://${HOST}', note = '${UNSET:-written-here}'\n"
                + $"    - {{ file: {file} }}\n"
                + "    - DELETE FROM sessions\n"
                + "sanitize:\n"
                + "  scratch_uri: postgres://u@h/scratch\n"
                + "  statements: [ \"DELETE FROM keys WHERE k = '${API_TOKEN}'\" ]\n",
                Env(("API_TOKEN", "tok_live_TOPSECRET_123"), ("HOST", "staging.example.com"), ("SHORT", "ab")));

            Assert.Equal(
                [["tok_live_TOPSECRET_123", "staging.example.com"], ["tok_live_TOPSECRET_123"], []],
                config.Destination.AfterRestore.Select(step => step.Secrets));
            Assert.Equal(["tok_live_TOPSECRET_123"], config.Sanitize!.Statements.Single().Secrets);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("- { file: /no/such/replica-after.sql }", "cannot read /no/such/replica-after.sql")]
    [InlineData("- { path: x.sql }", "unknown key 'path'")]
    [InlineData("- ''", "expected an SQL statement, found an empty string")]
    [InlineData("- UPDATE t SET a = '${MISSING}'", "MISSING")]
    public void Parse_AfterRestore_BadStep_IsAConfigErrorNamingIt(string step, string message)
    {
        var ex = Fails($"""
            destination:
              after_restore:
                {step}
            """, Env());

        Assert.Contains("after_restore[0]", ex.Message);
        Assert.Contains(message, ex.Message);
    }
}
