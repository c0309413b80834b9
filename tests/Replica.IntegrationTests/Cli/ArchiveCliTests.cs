namespace Replica.IntegrationTests.Cli;

/// <summary>
/// `replica export`, `restore --from-file`, `verify --from-file` and `import` as a user runs them: one machine exports,
/// another (its own working directory and empty bridge, the same secrets) restores or imports the file.
/// </summary>
public sealed class ArchiveCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();
    readonly ReplicaCli _other = new();

    public void Dispose()
    {
        _cli.Dispose();
        _other.Dispose();
    }

    static string SampleDump => TestPaths.Example("sample-dump.sql");

    string ArchivePath => Path.Combine(_cli.WorkingDirectory, "shop.replica");

    async Task<(string Config, string Name)> DumpAndExportAsync()
    {
        var config = _cli.WriteConfig();
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var export = await _cli.RunAsync("export", "-c", config, "--latest", "-o", ArchivePath);
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.Contains($"replica: exported {dump.Stdout.Trim()} (", export.Stderr, StringComparison.Ordinal);
        return (config, dump.Stdout.Trim());
    }

    [Fact]
    public async Task ExportThenRestoreFromFileElsewhere_GivesWhatTheBridgeRestores()
    {
        var (config, _) = await DumpAndExportAsync();
        var expected = Path.Combine(_cli.WorkingDirectory, "expected.sql");
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", config, "--latest", "-o", expected)).ExitCode);
        var archive = Path.Combine(_other.WorkingDirectory, "shop.replica");
        File.Copy(ArchivePath, archive);

        var verify = await _other.RunAsync("verify", "-c", _other.WriteConfig(), "--from-file", archive);
        var restore = await _other.RunAsync("restore", "-c", _other.WriteConfig(), "--from-file", archive, "-o", "restored.sql");

        Assert.True(verify.ExitCode == 0, verify.Stderr);
        Assert.Contains("is intact", verify.Stderr, StringComparison.Ordinal);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(File.ReadAllBytes(expected), File.ReadAllBytes(Path.Combine(_other.WorkingDirectory, "restored.sql")));
        Assert.False(Directory.Exists(_other.BridgePath), "restoring from a file touched the configured bridge");
    }

    [Fact]
    public async Task Import_ListsTheDumpUnderItsNameAndRestoresTheSame_ASecondImportIsRefused()
    {
        var (config, name) = await DumpAndExportAsync();
        var expected = Path.Combine(_cli.WorkingDirectory, "expected.sql");
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", config, "--latest", "-o", expected)).ExitCode);
        var otherConfig = _other.WriteConfig();

        var import = await _other.RunAsync("import", "-c", otherConfig, ArchivePath);
        var again = await _other.RunAsync("import", "-c", otherConfig, ArchivePath);
        var restore = await _other.RunAsync("restore", "-c", otherConfig, "--name", name, "-o", "restored.sql");

        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.Contains($"replica: imported {name} (", import.Stderr, StringComparison.Ordinal);
        Assert.Equal(4, again.ExitCode);
        Assert.Contains($"A dump named '{name}' already exists", again.Stderr, StringComparison.Ordinal);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(File.ReadAllBytes(expected), File.ReadAllBytes(Path.Combine(_other.WorkingDirectory, "restored.sql")));
    }

    [Fact]
    public async Task RestoreFromFile_DamagedArchive_Exits5AndWritesNothing()
    {
        await DumpAndExportAsync();
        byte[] bytes = File.ReadAllBytes(ArchivePath);
        // The last chunk's last byte before the padding and the end-of-archive blocks.
        int at = bytes.Length - 1024;
        while (bytes[at - 1] == 0)
        {
            at--;
        }
        bytes[at - 1] ^= 0x01;
        File.WriteAllBytes(ArchivePath, bytes);

        var restore = await _other.RunAsync("restore", "-c", _other.WriteConfig(), "--from-file", ArchivePath, "-o", "restored.sql");
        var import = await _other.RunAsync("import", "-c", _other.WriteConfig(), ArchivePath);

        Assert.Equal(5, restore.ExitCode);
        Assert.Contains("SHA-256", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_other.WorkingDirectory, "restored.sql")));
        Assert.Equal(5, import.ExitCode);
        Assert.DoesNotContain(Directory.EnumerateDirectories(_other.BridgePath), d => !Path.GetFileName(d).StartsWith('.'));
    }

    [Theory]
    [InlineData("export", "--latest", "no-such-name", "-o", "x.replica")]
    [InlineData("export", "--latest")]
    [InlineData("restore", "--from-file", "x.replica", "--latest")]
    [InlineData("verify", "--from-file", "")]
    public async Task UsageErrors_Exit1AndWriteNothing(params string[] args)
    {
        var result = await _cli.RunAsync([.. args, "-c", _cli.WriteConfig()]);

        Assert.Equal(1, result.ExitCode);
        Assert.False(File.Exists(Path.Combine(_cli.WorkingDirectory, "x.replica")));
    }

    [Fact]
    public async Task Export_UnknownDump_Exits4AndLeavesNoFile()
    {
        var config = _cli.WriteConfig();
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump)).ExitCode);

        var export = await _cli.RunAsync("export", "-c", config, "nightly-1", "-o", ArchivePath);

        Assert.Equal(4, export.ExitCode);
        Assert.Contains("There is no complete dump named 'nightly-1'", export.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_cli.WorkingDirectory, "*shop.replica*"));
    }
}
