using System.Text;
using System.Text.Json;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Cli;

/// <summary>The `replica` executable end to end on the local bridge, as a user runs it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CliTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static string SampleDump => TestPaths.Example("sample-dump.sql");

    async Task<string> DumpAsync(string config, string input, params string[] extra)
    {
        var result = await _cli.RunAsync(["dump", "-c", config, "--input", input, .. extra]);
        Assert.True(result.ExitCode == 0, $"replica dump failed ({result.ExitCode}): {result.Stderr}");
        return result.Stdout.Trim();
    }

    async Task<List<JsonElement>> ListAsync(string config)
    {
        var result = await _cli.RunAsync("list", "-c", config, "--json");
        Assert.Equal(0, result.ExitCode);
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
    }

    [Fact]
    public async Task DumpListRestore_SampleDump_RestoresMaskedIntoPostgres()
    {
        var config = _cli.WriteConfig();
        var name = await DumpAsync(config, SampleDump);
        Assert.StartsWith("dump-", name);

        var dumps = await ListAsync(config);
        var entry = Assert.Single(dumps);
        Assert.Equal(name, entry.GetProperty("name").GetString());
        Assert.Equal("complete", entry.GetProperty("status").GetString());
        Assert.Equal(new FileInfo(SampleDump).Length, entry.GetProperty("size_in").GetInt64());

        var restoredPath = Path.Combine(_cli.WorkingDirectory, "restored.sql");
        var restore = await _cli.RunAsync("restore", "-c", config, "--latest", "--output", restoredPath);
        Assert.True(restore.ExitCode == 0, restore.Stderr);

        var db = await server.CreateDatabaseAsync();
        var psql = await server.RunPsqlFileAsync(db, restoredPath);
        Assert.True(psql.ExitCode == 0, psql.Stderr);
        var emails = await server.QueryAsync(db, "SELECT email FROM public.customers");
        var originalDb = await server.CreateDatabaseAsync();
        Assert.Equal(0, (await server.RunPsqlFileAsync(originalDb, SampleDump)).ExitCode);
        var originals = (await server.QueryAsync(originalDb, "SELECT email FROM public.customers")).Select(r => r[0]).ToHashSet();
        Assert.Equal(originals.Count, emails.Count);
        Assert.DoesNotContain(emails, e => originals.Contains(e[0]));
        // Skipped table: schema kept, rows gone.
        Assert.Equal("0", (await server.QueryAsync(db, "SELECT count(*) FROM public.audit_log"))[0][0]);
        // Unmasked data survives: order totals are equal.
        Assert.Equal(
            (await server.QueryAsync(originalDb, "SELECT sum(total)::text FROM public.orders"))[0][0],
            (await server.QueryAsync(db, "SELECT sum(total)::text FROM public.orders"))[0][0]);
    }

    [Fact]
    public async Task Dump_Twice_GivesTheSameMaskedBytes()
    {
        var config = _cli.WriteConfig();
        var first = await DumpAsync(config, SampleDump, "--name", "first");
        var second = await DumpAsync(config, SampleDump, "--name", "second");
        var a = Path.Combine(_cli.WorkingDirectory, "a.sql");
        var b = Path.Combine(_cli.WorkingDirectory, "b.sql");
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", config, "--name", first, "-o", a)).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", config, "--name", second, "-o", b)).ExitCode);
        Assert.Equal(await File.ReadAllBytesAsync(a), await File.ReadAllBytesAsync(b));
        Assert.NotEqual(await File.ReadAllBytesAsync(SampleDump), await File.ReadAllBytesAsync(a));
    }

    [Fact]
    public async Task Dump_MalformedInput_ExitsWithPositionAndKeepsEarlierDumps()
    {
        var config = _cli.WriteConfig();
        var good = await DumpAsync(config, SampleDump, "--name", "good");
        var text = await File.ReadAllTextAsync(SampleDump);
        // Cut the dump in the middle of the customers COPY block.
        var cut = text.IndexOf("\n3\t", text.IndexOf("COPY public.customers", StringComparison.Ordinal), StringComparison.Ordinal) + 3;
        var broken = Path.Combine(_cli.WorkingDirectory, "broken.sql");
        await File.WriteAllTextAsync(broken, text[..cut]);

        var result = await _cli.RunAsync("dump", "-c", config, "--input", broken, "--name", "broken");
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("public.customers", result.Stderr);
        Assert.Contains("row 3", result.Stderr);
        Assert.Contains("byte offset", result.Stderr);
        Assert.Contains("line", result.Stderr);

        var dumps = await ListAsync(config);
        Assert.Equal(["good"], dumps.Select(d => d.GetProperty("name").GetString()!));
        Assert.False(Directory.Exists(Path.Combine(_cli.BridgePath, "broken")), "the failed dump left its folder behind");
        var restored = Path.Combine(_cli.WorkingDirectory, "good.sql");
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", config, "--name", good, "-o", restored)).ExitCode);

        // A wrong field count in a row is also positioned.
        var wrong = Path.Combine(_cli.WorkingDirectory, "wrong.sql");
        await File.WriteAllTextAsync(wrong, text.Replace("\n2\t", "\n2\textra\t"));
        var wrongResult = await _cli.RunAsync("dump", "-c", config, "--input", wrong);
        Assert.Equal(3, wrongResult.ExitCode);
        Assert.Contains("row 2", wrongResult.Stderr);
        Assert.Contains("fields, expected", wrongResult.Stderr);
    }

    [Fact]
    public async Task Dump_ConfigTypo_ExitsWith2NamingFileLineAndKey()
    {
        var config = _cli.WriteConfig($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            bridge:
              local: {"{"} path: {_cli.BridgePath} {"}"}
            transformers:
              - table: public.customers
                colums:
                  email: email
            """);
        var result = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("replica.yaml:6:", result.Stderr);
        Assert.Contains("colums", result.Stderr);
        Assert.False(Directory.Exists(_cli.BridgePath) && Directory.EnumerateDirectories(_cli.BridgePath).Any(), "a dump was written despite the config error");
    }

    [Fact]
    public async Task Dump_Secret_NeverAppearsInOutputIndexOrManifest()
    {
        var config = _cli.WriteConfig();
        var result = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "secret-check");
        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain(ReplicaCli.Secret, result.Stdout + result.Stderr);
        foreach (var file in Directory.EnumerateFiles(_cli.BridgePath, "*.json", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(ReplicaCli.Secret, await File.ReadAllTextAsync(file));
        }
    }

    [Fact]
    public async Task Dump_SixteenConcurrentProcesses_AllListedComplete()
    {
        var config = _cli.WriteConfig();
        var runs = Enumerable.Range(1, 16).Select(i => _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", $"parallel-{i}", "--quiet")).ToList();
        var results = await Task.WhenAll(runs);
        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Stderr));
        var names = (await ListAsync(config)).Select(d => d.GetProperty("name").GetString()!).Order().ToList();
        Assert.Equal(Enumerable.Range(1, 16).Select(i => $"parallel-{i}").Order().ToList(), names);
    }

    [Fact]
    public async Task Restore_CorruptedChunk_FailsAndLeavesTheOutputFileAsItWas()
    {
        var config = _cli.WriteConfig();
        var name = await DumpAsync(config, SampleDump, "--name", "to-corrupt");
        var chunk = Directory.EnumerateFiles(Path.Combine(_cli.BridgePath, name), "*.chunk").Order().First();
        var bytes = await File.ReadAllBytesAsync(chunk);
        bytes[bytes.Length / 2] ^= 0x20;
        await File.WriteAllBytesAsync(chunk, bytes);

        var output = Path.Combine(_cli.WorkingDirectory, "existing.sql");
        await File.WriteAllTextAsync(output, "previous content");
        var result = await _cli.RunAsync("restore", "-c", config, "--latest", "--output", output);
        Assert.Equal(5, result.ExitCode);
        Assert.Contains("000000", result.Stderr);
        Assert.Equal("previous content", await File.ReadAllTextAsync(output));
        Assert.Empty(Directory.EnumerateFiles(_cli.WorkingDirectory, "*.partial"));
    }

    /// <summary>A restored dump holds data: `restore --output` over a file kept private left it 0644 (the rename of its temporary file).</summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Restore_OverAPrivateFile_KeepsItPrivate()
    {
        var config = _cli.WriteConfig();
        await DumpAsync(config, SampleDump);
        var output = Path.Combine(_cli.WorkingDirectory, "private.sql");
        await File.WriteAllTextAsync(output, "previous content");
        File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var result = await _cli.RunAsync("restore", "-c", config, "--latest", "--output", output);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.NotEqual("previous content", await File.ReadAllTextAsync(output));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output));
    }

    [Fact]
    public async Task Restore_PartialsOfKilledRestores_AreRemovedOnceTheirProcessIsGone()
    {
        var config = _cli.WriteConfig();
        await DumpAsync(config, SampleDump);
        var output = Path.Combine(_cli.WorkingDirectory, "restored.sql");
        // Left by restores killed with -9: the old name (.NAME.PID.partial), the new one with a random part, and one of a
        // process that still runs (this test's), which must stay.
        var gone = int.MaxValue - 1;
        var stale = new[] { $".restored.sql.{gone}.partial", $".restored.sql.{gone}.0a1b2c3d4e5f.partial" };
        var live = $".restored.sql.{Environment.ProcessId}.00aa11bb22cc.partial";
        var other = $".other.sql.{gone}.partial";
        foreach (var name in stale.Append(live).Append(other))
        {
            await File.WriteAllTextAsync(Path.Combine(_cli.WorkingDirectory, name), "half a dump");
        }

        var result = await _cli.RunAsync("restore", "-c", config, "--latest", "--output", output);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists(output));
        var left = Directory.EnumerateFiles(_cli.WorkingDirectory, ".*.partial").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(new[] { other, live }.Order(), left);
    }

    [Fact]
    public async Task Restore_ThroughASymlinkedTemporaryName_NeverWritesThroughIt()
    {
        var config = _cli.WriteConfig();
        await DumpAsync(config, SampleDump);
        var victim = Path.Combine(_cli.WorkingDirectory, "victim.txt");
        await File.WriteAllTextAsync(victim, "untouched");
        // The temporary name of the old scheme was predictable, .NAME.PID.partial: a symlink there was followed. Plant one
        // for each of the next process ids.
        var last = int.Parse(await File.ReadAllTextAsync("/proc/sys/kernel/ns_last_pid"), System.Globalization.CultureInfo.InvariantCulture);
        for (var pid = last + 1; pid < last + 3000; pid++)
        {
            File.CreateSymbolicLink(Path.Combine(_cli.WorkingDirectory, $".restored.sql.{pid}.partial"), victim);
        }

        var result = await _cli.RunAsync("restore", "-c", config, "--latest", "--output", Path.Combine(_cli.WorkingDirectory, "restored.sql"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("untouched", await File.ReadAllTextAsync(victim));
    }

    [Fact]
    public async Task Restore_ToAClosedPipe_FailsWithAnIoError()
    {
        var config = _cli.WriteConfig($"bridge:\n  local:\n    path: {_cli.BridgePath}\n");
        var input = Path.Combine(_cli.WorkingDirectory, "big.sql");
        await File.WriteAllTextAsync(input, string.Concat(Enumerable.Range(0, 40_000).Select(i => $"INSERT INTO t VALUES ({i}, 'row {i}');\n")));
        await DumpAsync(config, input);
        var replica = Path.Combine(AppContext.BaseDirectory, "replica.dll");

        // `replica restore | head -c 100`: head exits after 100 bytes, and the rest of the 1 MB cannot be written.
        var result = await ProcessRunner.RunAsync("bash", ["-c", $"dotnet '{replica}' restore -c '{config}' --latest | head -c 100 > /dev/null; exit ${{PIPESTATUS[0]}}"],
            new Dictionary<string, string?>(), throwOnError: false, workingDirectory: _cli.WorkingDirectory);

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("Broken pipe", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_WipeWithOutput_IsAUsageError()
    {
        var config = _cli.WriteConfig();
        var result = await _cli.RunAsync("restore", "-c", config, "--latest", "--output", "x.sql", "--wipe", "schemas", "--yes");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--wipe applies to a restore into a database", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cli.WorkingDirectory, "x.sql")));
    }

    [Fact]
    public async Task Dump_FromStdin_AndDeleteKeepLast()
    {
        var config = _cli.WriteConfig();
        for (var i = 1; i <= 3; i++)
        {
            await using var input = File.OpenRead(SampleDump);
            var result = await _cli.RunAsync(["dump", "-c", config, "--input", "-", "--name", $"stdin-{i}"], input);
            Assert.True(result.ExitCode == 0, result.Stderr);
        }
        var dryRun = await _cli.RunAsync("delete", "-c", config, "--keep-last", "1", "--dry-run");
        Assert.Equal(0, dryRun.ExitCode);
        Assert.Contains("would delete stdin-1", dryRun.Stdout);
        Assert.Equal(3, (await ListAsync(config)).Count);
        Assert.Equal(0, (await _cli.RunAsync("delete", "-c", config, "--keep-last", "1")).ExitCode);
        Assert.Equal(["stdin-3"], (await ListAsync(config)).Select(d => d.GetProperty("name").GetString()!));

        var nothing = await _cli.RunAsync("delete", "-c", config, "--keep-last", "1", "--dry-run");
        Assert.Equal(0, nothing.ExitCode);
        Assert.Contains("would delete nothing", nothing.Stdout);
        Assert.Contains("1 dump kept", nothing.Stdout);
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("delete", "stdin-1", "--keep-last", "1")]
    [InlineData("delete", "--older-than", "14x")]
    [InlineData("delete", "--keep-last", "-1")]
    [InlineData("delete", "--abandoned", "stdin-1")]
    [InlineData("delete", "--abandoned", "--stale-after", "3x")]
    public async Task Delete_UsageErrors_ExitWith1AndTouchNothing(params string[] args)
    {
        var config = _cli.WriteConfig();
        await using (var input = File.OpenRead(SampleDump))
        {
            Assert.Equal(0, (await _cli.RunAsync(["dump", "-c", config, "--input", "-", "--name", "stdin-1"], input)).ExitCode);
        }

        var result = await _cli.RunAsync([.. args, "-c", config]);

        Assert.Equal(1, result.ExitCode);
        Assert.Single(await ListAsync(config));
    }

    [Fact]
    public async Task Dump_OneChunk_SaysChunkNotChunks()
    {
        var config = _cli.WriteConfig();

        var result = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(", 1 chunk,", result.Stderr);
    }

    [Fact]
    public async Task RestoreHelp_WipeValues_AreLowerCaseAsInTheReadme()
    {
        var result = await _cli.RunAsync("restore", "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--wipe <schemas|database|none>", result.Stdout);
        Assert.DoesNotContain("Schemas", result.Stdout);
    }

    [Fact]
    public async Task Help_ConfigDefault_IsPrintedOnce()
    {
        var result = await _cli.RunAsync("dump", "--help");

        Assert.Equal(0, result.ExitCode);
        var configLine = result.Stdout.Split('\n').Single(l => l.Contains("--config", StringComparison.Ordinal));
        Assert.Equal(1, configLine.Split("replica.yaml").Length - 1);
    }

    [Fact]
    public async Task Transformers_ListsEveryBuiltIn()
    {
        var result = await _cli.RunAsync("transformers");
        Assert.Equal(0, result.ExitCode);
        foreach (var name in new[] { "transient", "null", "constant", "redact", "keep-first-char", "hash", "random", "first-name", "last-name", "full-name", "email", "phone-number", "credit-card", "street-address", "city", "country", "company", "username", "ip-address", "uuid", "date-shift", "number-noise", "regex-replace", "template", "json", "custom" })
        {
            Assert.Contains(name, result.Stdout);
        }
    }
}
