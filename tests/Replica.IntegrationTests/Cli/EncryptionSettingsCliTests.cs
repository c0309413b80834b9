using System.Security.Cryptography;

namespace Replica.IntegrationTests.Cli;

/// <summary>Weak encryption settings, as the real executable reports them.</summary>
public sealed class EncryptionSettingsCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>A key_file that others can read is used, with a warning on stderr that says how to fix it.</summary>
    [Fact]
    public async Task List_KeyFileOthersCanRead_WarnsWithChmod()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var keyFile = Path.Combine(_cli.WorkingDirectory, "bridge.key");
        await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var config = _cli.WriteConfig($"bridge:\n  local: {{ path: {_cli.BridgePath} }}\n  encryption: {{ key_file: {keyFile} }}\n", "key-file.yaml");

        var open = await _cli.RunAsync("list", "-c", config);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var closed = await _cli.RunAsync("list", "-c", config);

        Assert.True(open.ExitCode == 0, open.Stderr);
        Assert.Contains($"replica: warning: {config}:3: bridge.encryption.key_file {keyFile} can be read or written by users other than its owner (mode 0644)", open.Stderr, StringComparison.Ordinal);
        Assert.Contains($"chmod 600 {keyFile}", open.Stderr, StringComparison.Ordinal);
        Assert.True(closed.ExitCode == 0, closed.Stderr);
        Assert.DoesNotContain("warning", closed.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A new dump under a passphrase shorter than 12 characters is a config error (exit 2) before anything is stored.</summary>
    [Fact]
    public async Task Dump_ShortPassphrase_Exits2AndStoresNothing()
    {
        var config = _cli.WriteConfig($$"""
            secret: ${REPLICA_SECRET}
            bridge:
              local: { path: {{_cli.BridgePath}} }
              encryption: { passphrase: ${SHORT_PASS} }
            """, "short.yaml");
        var input = Path.Combine(_cli.WorkingDirectory, "input.sql");
        await File.WriteAllTextAsync(input, "CREATE TABLE public.t (a integer);\n");

        var result = await _cli.RunAsync(["dump", "-c", config, "--input", input, "--dialect", "PostgreSql", "--name", "short"], stdin: null,
            new Dictionary<string, string?> { ["SHORT_PASS"] = "hunter2" });

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains("bridge.encryption.passphrase", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("shorter than 12 characters", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.Stderr, StringComparison.Ordinal);
        _cli.AssertNoDumpFolder();
    }
}
