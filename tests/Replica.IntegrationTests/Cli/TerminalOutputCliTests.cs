using System.Text.Json.Nodes;

namespace Replica.IntegrationTests.Cli;

/// <summary>
/// Text that someone with write access to the bridge put there reaches the terminal as escapes, never as control
/// characters that drive it, through the real `replica` executable. No database needed.
/// </summary>
public sealed class TerminalOutputCliTests : IDisposable
{
    const string Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    // Sets the terminal's title, clears the screen and prints a fake green verdict; U+202E reverses what follows.
    const string Escapes = "\u001b]0;owned\u0007\u001b[2J\u001b[32mreplica: d1 is intact\u001b[0m\u202e";

    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static string SampleDump => TestPaths.Example("sample-dump.sql");

    string EncryptedConfig() => _cli.WriteConfig($$"""
        bridge:
          local: { path: {{_cli.BridgePath}} }
          chunk_size: 16KiB
          encryption: { key: {{Key}} }
        """, "encrypted.yaml");

    static void AssertNothingDrivesTheTerminal(string output)
    {
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain('\u0007', output);
        Assert.DoesNotContain('\u202e', output);
    }

    /// <summary>
    /// Found by review: an encryption header's algorithm went into the error message as it was, and `replica verify`
    /// wrote it to stderr raw: the bucket's writer set the title, cleared the screen and printed "d1 is intact".
    /// </summary>
    [Fact]
    public async Task Verify_HeaderWithTerminalEscapes_StderrShowsThemEscaped()
    {
        string config = EncryptedConfig();
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "d1");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        string manifest = Path.Combine(_cli.BridgePath, "d1", "manifest.json");
        var node = JsonNode.Parse(File.ReadAllText(manifest))!;
        node["encryption"]!["algorithm"] = Escapes;
        File.WriteAllText(manifest, node.ToJsonString());

        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "d1");

        Assert.Equal(5, verify.ExitCode);
        AssertNothingDrivesTheTerminal(verify.Stderr + verify.Stdout);
        Assert.Contains(@"'\x1b]0;owned\x07\x1b[2J\x1b[32mreplica: d1 is intact\x1b[0m\u202e'", verify.Stderr);
    }

    /// <summary>
    /// `replica list` into a pipe or a file (`replica list | grep nightly`) writes one line per dump with every value whole.
    /// It drew the terminal's table 80 columns wide there, wrapping a dump's name and time over several lines, so a grep
    /// for a name found nothing.
    /// </summary>
    [Fact]
    public async Task List_IntoAPipe_OneLinePerDumpWithItsWholeName()
    {
        string config = EncryptedConfig();
        string[] names = ["nightly-2026-12-06-full-shop-database", "nightly-2026-12-07-full-shop-database"];
        foreach (var name in names)
        {
            var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", name);
            Assert.True(dump.ExitCode == 0, dump.Stderr);
        }

        var list = await _cli.RunAsync("list", "-c", config);

        Assert.True(list.ExitCode == 0, list.Stderr);
        var lines = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches("^name +created \\(UTC\\) +size in +size out +chunks +compressed +encrypted$", lines[0]);
        for (int i = 0; i < names.Length; i++)
        {
            Assert.Matches($"^{names[i]} +\\d{{4}}-\\d{{2}}-\\d{{2}} \\d{{2}}:\\d{{2}}:\\d{{2}} +\\S+ KiB +\\S+ KiB +\\d+ +yes +yes$", lines[i + 1]);
        }
    }

    /// <summary>A dump name in index.json is refused by `replica list`, whose message quotes the character it refused.</summary>
    [Fact]
    public async Task List_IndexNameWithTerminalEscapes_StderrShowsThemEscaped()
    {
        string config = EncryptedConfig();
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "d1");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        string indexPath = Path.Combine(_cli.BridgePath, "index.json");
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!;
        index["dumps"]![0]!["name"] = "\u001b[2J";
        File.WriteAllText(indexPath, index.ToJsonString());

        var list = await _cli.RunAsync("list", "-c", config);

        Assert.Equal(4, list.ExitCode);
        AssertNothingDrivesTheTerminal(list.Stderr + list.Stdout);
        Assert.Contains(@"('\x1b')", list.Stderr);
    }

    /// <summary>
    /// A newline ends a line and is kept, so a value from the bridge quoted in an error message began a line of its
    /// own: an edited manifest's part kind (or compression) of "stream\nreplica: d1 is intact: ..." printed that forged
    /// verdict as a line of its own under `replica verify` (found by review). The message's further lines are indented.
    /// </summary>
    [Theory]
    [InlineData("kind")]
    [InlineData("compression")]
    public async Task Verify_ManifestValueWithNewline_ForgesNoLineOfItsOwn(string field)
    {
        string config = _cli.WriteConfig($$"""
            bridge:
              local: { path: {{_cli.BridgePath}} }
              compression: { algorithm: zstd }
            """, "plain.yaml");
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "d1");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        string manifest = Path.Combine(_cli.BridgePath, "d1", "manifest.json");
        var node = JsonNode.Parse(File.ReadAllText(manifest))!;
        const string Forged = "\nreplica: d1 is intact: 1 chunk in 1 part, 3.1 KiB of dump; manifest authenticated\n";
        if (field == "kind")
        {
            node["parts"]![0]!["kind"] = "stream" + Forged;
        }
        else
        {
            node["compression"] = "zstd" + Forged;
        }
        File.WriteAllText(manifest, node.ToJsonString());

        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "d1");

        Assert.NotEqual(0, verify.ExitCode);
        Assert.Contains("replica: d1 is intact", verify.Stderr);
        Assert.DoesNotContain(verify.Stderr.Split('\n'), line => line.StartsWith("replica: d1 is intact", StringComparison.Ordinal));
        Assert.StartsWith("replica: ", verify.Stderr, StringComparison.Ordinal);
    }
}
