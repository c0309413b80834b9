using System.Text.Json.Nodes;

namespace Replica.IntegrationTests.Cli;

/// <summary>
/// The bridge stays inside its directory and its manifests are what they claim, as a user sees it through the real
/// `replica` executable: links planted in the bridge, key names with paths, edited manifests. No database needed.
/// </summary>
public sealed class BridgeSafetyCliTests : IDisposable
{
    const string Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static string SampleDump => TestPaths.Example("sample-dump.sql");

    string EncryptedConfig(string bridge) => _cli.WriteConfig($$"""
        bridge:
          local: { path: {{bridge}} }
          chunk_size: 16KiB
          compression: { algorithm: zstd }
          encryption: { key: {{Key}} }
        """, "encrypted.yaml");

    [Fact]
    public async Task Keygen_NameWithPath_ExitsWith1AndWritesNothingOutsideOut()
    {
        string outDir = Directory.CreateDirectory(Path.Combine(_cli.WorkingDirectory, "a", "b", "keys")).FullName;

        var result = await _cli.RunAsync("keygen", "--out", outDir, "--name", "../../x");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not a plain file name", result.Stderr);
        Assert.Empty(Directory.EnumerateFiles(_cli.WorkingDirectory, "*.pem", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task DeleteAndDump_DumpFolderIsLinkToOutside_ExitWith4AndDeleteNothingOutside()
    {
        var config = _cli.WriteConfig();
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "listed")).ExitCode);
        string outside = Directory.CreateDirectory(Path.Combine(_cli.WorkingDirectory, "outside")).FullName;
        string precious = Path.Combine(outside, "precious.txt");
        await File.WriteAllTextAsync(precious, "precious");
        string listed = Path.Combine(_cli.BridgePath, "listed");
        Directory.Delete(listed, recursive: true);
        Directory.CreateSymbolicLink(listed, outside);
        string victim = Path.Combine(_cli.BridgePath, "victim");
        Directory.CreateSymbolicLink(victim, outside);

        var delete = await _cli.RunAsync("delete", "-c", config, "listed");
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "victim");

