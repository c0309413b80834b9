using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Cli;

/// <summary>
/// Inputs that once ended `replica` with a stack trace and SIGABRT (exit 134): each must end in one line on stderr and the
/// documented exit code. No database server is needed; a URI that would be connected to is refused before that.
/// </summary>
public sealed class CrashFreeCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static void AssertNoCrash(ProcessOutput result)
    {
        Assert.DoesNotContain("Unhandled exception", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.NotEqual(134, result.ExitCode);
    }

    string BridgeConfig(string extra = "") => _cli.WriteConfig($"""
        bridge:
          local: {"{"} path: {_cli.BridgePath} {"}"}
        {extra}
        """);

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public async Task Restore_EmptyOutputPath_IsAUsageError(string output)
    {
        var result = await _cli.RunAsync("restore", "-c", BridgeConfig(), "--latest", "--output", output);

        AssertNoCrash(result);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--output needs a file name", result.Stderr);
    }

    [Theory]
    [InlineData("scan", "postgres://u@localhost/db?sslkey=hunter2%00")]
    [InlineData("scan", "postgres://u@localhost/db?options=%00hunter2")]
    [InlineData("schema", "postgres://u@/db?host=%00hunter2")]
    [InlineData("scan", "mysql://u@localhost/db?token=hunter2")]
    public async Task SourceOption_UriParameterHoldingASecret_IsAConfigErrorWithoutTheSecret(string command, string uri)
    {
        var result = await _cli.RunAsync(command, "-c", BridgeConfig(), "--source", uri);

        AssertNoCrash(result);
        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain("hunter2", result.Stdout + result.Stderr);
    }

    /// <summary>
    /// A password with an unencoded '/' or '?' (the README's postgres://reader:${PGPASSWORD}@... with a base64 password)
    /// once became the port, the database or a parameter name, and the message about that part showed it. Nothing listens
    /// on port 1: the command fails to connect, or refuses the URI, without a piece of the password.
    /// </summary>
    [Theory]
    [InlineData("postgres://reader:{0}@127.0.0.1:1/shop", "Xq7Z/kW9vRt")]
    [InlineData("postgres://reader:{0}@127.0.0.1:1/shop", "55432?Zq9Wk=9")]
    [InlineData("mysql://root:{0}@127.0.0.1:1/shop", "Xq7Z/kW9vRt")]
    [InlineData("mysql://root:{0}@127.0.0.1:1/shop", "3306?Zq9Wk=9")]
    public async Task Schema_PasswordWithUnencodedSlashOrQuestionMark_IsNotShown(string template, string password)
    {
        var uri = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, password);
        var config = BridgeConfig("""
            source:
              connection_uri: ${SRC}
            """);

        var result = await _cli.RunAsync(["schema", "-c", config], stdin: null, new Dictionary<string, string?> { ["SRC"] = uri });

        AssertNoCrash(result);
        var output = result.Stdout + result.Stderr;
        for (var start = 0; start + 3 <= password.Length; start++)
        {
            Assert.DoesNotContain(password.Substring(start, 3), output.Replace("127.0.0.1:1", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("127.0.0.1:1", result.Stderr);
    }

    /// <summary>
    /// Passwords that libpq reads otherwise, as a well-formed URI: host reader, port 5432 and database kW9vRt@127.0.0.1:1/shop
    /// for the first; password Kp on host Zw for the second. Neither reading is guessed (each would send the password,
    /// or a piece of it, to a host it is not meant for): a config error that shows no piece of the URI.
    /// </summary>
    [Theory]
    [InlineData("postgres://reader:{0}@127.0.0.1:1/shop", "5432/kW9vRt")]
    [InlineData("postgres://reader:{0}@127.0.0.1:1/shop?sslmode=disable", "Kp@Zw/9x#Q:v")]
    [InlineData("mysql://root:{0}@127.0.0.1:1/shop", "Kp@Zw/9x#Q:v")]
    public async Task Schema_PasswordThatReadsTwoWays_IsRefusedWithoutAPieceOfIt(string template, string password)
    {
        var uri = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, password);
        var config = BridgeConfig("""
            source:
              connection_uri: ${SRC}
            """);

        var result = await _cli.RunAsync(["schema", "-c", config], stdin: null, new Dictionary<string, string?> { ["SRC"] = uri });

        AssertNoCrash(result);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("reads two ways", result.Stderr, StringComparison.Ordinal);
        for (var start = 0; start + 3 <= password.Length; start++)
        {
            Assert.DoesNotContain(password.Substring(start, 3), result.Stdout + result.Stderr, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("source", "dump")]
    [InlineData("destination", "restore")]
    public async Task ConfigUri_ParameterWithNulHoldingASecret_IsAConfigErrorWithoutTheSecret(string section, string command)
    {
        var config = BridgeConfig($"""
            secret: cli-test-secret-0123456789-abcdef
            {section}:
              connection_uri: postgres://u@localhost/db?options=%00hunter2
            """);

        var result = await _cli.RunAsync(command == "dump" ? ["dump", "-c", config] : ["restore", "-c", config, "--latest"]);

        AssertNoCrash(result);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("replica.yaml:", result.Stderr);
        Assert.DoesNotContain("hunter2", result.Stdout + result.Stderr);
    }

    [Theory]
    [InlineData("""{"dumps":[null]}""")]
    [InlineData("""{"version":1,"dumps":[null]}""")]
    [InlineData("""{"version":1,"dumps":[{"name":"../../etc","status":"complete","size_in":1,"size_out":1,"created_at":1,"compressed":false,"encrypted":false,"chunk_count":0}]}""")]
    [InlineData("""{"version":1,"dumps":[{"name":null}]}""")]
    [InlineData("[]")]
    [InlineData("null")]
    public async Task ListAndRestore_MalformedIndex_ExitWith4NamingTheIndex(string json)
    {
        var config = BridgeConfig();
        Directory.CreateDirectory(_cli.BridgePath);
        File.WriteAllText(Path.Combine(_cli.BridgePath, "index.json"), json);

        foreach (string[] arguments in new[] { ["list", "-c", config], ["restore", "-c", config, "--latest", "-o", "out.sql"], new[] { "delete", "-c", config, "--keep-last", "0" } })
        {
            var result = await _cli.RunAsync(arguments);

            AssertNoCrash(result);
            Assert.True(result.ExitCode == 4, $"replica {arguments[0]} exited {result.ExitCode}: {result.Stderr}");
            Assert.Contains(Path.Combine(_cli.BridgePath, "index.json"), result.Stderr);
        }
        Assert.False(File.Exists(Path.Combine(_cli.WorkingDirectory, "out.sql")));
    }

    [Fact]
    public async Task Restore_ManifestWithNullChunk_ExitsWith5NamingTheManifest()
    {
        var config = BridgeConfig("secret: cli-test-secret-0123456789-abcdef");
        var input = Path.Combine(_cli.WorkingDirectory, "in.sql");
        File.WriteAllText(input, "SELECT 1;\n");
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", input, "--name", "nightly");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var manifest = Path.Combine(_cli.BridgePath, "nightly", "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"chunks\": [", "\"chunks\": [null,", StringComparison.Ordinal));

        foreach (string[] arguments in new[] { ["restore", "-c", config, "--name", "nightly", "-o", "out.sql"], new[] { "verify", "-c", config, "--name", "nightly" } })
        {
            var result = await _cli.RunAsync(arguments);

            AssertNoCrash(result);
            Assert.True(result.ExitCode == 5, $"replica {arguments[0]} exited {result.ExitCode}: {result.Stderr}");
            Assert.Contains(manifest, result.Stderr);
        }
    }
}
