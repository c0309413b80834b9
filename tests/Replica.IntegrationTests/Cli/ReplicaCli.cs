using System.Text;
using System.Text.Json;
using Replica.Bridges;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Cli;

/// <summary>Runs the real `replica` executable (built beside the tests) in a working directory of its own.</summary>
public sealed class ReplicaCli : IDisposable
{
    public ReplicaCli()
    {
        WorkingDirectory = TestPaths.CreateTempDirectory("replica-cli-");
        BridgePath = Path.Combine(WorkingDirectory, "bridge");
    }

    public string WorkingDirectory { get; }
    public string BridgePath { get; }
    public const string Secret = "cli-test-secret-0123456789-abcdef";

    static string Executable => Path.Combine(AppContext.BaseDirectory, "replica.dll");

    /// <summary>Writes a config from the quickstart's rules, pointed at this test's bridge, and returns its path.</summary>
    public string WriteConfig(string? body = null, string name = "replica.yaml")
    {
        body ??= File.ReadAllText(TestPaths.Example("replica.yaml"))
            .Replace("secret: ${REPLICA_SECRET:-replica-example-secret}", "secret: ${REPLICA_SECRET}")
            .Replace("path: ./replica-bridge", $"path: {BridgePath}");
        var path = Path.Combine(WorkingDirectory, name);
        File.WriteAllText(path, body);
        return path;
    }

    /// <summary>
    /// Writes a config that dumps <paramref name="connectionUri"/> into this test's bridge with one rule (the email column of
    /// <paramref name="maskedTable"/>), <paramref name="source"/> as more lines under source: and <paramref name="top"/> at
    /// the top level; returns its path (a new file each call).
    /// </summary>
    public string WriteLiveConfig(string connectionUri, string maskedTable, string source, string top = "") => WriteConfig($$"""
        secret: ${REPLICA_SECRET}
        {{top}}
        source:
          connection_uri: '{{connectionUri}}'
        {{source}}
        bridge:
          local:
            path: {{BridgePath}}
        transformers:
          - table: {{maskedTable}}
            columns:
              email: email
        """, $"config-{Guid.NewGuid():N}.yaml");

    /// <summary>
    /// Stores SQL in this test's local bridge as it is, one chunk per part (uncompressed, unencrypted), as someone with
    /// write access to the bridge could: what the restore's own checks must stop.
    /// </summary>
    public Task StoreRawDumpAsync(string name, params string[] chunks) => StoreRawDumpAsync(name, chunks.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <inheritdoc cref="StoreRawDumpAsync(string, string[])"/>
    public async Task StoreRawDumpAsync(string name, params byte[][] chunks)
    {
        var bridge = new LocalBridge(BridgePath);
        await using var writer = await bridge.BeginDumpAsync(name, CancellationToken.None);
        long size = 0;
        foreach (var bytes in chunks)
        {
            size += bytes.Length;
            await writer.WriteChunkAsync(bytes, CancellationToken.None);
        }
        await writer.CompleteAsync(new DumpSummary(size, "test", Compressed: false, Encrypted: false), CancellationToken.None);
    }

    public Task<ProcessOutput> RunAsync(params string[] arguments) => RunAsync(arguments, stdin: null);

    /// <summary>The names `replica list --json` prints for <paramref name="config"/>, which must succeed.</summary>
    public async Task<List<string>> ListedNamesAsync(string config)
    {
        var result = await RunAsync("list", "-c", config, "--json");
        Assert.Equal(0, result.ExitCode);
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToList();
    }

    /// <summary>A dump that failed left no folder in this test's local bridge.</summary>
    public void AssertNoDumpFolder() =>
        Assert.False(Directory.Exists(BridgePath) && Directory.EnumerateDirectories(BridgePath).Any(), "a failed dump left a folder in the bridge");

    public Task<ProcessOutput> RunAsync(string[] arguments, Stream? stdin) => RunAsync(arguments, stdin, environment: null);

    /// <summary>Runs replica with <paramref name="environment"/> added to REPLICA_SECRET.</summary>
    public Task<ProcessOutput> RunAsync(string[] arguments, Stream? stdin, IReadOnlyDictionary<string, string?>? environment) =>
        ProcessRunner.RunAsync("dotnet", [Executable, .. arguments],
            new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>()) { ["REPLICA_SECRET"] = Secret },
            stdin, throwOnError: false, workingDirectory: WorkingDirectory);

    /// <summary>
    /// Runs replica under <paramref name="tool"/> (e.g. strace and its <paramref name="toolArguments"/>), with REPLICA_SECRET
    /// set as <see cref="RunAsync(string[], Stream?, IReadOnlyDictionary{string, string?}?)"/> sets it.
    /// </summary>
    public Task<ProcessOutput> RunUnderAsync(string tool, string[] toolArguments, params string[] arguments) =>
        ProcessRunner.RunAsync(tool, [.. toolArguments, "dotnet", Executable, .. arguments],
            new Dictionary<string, string?> { ["REPLICA_SECRET"] = Secret }, stdin: null, throwOnError: false, workingDirectory: WorkingDirectory);

    public void Dispose()
    {
        try
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