        Assert.Equal(4, delete.ExitCode);
        Assert.Contains("symbolic link", delete.Stderr);
        Assert.Contains(listed, delete.Stderr);
        Assert.Equal(4, dump.ExitCode);
        Assert.Contains("symbolic link", dump.Stderr);
        Assert.Contains(victim, dump.Stderr);
        Assert.Equal("precious", await File.ReadAllTextAsync(precious));
        Assert.Single(Directory.EnumerateFileSystemEntries(outside));
    }

    /// <summary>
    /// Reads do not go through links (found by review): a chunk linked to a file outside the bridge made the error give
    /// that file's size, a linked manifest its first byte, and a chunk linked to a FIFO made verify hang. Now each is
    /// refused naming the link, and a FIFO is never opened.
    /// </summary>
    [Theory]
    [InlineData("chunk")]
    [InlineData("manifest")]
    [InlineData("fifo")]
    public async Task VerifyRestore_FileOfTheDumpIsLinkOrFifo_RefusedWithoutReadingIt(string planted)
    {
        var config = _cli.WriteConfig();
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "d")).ExitCode);
        string folder = Path.Combine(_cli.BridgePath, "d");
        string outside = Path.Combine(_cli.WorkingDirectory, "outside-secret.txt");
        await File.WriteAllTextAsync(outside, "r" + new string('x', 12344));
        string target = planted == "manifest"
            ? Path.Combine(folder, "manifest.json")
            : Directory.EnumerateFiles(folder, "*.chunk").Order(StringComparer.Ordinal).First();
        File.Delete(target);
        if (planted == "fifo")
        {
            using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [target]);
            await mkfifo.WaitForExitAsync();
        }
        else
        {
            File.CreateSymbolicLink(target, outside);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "d").WaitAsync(timeout.Token);
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "d", "--output", Path.Combine(_cli.WorkingDirectory, "out.sql")).WaitAsync(timeout.Token);

        foreach (var run in new[] { verify, restore })
        {
            Assert.NotEqual(0, run.ExitCode);
            Assert.DoesNotContain("12345", run.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("'r'", run.Stderr, StringComparison.Ordinal);
            if (planted != "fifo")
            {
                Assert.Equal(4, run.ExitCode);
                Assert.Contains("symbolic link", run.Stderr, StringComparison.Ordinal);
            }
        }
        Assert.False(File.Exists(Path.Combine(_cli.WorkingDirectory, "out.sql")));
    }

    [Fact]
    public async Task VerifyRestore_EncryptedManifestLastChunkDropped_ExitWith5AndWriteNothing()
    {
        string bridge = Path.Combine(_cli.WorkingDirectory, "enc");
        var config = EncryptedConfig(bridge);
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "enc")).ExitCode);
        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "enc");
        Assert.True(verify.ExitCode == 0, verify.Stderr);
        Assert.Contains("manifest authenticated", verify.Stderr);

        string manifestPath = Path.Combine(bridge, "enc", "manifest.json");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!.AsObject();
        var chunks = manifest["chunks"]!.AsArray();
        Assert.True(chunks.Count >= 2, "the sample dump should take several 16 KiB chunks");
        long lastSize = chunks[^1]!["size"]!.GetValue<long>();
        chunks.RemoveAt(chunks.Count - 1);
        manifest["size_out"] = manifest["size_out"]!.GetValue<long>() - lastSize;
        // The counts fixed everywhere (bridge format v2: the one part's chunk_count too): only the tag gives the edit away.
        manifest["parts"]![0]!["chunk_count"] = chunks.Count;
        await File.WriteAllTextAsync(manifestPath, manifest.ToJsonString());

        var edited = await _cli.RunAsync("verify", "-c", config, "--name", "enc");
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "enc");

        Assert.Equal(5, edited.ExitCode);
        Assert.Contains("chunks_tag", edited.Stderr);
        Assert.Equal(5, restore.ExitCode);
        Assert.Equal("", restore.Stdout);
    }

    /// <summary>
    /// Someone who can write to an unencrypted bridge replaces a chunk by a small zstd frame that decodes to far more
    /// than the dump's chunk size, its SHA-256 and size put in the manifest: restore and verify decoded it up to 1 GiB
    /// per chunk, each of their workers + 2 lanes holding one (found by review: four 30 KiB chunks of spaces took
    /// `replica restore` to 7.1 GB of RSS). A chunk decodes to at most bridge.chunk_size (at least 4 MiB) now.
    /// </summary>
    [Fact]
    public async Task VerifyRestore_ChunkDecompressesFarBeyondChunkSize_ExitWith5AndWriteNothing()
    {
        string bridge = Path.Combine(_cli.WorkingDirectory, "plain");
        var config = _cli.WriteConfig($$"""
            bridge:
              local: { path: {{bridge}} }
              chunk_size: 16KiB
              compression: { algorithm: zstd }
            """, "plain.yaml");
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "bomb")).ExitCode);
        string manifestPath = Path.Combine(bridge, "bomb", "manifest.json");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!;
        var chunk = manifest["chunks"]![0]!;
        // 64 MiB of spaces (whitespace to the SQL lexer), well beyond 16 KiB and the 4 MiB floor: ~2 KiB stored.
        byte[] spaces = new byte[64 << 20];
        spaces.AsSpan().Fill((byte)' ');
        var frame = new System.Buffers.ArrayBufferWriter<byte>();
        using (var zstd = new Replica.Codecs.ZstdCodec())
        {
            zstd.Encode(spaces, 0, isLast: false, frame);
        }
        await File.WriteAllBytesAsync(Path.Combine(bridge, "bomb", chunk["key"]!.GetValue<string>()), frame.WrittenSpan.ToArray());
        long sizeOut = manifest["size_out"]!.GetValue<long>() - chunk["size"]!.GetValue<long>() + frame.WrittenCount;
        chunk["size"] = frame.WrittenCount;
        chunk["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(frame.WrittenSpan));
        manifest["size_out"] = sizeOut;
        await File.WriteAllTextAsync(manifestPath, manifest.ToJsonString());
        string indexPath = Path.Combine(bridge, "index.json");
        var index = JsonNode.Parse(await File.ReadAllTextAsync(indexPath))!;
        index["dumps"]![0]!["size_out"] = sizeOut;
        await File.WriteAllTextAsync(indexPath, index.ToJsonString());
        string output = Path.Combine(_cli.WorkingDirectory, "out.sql");

        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "bomb");
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "bomb", "-o", output);

        Assert.True(verify.ExitCode == 5, verify.Stderr);
        Assert.Contains("decompresses to more than 4194304 bytes", verify.Stderr);
        Assert.Contains("bridge.chunk_size", verify.Stderr);
        Assert.True(restore.ExitCode == 5, restore.Stderr);
        Assert.Contains("decompresses to more than 4194304 bytes", restore.Stderr);
        Assert.False(File.Exists(output));
    }

    /// <summary>
    /// A manifest naming a compression Replica does not write was edited (or is another tool's): an integrity failure
    /// (exit 5) naming the dump, not a config error (exit 2) asking to change a setting (found by review).
    /// </summary>
    [Fact]
    public async Task VerifyRestore_ManifestNamesAnUnknownCompression_ExitWith5NamingTheDump()
    {
        string config = _cli.WriteConfig();
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "edited")).ExitCode);
        string manifestPath = Path.Combine(_cli.BridgePath, "edited", "manifest.json");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!;
        manifest["compression"] = "lz4";
        manifest["compressed"] = true;
        await File.WriteAllTextAsync(manifestPath, manifest.ToJsonString());
        string output = Path.Combine(_cli.WorkingDirectory, "out.sql");

        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "edited");
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "edited", "-o", output);

        foreach (var result in new[] { verify, restore })
        {
            Assert.True(result.ExitCode == 5, result.Stderr);
            Assert.Contains("dump 'edited': its manifest names the compression 'lz4'", result.Stderr);
        }
        Assert.False(File.Exists(output));
    }

    /// <summary>
    /// The reader's chunk_size bounds a chunk's decoded size only where the chunks could be anyone's: a dump encrypted with
    /// the bridge's key is authenticated chunk by chunk, so one written with 8 MiB chunks restores under the default
    /// 4 MiB; unencrypted, the same dump needs chunk_size raised, and the message says so.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Restore_ChunksLargerThanTheReadersChunkSize_ReadWhenEncryptedWithTheKey(bool encrypted)
    {
        string bridge = Path.Combine(_cli.WorkingDirectory, "big-chunks");
        string Config(string chunkSize, string name) => _cli.WriteConfig($$"""
            bridge:
              local: { path: {{bridge}} }
              {{chunkSize}}
              compression: { algorithm: zstd }
              {{(encrypted ? $"encryption: {{ key: {Key} }}" : "")}}
            """, name);
        string input = Path.Combine(_cli.WorkingDirectory, "comments.sql");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 120_000).Select(i => $"-- line {i}: {new string('x', 80)}"));
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", Config("chunk_size: 8MiB", "writer.yaml"), "--input", input, "--name", "big")).ExitCode);
        string output = Path.Combine(_cli.WorkingDirectory, "out.sql");

        var restore = await _cli.RunAsync("restore", "-c", Config("", "reader.yaml"), "--name", "big", "-o", output);

        if (encrypted)
        {
            Assert.True(restore.ExitCode == 0, restore.Stderr);
            Assert.Equal(await File.ReadAllBytesAsync(input), await File.ReadAllBytesAsync(output));
        }
        else
        {
            Assert.True(restore.ExitCode == 5, restore.Stderr);
            Assert.Contains("then set bridge.chunk_size to at least their size", restore.Stderr);
            Assert.False(File.Exists(output));
        }
    }

    /// <summary>
    /// index.json may hold ~900,000 entries within its 128 MiB: `replica list` drew them all as one table in memory
    /// (8.3 GB of RSS for 930,000) and --json built the whole text first (1.2 GB), found by review. Both now write a
    /// dump at a time; here the GC heap is held to 256 MiB, where 200,000 entries did not fit before.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task List_IndexOfManyDumps_WritesThemWithinAFewHundredMiB(bool json)
    {
        const int Dumps = 200_000;
        string bridge = Path.Combine(_cli.WorkingDirectory, "many");
        Directory.CreateDirectory(bridge);
        var entries = Enumerable.Range(0, Dumps).Select(i =>
            $$"""{"name":"dump-{{i}}","status":"complete","size_in":1,"size_out":1,"created_at":{{i}},"compressed":false,"encrypted":false,"chunk_count":1}""");
        await File.WriteAllTextAsync(Path.Combine(bridge, "index.json"), $$"""{"version":1,"dumps":[{{string.Join(',', entries)}}]}""");
        var config = _cli.WriteConfig($$"""
            bridge:
              local: { path: {{bridge}} }
            """, "many.yaml");

        var list = await _cli.RunAsync(json ? ["list", "-c", config, "--json"] : ["list", "-c", config], stdin: null,
            new Dictionary<string, string?> { ["DOTNET_GCHeapHardLimit"] = "0x10000000" });

        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains(json ? "\"name\": \"dump-199999\"" : "dump-199999", list.Stdout);
        Assert.Equal(Dumps + (json ? 0 : 1), list.Stdout.Split('\n').Count(l => l.Contains("dump-", StringComparison.Ordinal) || l.Contains("name", StringComparison.Ordinal)));
    }

    /// <summary>
    /// index.json is not the manifest: an older dump's created_at moved ahead in it made `restore --latest` restore that
    /// dump, and a dump copied under another name (folder, manifest name and index entry) restored and verified as
    /// "manifest authenticated" (found by review). Both are refused now, naming the dump and what does not match.
    /// </summary>
    [Fact]
    public async Task RestoreLatestAndVerify_IndexEntryEditedOrDumpCopiedUnderAnotherName_ExitWith5AndWriteNothing()
    {
        string bridge = Path.Combine(_cli.WorkingDirectory, "enc");
        var config = EncryptedConfig(bridge);
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "old")).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "new")).ExitCode);
        string indexPath = Path.Combine(bridge, "index.json");
        var index = JsonNode.Parse(await File.ReadAllTextAsync(indexPath))!;
        var dumps = index["dumps"]!.AsArray();
        JsonNode Entry(string name) => dumps.Single(d => d!["name"]!.GetValue<string>() == name)!;
        Entry("old")["created_at"] = Entry("new")["created_at"]!.GetValue<long>() + 60_000;
        var copy = Entry("new").DeepClone();
        copy["name"] = "copy";
        dumps.Add(copy);
        await File.WriteAllTextAsync(indexPath, index.ToJsonString());
        Directory.CreateDirectory(Path.Combine(bridge, "copy"));
        foreach (string file in Directory.EnumerateFiles(Path.Combine(bridge, "new")))
        {
            File.Copy(file, Path.Combine(bridge, "copy", Path.GetFileName(file)));
        }
        string copiedManifest = Path.Combine(bridge, "copy", "manifest.json");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(copiedManifest))!;
        manifest["name"] = "copy";
        await File.WriteAllTextAsync(copiedManifest, manifest.ToJsonString());

        var latest = await _cli.RunAsync("restore", "-c", config, "--latest");
        var verifyLatest = await _cli.RunAsync("verify", "-c", config, "--latest");
        var copied = await _cli.RunAsync("restore", "-c", config, "--name", "copy");
        var verifyCopied = await _cli.RunAsync("verify", "-c", config, "--name", "copy");
        var verifyNew = await _cli.RunAsync("verify", "-c", config, "--name", "new");

        Assert.Equal(5, latest.ExitCode);
        Assert.Equal("", latest.Stdout);
        Assert.Contains("'old'", latest.Stderr);
        Assert.Contains("created_at", latest.Stderr);
        Assert.Equal(5, verifyLatest.ExitCode);
        Assert.Contains("created_at", verifyLatest.Stderr);
        Assert.Equal(5, copied.ExitCode);
        Assert.Equal("", copied.Stdout);
        Assert.Contains("'copy'", copied.Stderr);
        Assert.Equal(5, verifyCopied.ExitCode);
        Assert.Contains("chunks_tag", verifyCopied.Stderr);
        Assert.DoesNotContain(Key, latest.Stderr + verifyLatest.Stderr + copied.Stderr + verifyCopied.Stderr);
        Assert.True(verifyNew.ExitCode == 0, verifyNew.Stderr);
        Assert.Contains("manifest authenticated, with the name, created_at and sizes its index entry matched", verifyNew.Stderr);
    }

    /// <summary>
    /// Someone who can write to an encrypted bridge but has no key dumps their own SQL there with a config without
    /// encryption: it is the newest dump. `restore --latest` restored it and exited 0 (found by review); now restore and
    /// verify exit 5 naming it, unless --allow-unencrypted; a bridge configured without encryption restores it as before.
    /// </summary>
    [Fact]
    public async Task RestoreLatestAndVerify_UnencryptedDumpOnEncryptedBridge_ExitWith5UnlessAllowUnencrypted()
    {
        string bridge = Path.Combine(_cli.WorkingDirectory, "enc");
        var config = EncryptedConfig(bridge);
        var plain = _cli.WriteConfig($$"""
            bridge:
              local: { path: {{bridge}} }
              chunk_size: 16KiB
              compression: { algorithm: zstd }
            """, "plain.yaml");
        string forgedSql = Path.Combine(_cli.WorkingDirectory, "forged.sql");
        await File.WriteAllTextAsync(forgedSql, "CREATE TABLE public.forged (id integer);\nINSERT INTO public.forged VALUES (42);\n");
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "genuine")).ExitCode);
        var forging = await _cli.RunAsync("dump", "-c", plain, "--input", forgedSql, "--name", "forged");
        Assert.True(forging.ExitCode == 0, forging.Stderr);

        var restore = await _cli.RunAsync("restore", "-c", config, "--latest");
        var verify = await _cli.RunAsync("verify", "-c", config, "--latest");
        var allowed = await _cli.RunAsync("restore", "-c", config, "--latest", "--allow-unencrypted");
        var verifyAllowed = await _cli.RunAsync("verify", "-c", config, "--latest", "--allow-unencrypted");
        var withoutEncryption = await _cli.RunAsync("restore", "-c", plain, "--latest");
        var help = await _cli.RunAsync("restore", "--help");

        Assert.Equal(5, restore.ExitCode);
        Assert.Equal("", restore.Stdout);
        Assert.Contains("dump 'forged' is not encrypted, although bridge.encryption is set", restore.Stderr);
        Assert.Equal(5, verify.ExitCode);
        Assert.Contains("dump 'forged' is not encrypted", verify.Stderr);
        Assert.DoesNotContain(Key, restore.Stderr + verify.Stderr);
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.Contains("INSERT INTO public.forged VALUES (42);", allowed.Stdout);
        Assert.True(verifyAllowed.ExitCode == 0, verifyAllowed.Stderr);
        Assert.Contains("not encrypted", verifyAllowed.Stderr);
        Assert.True(withoutEncryption.ExitCode == 0, withoutEncryption.Stderr);
        Assert.Contains("INSERT INTO public.forged VALUES (42);", withoutEncryption.Stdout);
        Assert.Contains("--allow-unencrypted", help.Stdout);
    }

    [Fact]
    public async Task Verify_EncryptedDumpWrittenBeforeTags_SaysManifestNotAuthenticated()
    {
        string fixture = Path.Combine(TestPaths.RepositoryRoot, "tests", "Replica.Core.Tests", "Pipeline", "Fixtures", "pre-tag-bridge");
        string bridge = Path.Combine(_cli.WorkingDirectory, "old");
        foreach (string file in Directory.EnumerateFiles(fixture, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(bridge, Path.GetRelativePath(fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var config = EncryptedConfig(bridge);

        // Header version 1: its index entry is not authenticated either, so it is read only with --allow-legacy.
        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "pre-tag", "--allow-legacy");

        Assert.True(verify.ExitCode == 0, verify.Stderr);
        Assert.Contains("5 chunks", verify.Stderr);
        Assert.Contains("manifest not authenticated (written before", verify.Stderr);
    }

    static string BridgeFixtures => Path.Combine(TestPaths.RepositoryRoot, "tests", "Replica.Core.Tests", "Bridges", "Fixtures");

    /// <summary>A copy of Fixtures/v3-header-bridge (encryption header version 3) and a config with its test-only key.</summary>
    (string Bridge, string Config) CopyV3Fixture()
    {
        string fixture = Path.Combine(BridgeFixtures, "v3-header-bridge");
        string bridge = Path.Combine(_cli.WorkingDirectory, "v3");
        foreach (string file in Directory.EnumerateFiles(fixture, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(bridge, Path.GetRelativePath(fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        // The key as a user keeps it, readable by its owner only (a clone checks the fixture out 0644: a warning).
        string key = Path.Combine(_cli.WorkingDirectory, "v1-test.key");
        File.Copy(Path.Combine(BridgeFixtures, "v1-test.key"), key);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return (bridge, _cli.WriteConfig($$"""
            bridge:
              local: { path: {{bridge}} }
              chunk_size: 16KiB
              compression: { algorithm: zstd }
              encryption: { key_file: {{key}} }
            """, "v3.yaml"));
    }

    const string LegacyRefusal = "dump 'v3-header-aes' has encryption header version 3 (before 4): its index entry (name and date) cannot be authenticated";
    const string LegacyWarning = "replica: warning: dump 'v3-header-aes' has encryption header version 3: its index entry (name and date) was not authenticated (--allow-legacy)";

    static int Occurrences(string text, string part) => text.Split(part).Length - 1;

    /// <summary>
    /// A dump of encryption header version 3 (the committed fixture): its index entry (name, created_at) is not covered
    /// by its tag, so restore, verify and export exit 5 naming it and its header version unless --allow-legacy, which
    /// reads it byte for byte and warns once on stderr.
    /// </summary>
    [Fact]
    public async Task RestoreVerifyExport_HeaderVersion3Fixture_ExitWith5UnlessAllowLegacy()
    {
        (_, string config) = CopyV3Fixture();
        string archive = Path.Combine(_cli.WorkingDirectory, "v3.replica");

        var restore = await _cli.RunAsync("restore", "-c", config, "--latest");
        var restoreByName = await _cli.RunAsync("restore", "-c", config, "--name", "v3-header-aes");
        var verify = await _cli.RunAsync("verify", "-c", config, "--latest");
        var export = await _cli.RunAsync("export", "-c", config, "--latest", "-o", archive);
        bool exportedWithout = File.Exists(archive);
        var allowed = await _cli.RunAsync("restore", "-c", config, "--latest", "--allow-legacy");
        var verifyAllowed = await _cli.RunAsync("verify", "-c", config, "--name", "v3-header-aes", "--allow-legacy");
        var exportAllowed = await _cli.RunAsync("export", "-c", config, "v3-header-aes", "-o", archive, "--allow-legacy");
        var fromFile = await _cli.RunAsync("restore", "-c", config, "--from-file", archive);

        foreach (var refused in new[] { restore, restoreByName, verify, export, fromFile })
        {
            Assert.True(refused.ExitCode == 5, refused.Stderr);
            Assert.Contains(LegacyRefusal, refused.Stderr);
            Assert.Contains("pass --allow-legacy", refused.Stderr);
        }
        Assert.Equal("", restore.Stdout);
        Assert.False(exportedWithout);
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(BridgeFixtures, "v1.sql")), allowed.Stdout);
        foreach (var warned in new[] { allowed, verifyAllowed, exportAllowed })
        {
            Assert.True(warned.ExitCode == 0, warned.Stderr);
            Assert.Equal(1, Occurrences(warned.Stderr, LegacyWarning));
        }
        Assert.Contains("its index entry (name, created_at, sizes) is not covered", verifyAllowed.Stderr);
        foreach (string command in new[] { "restore", "verify", "export", "import", "share", "leakcheck" })
        {
            Assert.Contains("--allow-legacy", (await _cli.RunAsync(command, "--help")).Stdout);
        }
    }

    /// <summary>
    /// The attack the refusal stops: someone who can write to the bridge, without the key, moves the older (header
    /// version 3) dump's created_at past the newest dump's, in index.json and in its manifest (its tag does not cover
    /// it). restore --latest restored the older dump, exit 0 (found by review); now it still picks that entry and exits 5
    /// naming it, and the newest dump (header version 4) restores by name without the flag and without a warning.
    /// </summary>
    [Fact]
    public async Task RestoreLatest_V3DumpDatedAheadOfNewestDump_ExitWith5NamingIt()
    {
        (string bridge, string config) = CopyV3Fixture();
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "newest")).ExitCode);
        string indexPath = Path.Combine(bridge, "index.json");
        var index = JsonNode.Parse(await File.ReadAllTextAsync(indexPath))!;
        var dumps = index["dumps"]!.AsArray();
        long ahead = dumps.Max(d => d!["created_at"]!.GetValue<long>()) + 60_000;
        dumps.Single(d => d!["name"]!.GetValue<string>() == "v3-header-aes")!["created_at"] = ahead;
        await File.WriteAllTextAsync(indexPath, index.ToJsonString());
        string manifestPath = Path.Combine(bridge, "v3-header-aes", "manifest.json");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!;
        manifest["created_at"] = ahead;
        await File.WriteAllTextAsync(manifestPath, manifest.ToJsonString());

        var latest = await _cli.RunAsync("restore", "-c", config, "--latest");
        var newest = await _cli.RunAsync("restore", "-c", config, "--name", "newest");
        var verifyNewest = await _cli.RunAsync("verify", "-c", config, "--name", "newest");

        Assert.Equal(5, latest.ExitCode);
        Assert.Contains(LegacyRefusal, latest.Stderr);
        Assert.Equal("", latest.Stdout);
        Assert.True(newest.ExitCode == 0, newest.Stderr);
        Assert.Equal(await File.ReadAllTextAsync(SampleDump), newest.Stdout);
        Assert.DoesNotContain("warning", newest.Stderr + verifyNewest.Stderr);
        Assert.True(verifyNewest.ExitCode == 0, verifyNewest.Stderr);
        Assert.Contains("manifest authenticated, with the name, created_at and sizes its index entry matched", verifyNewest.Stderr);
    }

    [Fact]
    public async Task DeleteAbandoned_KilledWritersFolder_RemovedOnlyOnceItsMarkerIsStale()
    {
        var config = _cli.WriteConfig();
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "listed")).ExitCode);
        // What `replica dump` killed with SIGKILL leaves: a folder with a chunk and a .writing marker nobody holds.
        foreach (var (name, age) in new[] { ("killed", TimeSpan.FromHours(2)), ("recent", TimeSpan.FromMinutes(5)) })
        {
            string folder = Directory.CreateDirectory(Path.Combine(_cli.BridgePath, name)).FullName;
            await File.WriteAllTextAsync(Path.Combine(folder, "000000.chunk"), "chunk");
            string marker = Path.Combine(folder, ".writing");
            await File.WriteAllTextAsync(marker, "pid 1 on host");
            File.SetLastWriteTimeUtc(marker, DateTime.UtcNow - age);
        }

        var byName = await _cli.RunAsync("delete", "-c", config, "killed");
        var dryRun = await _cli.RunAsync("delete", "-c", config, "--abandoned", "--dry-run");
        var delete = await _cli.RunAsync("delete", "-c", config, "--abandoned");

        Assert.Equal(4, byName.ExitCode);
        Assert.Contains("replica delete --abandoned", byName.Stderr);
        Assert.Equal(0, dryRun.ExitCode);
        Assert.Equal("would delete abandoned killed", dryRun.Stdout.Trim());
        Assert.True(delete.ExitCode == 0, delete.Stderr);
        Assert.Equal("deleted abandoned killed", delete.Stdout.Trim());
        Assert.False(Directory.Exists(Path.Combine(_cli.BridgePath, "killed")));
        Assert.True(Directory.Exists(Path.Combine(_cli.BridgePath, "recent")));
        Assert.True(Directory.Exists(Path.Combine(_cli.BridgePath, "listed")));
        var tooShort = await _cli.RunAsync("delete", "-c", config, "--abandoned", "--stale-after", "30s");
        Assert.Equal(2, tooShort.ExitCode);
        Assert.Contains("too short", tooShort.Stderr);
    }
}
