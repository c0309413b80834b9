using Replica.Config;
using Replica.Core.Tests.Config;
using Replica.Pipeline;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// The rules `replica dump` builds from a config: transformer options are bound to transformers here, not in the loader,
/// and their errors still name the file, line, column and key of the option, as the loader's own errors do.
/// </summary>
public sealed class DumpRequestTests
{
    static ConfigException BindFails(string yaml) =>
        Assert.Throws<ConfigException>(() => DumpRequest.BuildRules(ConfigTestHelpers.Parse(yaml)));

    [Fact]
    public void BuildRules_HashWithUnknownOption_NamesTheOptionsFileLineAndKey()
    {
        var e = BindFails("""
            secret: ${REPLICA_SECRET}
            transformers:
              - table: public.customers
                columns:
                  ssn:
                    transformer: hash
                    options:
                      encoding: hex
                      lenght: 8
            """);

        Assert.StartsWith(
            "replica.yaml:9:11: 'transformers[0].columns.ssn.options.lenght': transformer 'hash': option 'lenght' is unknown; it accepts encoding, length",
            e.Message);
        Assert.Equal(("replica.yaml", 9, 11, "transformers[0].columns.ssn.options.lenght"), (e.File, e.LineNumber, e.ColumnNumber, e.Key));
    }

    [Fact]
    public void BuildRules_HashWithBadLength_NamesTheLengthOptionInAFlowMapping()
    {
        var e = BindFails("""
            secret: ${REPLICA_SECRET}
            transformers:
              - table: public.customers
                columns:
                  email: email
                  ssn: { transformer: hash, options: { encoding: base64, length: 0 } }
            """);

        Assert.StartsWith(
            "replica.yaml:6:62: 'transformers[0].columns.ssn.options.length': transformer 'hash': option 'length' must be a whole number from 1 to 44, not '0'",
            e.Message);
    }

    [Fact]
    public void BuildRules_BadOptionFromAVariable_DoesNotShowTheValue()
    {
        var e = Assert.Throws<ConfigException>(() => DumpRequest.BuildRules(ConfigTestHelpers.Parse("""
            secret: ${REPLICA_SECRET}
            transformers:
              - table: public.customers
                columns:
                  ssn: { transformer: hash, options: { encoding: base64, length: "${HASH_LENGTH}" } }
                  email: { transformer: email, options: { domain: "${MAIL_DOMAIN}" } }
            """, ConfigTestHelpers.Env(("REPLICA_SECRET", ConfigTestHelpers.Secret), ("HASH_LENGTH", "hunter2"), ("MAIL_DOMAIN", "example.com")))));

        Assert.Contains("option 'length' must be a whole number from 1 to 44, not the value (from an environment variable, not shown)", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void BuildRules_RepliByteTransformerOptions_NameTheOptionsLineAndKey()
    {
        var config = ConfigLoader.Parse("""
            source:
              connection_uri: postgres://reader@localhost:5432/shop
              transformers:
                - database: public
                  table: customers
                  columns:
                    - name: phone
                      transformer_name: redacted
                      transformer_options:
                        character: '**'
            datastore:
              local_disk: { dir: ./bridge }
            """, "conf.yaml", ConfigTestHelpers.Known, ConfigTestHelpers.Env(("REPLICA_SECRET", ConfigTestHelpers.Secret)));

        var e = Assert.Throws<ConfigException>(() => DumpRequest.BuildRules(config));

        Assert.StartsWith(
            "conf.yaml:10:13: 'source.transformers[0].columns[0].transformer_options.character': transformer 'redact': option 'character' must be exactly one character, not '**'",
            e.Message);
    }

    [Fact]
    public void BuildRules_TransformerProblemNotOfAnOption_NamesTheTransformersLine()
    {
        var e = BindFails("""
            secret: ${REPLICA_SECRET}
            transformers:
              - table: public.customers
                columns:
                  ssn: { transformer: regex-replace }
            """);

        Assert.StartsWith("replica.yaml:5:12: transformer 'regex-replace': option 'pattern' is required", e.Message);
        Assert.Equal((5, 12), (e.LineNumber, e.ColumnNumber));
    }

    [Theory]
    [InlineData(0, "copy", "--jobs must be 1 or more, not 0")]
    [InlineData(2, "inserts", "a dump in parts (--jobs above 1) writes COPY blocks; data_format: inserts needs --jobs 1")]
    public async Task CreateAsync_JobsThatCannotBe_FailsSayingWhyBeforeConnecting(int jobs, string dataFormat, string message)
    {
        // Nothing listens on port 1: the check comes before any connection.
        var config = ConfigTestHelpers.Parse($"""
            source:
              connection_uri: postgres://reader@127.0.0.1:1/shop
              data_format: {dataFormat}
            """);

        var e = await Assert.ThrowsAsync<ConfigException>(() =>
            DumpRequest.CreateAsync(config, new DumpOptions { Jobs = jobs }, BridgeFactory.Local, CancellationToken.None));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_LiveSubsetAsInserts_FailsNamingTheSubsetNotJobs()
    {
        // A live subset reads from one snapshot with --jobs 1 too; the error said "--jobs above 1" to a user who gave none.
        var config = ConfigTestHelpers.Parse("""
            source:
              connection_uri: postgres://reader@127.0.0.1:1/shop
              data_format: inserts
            subset:
              roots:
                - table: public.customers
                  where: "id < 10"
            """);

        var e = await Assert.ThrowsAsync<ConfigException>(() =>
            DumpRequest.CreateAsync(config, new DumpOptions(), BridgeFactory.Local, CancellationToken.None));

        Assert.Contains("a subset of a live PostgreSQL database reads its tables with COPY from one snapshot", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--jobs", e.Message, StringComparison.Ordinal);
    }
}
