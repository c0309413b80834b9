using Replica.Clients;
using Replica.Config;

namespace Replica.Core.Tests.Clients;

public sealed class ToolProcessTests
{
    [Fact]
    public async Task WaitForSuccess_FailedTool_ScrubsEverySecretFromItsError()
    {
        // As psql repeats a failed statement: "LINE 1: UPDATE settingz SET api_token = '<the value of ${VAR}>'".
        await using var tool = ToolProcess.Start("/bin/sh",
            ["-c", "echo 'psql: password hunter2 rejected' >&2; echo \"LINE 1: UPDATE settingz SET api_token = 'tok_live_TOPSECRET_123'\" >&2; exit 3"],
            new Dictionary<string, string>(), ChildEnvironment.WithoutConfig, ["hunter2", null, "tok_live_TOPSECRET_123", "TOPSECRET"]);

        var ex = await Assert.ThrowsAsync<DatabaseException>(() => tool.WaitForSuccessAsync(CancellationToken.None));

        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("TOPSECRET", ex.Message, StringComparison.Ordinal);
        Assert.Contains("LINE 1: UPDATE settingz SET api_token = '********'", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// psql cuts the statement it repeats ("LINE 1: ...6789abcdefXYZ...QRSTUV' || bogus_colu..."), so a long secret shows
    /// in part, with no whole occurrence to replace: no run of 8 of its characters may remain.
    /// </summary>
    [Fact]
    public void Scrub_SecretCutByTheTool_LeavesNoPieceOfIt()
    {
        const string secret = "sk_live_0123456789abcdefXYZ0123456789abcdefghijklmnopQRSTUVWXYZ0123456789abcdefgh";
        var text = $"ERROR:  column \"bogus\" does not exist\nLINE 1: ...{secret[20..67]}' || bogus_colu...\n"
            + $"ERROR 1062 (23000) at line 1: Duplicate entry '{secret[..64]}' for key 'PRIMARY'\nnear '{secret[70..]}";

        var scrubbed = ToolProcess.Scrub(text, [secret, "hunter2"]);

        for (var start = 0; start + ToolProcess.MinPieceLength <= secret.Length; start++)
        {
            Assert.DoesNotContain(secret.Substring(start, ToolProcess.MinPieceLength), scrubbed, StringComparison.Ordinal);
        }
        Assert.Equal("ERROR:  column \"bogus\" does not exist\nLINE 1: ...********' || bogus_colu...\n"
            + "ERROR 1062 (23000) at line 1: Duplicate entry '********' for key 'PRIMARY'\nnear '********", scrubbed);
        Assert.Equal("no secret here", ToolProcess.Scrub("no secret here", [secret]));
    }

    /// <summary>
    /// Found by review: pg_dump, psql, mysqldump and mysql got replica's whole environment, with the bridge passphrase
    /// and the masking secret that the config read from it. Now a variable the config read (${VAR}) and replica's own
    /// (REPLICA_*) stay behind; what replica sets for the tool (PGPASSWORD from the URI) and the user's other variables
    /// reach it. The names are this test's own, so that tests running beside it see nothing change.
    /// </summary>
    [Fact]
    public async Task Start_VariablesTheConfigRead_NotInTheToolsEnvironment()
    {
        var id = Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        string read = "CHILDENV_PASS_" + id, own = "REPLICA_CHILDENV_" + id, other = "CHILDENV_OTHER_" + id, cloud = "AWS_CHILDENV_" + id;
        const string passphrase = "bridge-passphrase-0123456789";
        Environment.SetEnvironmentVariable(read, passphrase);
        Environment.SetEnvironmentVariable(own, "replica-own-value");
        Environment.SetEnvironmentVariable(other, "kept-value");
        // Found by review: the S3 bridge's credentials (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN ...) reached the tools.
        Environment.SetEnvironmentVariable(cloud, "aws-secret-value");
        try
        {
            var config = ConfigLoader.Parse($$"""
                secret: masking-secret-0123456789abcdef
                bridge:
                  local: { path: ./bridge }
                  encryption: { passphrase: ${{{read}}} }
                """, "replica.yaml", [], Environment.GetEnvironmentVariable);

            var text = await ToolProcess.RunAsync("/bin/sh", ["-c", "env"], new Dictionary<string, string> { ["PGPASSWORD"] = "from-the-uri" },
                config.ChildEnvironment, null, CancellationToken.None);

            var lines = text.Split('\n');
            Assert.DoesNotContain(passphrase, text, StringComparison.Ordinal);
            Assert.DoesNotContain(lines, line => line.StartsWith(read + "=", StringComparison.Ordinal) || line.StartsWith(own + "=", StringComparison.Ordinal));
            Assert.DoesNotContain("aws-secret-value", text, StringComparison.Ordinal);
            Assert.Contains(other + "=kept-value", lines);
            Assert.Contains("PGPASSWORD=from-the-uri", lines);
            Assert.Contains(lines, line => line.StartsWith("PATH=", StringComparison.Ordinal));
        }
        finally
        {
            Environment.SetEnvironmentVariable(read, null);
            Environment.SetEnvironmentVariable(own, null);
            Environment.SetEnvironmentVariable(other, null);
            Environment.SetEnvironmentVariable(cloud, null);
        }
    }

    /// <summary>
    /// The client tools' own settings (PGSSLMODE, MYSQL_HOST ...) stay with them also when the config reads them, as do
    /// the basics (HOME in a bridge path); their passwords (PGPASSWORD, MYSQL_PWD) do not, once the config read them.
    /// </summary>
    [Fact]
    public void HidesFromTools_ToolSettingsAndBasicsKept_PasswordsAndOtherReadVariablesNot()
    {
        var env = new Dictionary<string, string> { ["PGSSLMODE"] = "require", ["HOME"] = "/home/u", ["PGPASSWORD"] = "p", ["MYSQL_PWD"] = "m", ["DB_PASS"] = "d" };
        var config = ConfigLoader.Parse("""
            secret: masking-secret-0123456789abcdef
            source:
              connection_uri: postgres://u:${PGPASSWORD}@db/x?sslmode=${PGSSLMODE}
            destination:
              connection_uri: mysql://u:${MYSQL_PWD}${DB_PASS}@db/x
            bridge:
              local: { path: ${HOME}/bridge }
            """, "replica.yaml", [], name => env.GetValueOrDefault(name));
        var hidden = config.ChildEnvironment;

        Assert.False(hidden.HidesFromTools("PGSSLMODE"));
        Assert.False(hidden.HidesFromTools("HOME"));
        Assert.False(hidden.HidesFromTools("PGHOST"));
        Assert.True(hidden.HidesFromTools("PGPASSWORD"));
        Assert.True(hidden.HidesFromTools("MYSQL_PWD"));
        Assert.True(hidden.HidesFromTools("DB_PASS"));
        Assert.True(hidden.HidesFromTools("REPLICA_SECRET"));
        Assert.False(hidden.HidesFromTools("OTHER_VARIABLE"));
        Assert.False(ChildEnvironment.WithoutConfig.HidesFromTools("PGPASSWORD"));
        Assert.True(ChildEnvironment.WithoutConfig.HidesFromTools("REPLICA_PASSPHRASE"));
    }

    /// <summary>
    /// Found by review: the cloud credentials replica's S3 bridge may use (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) reached
    /// pg_dump, psql, mysqldump and mysql, which have no use for them; so did other clouds' (Azure's, Google's key file).
    /// They stay behind with or without a config, read by it or not.
    /// </summary>
    [Theory]
    [InlineData("AWS_ACCESS_KEY_ID")]
    [InlineData("AWS_SECRET_ACCESS_KEY")]
    [InlineData("AWS_SESSION_TOKEN")]
    [InlineData("AWS_PROFILE")]
    [InlineData("AWS_WEB_IDENTITY_TOKEN_FILE")]
    [InlineData("AZURE_STORAGE_KEY")]
    [InlineData("AZURE_CLIENT_SECRET")]
    [InlineData("GOOGLE_APPLICATION_CREDENTIALS")]
    public void HidesFromTools_CloudCredentials_Hidden(string name)
    {
        var config = ConfigLoader.Parse("""
            secret: masking-secret-0123456789abcdef
            bridge:
              local: { path: ./bridge }
            """, "replica.yaml", [], _ => null);
        var environment = new Dictionary<string, string?> { [name] = "cloud-secret", ["PGHOST"] = "db", ["PATH"] = "/bin" };

        config.ChildEnvironment.ForTool(environment);

        Assert.Equal(["PATH", "PGHOST"], environment.Keys.Order(StringComparer.Ordinal));
        Assert.True(ChildEnvironment.WithoutConfig.HidesFromTools(name));
    }
}
