using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Cli;

/// <summary>Every combination of compression and encryption through the real `replica` executable.</summary>
public sealed class CodecCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static string SampleDump => TestPaths.Example("sample-dump.sql");

    string Config(string bridgeName, string compression, string encryption, string chunkSize = "16KiB", string? fileName = null) => _cli.WriteConfig($$"""
        secret: ${REPLICA_SECRET}
        bridge:
          local: { path: {{Path.Combine(_cli.WorkingDirectory, bridgeName)}} }
          chunk_size: {{chunkSize}}
          compression: { algorithm: {{compression}} }
        {{encryption}}
        transformers:
          - table: public.customers
            columns:
              email: email
              last_name: last-name
        """, fileName ?? $"{bridgeName}.yaml");

    async Task<byte[]> DumpAndRestoreAsync(string config, string name)
    {
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", name);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var verify = await _cli.RunAsync("verify", "-c", config, "--name", name);
        Assert.True(verify.ExitCode == 0, verify.Stderr);
        var output = Path.Combine(_cli.WorkingDirectory, name + ".sql");
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", name, "--output", output);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        return await File.ReadAllBytesAsync(output);
    }

    [Fact]
    public async Task DumpRestore_EveryCompressionAndEncryption_GivesTheSameSql()
    {
        var keygen = await _cli.RunAsync("keygen", "--out", _cli.WorkingDirectory, "--name", "ops", "--algorithm", "ecdh-p256");
        Assert.True(keygen.ExitCode == 0, keygen.Stderr);
        var keyFile = Path.Combine(_cli.WorkingDirectory, "raw.key");
        await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        string[] encryptions =
        [
            "",
            "  encryption: { passphrase: correct-horse-battery }",
            $"  encryption: {{ key_file: {keyFile} }}",
            $"  encryption: {{ recipients: [{Path.Combine(_cli.WorkingDirectory, "ops.pub.pem")}], private_key_file: {Path.Combine(_cli.WorkingDirectory, "ops.key.pem")} }}",
        ];
        byte[]? reference = null;
        var i = 0;
        foreach (var compression in new[] { "none", "zstd", "gzip" })
        {
            foreach (var encryption in encryptions)
            {
                var name = $"combo-{i++}";
                var restored = await DumpAndRestoreAsync(Config(name, compression, encryption), name);
                reference ??= restored;
                Assert.True(reference.AsSpan().SequenceEqual(restored), $"{compression} with '{encryption.Trim()}' restored different bytes");
                var manifest = await File.ReadAllTextAsync(Path.Combine(_cli.WorkingDirectory, name, name, "manifest.json"));
                Assert.Contains($"\"compressed\": {(compression != "none" ? "true" : "false")}", manifest);
                Assert.Contains($"\"encrypted\": {(encryption.Length > 0 ? "true" : "false")}", manifest);
                Assert.DoesNotContain("correct-horse-battery", manifest);
            }
        }
        Assert.Contains("public.customers", System.Text.Encoding.UTF8.GetString(reference!));
    }

    /// <summary>
    /// Regression: with recipients, whoever holds the public key can write a whole dump that opens with the private key,
    /// yet verify said "manifest authenticated" and restore said nothing. Now both say it is not authenticated.
    /// </summary>
    [Fact]
    public async Task VerifyRestore_DumpOpenedWithPrivateKey_SayItIsNotAuthenticated()
    {
        var keygen = await _cli.RunAsync("keygen", "--out", _cli.WorkingDirectory, "--name", "ops", "--algorithm", "ecdh-p256");
        Assert.True(keygen.ExitCode == 0, keygen.Stderr);
        var config = Config("recipients", "zstd",
            $"  encryption: {{ recipients: [{Path.Combine(_cli.WorkingDirectory, "ops.pub.pem")}], private_key_file: {Path.Combine(_cli.WorkingDirectory, "ops.key.pem")} }}");
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "r1");
        Assert.True(dump.ExitCode == 0, dump.Stderr);

        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "r1");
        var json = await _cli.RunAsync("verify", "-c", config, "--name", "r1", "--json", "-q");
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", "r1", "--output", Path.Combine(_cli.WorkingDirectory, "r1.sql"), "-q");

        Assert.True(verify.ExitCode == 0, verify.Stderr);
        Assert.Contains("the dump is NOT authenticated: it opened with a private key", verify.Stderr);
        Assert.DoesNotContain("manifest authenticated", verify.Stderr);
        Assert.True(json.ExitCode == 0, json.Stderr);
        Assert.Contains("\"manifest\": \"intact, not authenticated (opened with a private key", json.Stdout);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Contains("replica: warning: dump 'r1' opened with a private key (bridge.encryption.recipients): it is intact but NOT authenticated", restore.Stderr);
    }

    /// <summary>
    /// Found by review: `restore --json` did not say that the dump it restored opened with a private key, so a script
    /// reading it could not tell an authenticated dump from one anyone holding the recipient's public key could have
    /// written (only the stderr warning said so). Now it carries verify's "manifest" field, with verify's values.
    /// </summary>
    [Fact]
    public async Task RestoreJson_DumpOpenedWithPrivateKey_SaysItIsNotAuthenticated()
    {
        var keygen = await _cli.RunAsync("keygen", "--out", _cli.WorkingDirectory, "--name", "ops", "--algorithm", "ecdh-p256");
        Assert.True(keygen.ExitCode == 0, keygen.Stderr);
        var recipients = Config("recipients", "zstd",
            $"  encryption: {{ recipients: [{Path.Combine(_cli.WorkingDirectory, "ops.pub.pem")}], private_key_file: {Path.Combine(_cli.WorkingDirectory, "ops.key.pem")} }}");
        var passphrase = Config("passphrase", "zstd", "  encryption: { passphrase: correct-horse-battery }");
        foreach (var config in new[] { recipients, passphrase })
        {
            var dump = await _cli.RunAsync("dump", "-c", config, "--input", SampleDump, "--name", "r2");
            Assert.True(dump.ExitCode == 0, dump.Stderr);
        }

        var privately = await _cli.RunAsync("restore", "-c", recipients, "--name", "r2", "--output", Path.Combine(_cli.WorkingDirectory, "r2-private.sql"), "--json", "-q");
        var authenticated = await _cli.RunAsync("restore", "-c", passphrase, "--name", "r2", "--output", Path.Combine(_cli.WorkingDirectory, "r2.sql"), "--json", "-q");

        Assert.True(privately.ExitCode == 0, privately.Stderr);
        Assert.Contains("\"manifest\": \"intact, not authenticated (opened with a private key: anyone holding the recipient's public key could have written it)\"", privately.Stdout);
        Assert.Contains("replica: warning: dump 'r2' opened with a private key", privately.Stderr);
        Assert.True(authenticated.ExitCode == 0, authenticated.Stderr);
        Assert.Contains("\"manifest\": \"authenticated\"", authenticated.Stdout);
        Assert.DoesNotContain("warning", authenticated.Stderr);
    }

    [Fact]
    public async Task ZstdCli_DecompressesEveryStoredChunk_IntoTheRestoredDump()
    {
        var config = Config("zstd-cli", "zstd", "", chunkSize: "8KiB");
        var restored = await DumpAndRestoreAsync(config, "plain-zstd");
        var chunks = Directory.GetFiles(Path.Combine(_cli.WorkingDirectory, "zstd-cli", "plain-zstd"), "*.chunk").Order().ToList();
        Assert.True(chunks.Count > 3, "the sample should span several 8 KiB chunks");
        using var joined = new MemoryStream();
        foreach (var chunk in chunks)
        {
            var plain = chunk + ".plain";
            var result = await ProcessRunner.RunAsync("zstd", ["-q", "-d", chunk, "-o", plain], throwOnError: false);
            Assert.True(result.ExitCode == 0, $"zstd -d failed on {chunk} (is the zstd package installed? apt-get install zstd): {result.Stderr}");
            joined.Write(await File.ReadAllBytesAsync(plain));
        }
        Assert.Equal(restored, joined.ToArray());
    }

    [Fact]
    public async Task Restore_WrongPassphraseOrSwappedChunk_FailsWithIntegrityExitCode()
    {
        var config = Config("enc", "zstd", "  encryption: { passphrase: correct-horse-battery }", chunkSize: "8KiB");
        await DumpAndRestoreAsync(config, "a");
        await DumpAndRestoreAsync(config, "b");

        var wrong = Config("enc", "zstd", "  encryption: { passphrase: not-the-passphrase }", chunkSize: "8KiB", fileName: "wrong.yaml");
        var output = Path.Combine(_cli.WorkingDirectory, "wrong.sql");
        var result = await _cli.RunAsync("restore", "-c", wrong, "--name", "a", "--output", output);
        Assert.Equal(5, result.ExitCode);
        Assert.Contains("does not open this dump", result.Stderr);
        Assert.DoesNotContain("not-the-passphrase", result.Stderr);
        Assert.False(File.Exists(output));

        // Chunk 1 of dump b put in place of chunk 1 of dump a, manifest edited to match: the checksum passes, the
        // manifest's tag must not (and, were the tag not there, the chunk's own authentication would not).
        var dirA = Path.Combine(_cli.WorkingDirectory, "enc", "a");
        var dirB = Path.Combine(_cli.WorkingDirectory, "enc", "b");
        File.Copy(Path.Combine(dirB, "p000000-000001.chunk"), Path.Combine(dirA, "p000000-000001.chunk"), overwrite: true);
        var manifestA = await File.ReadAllTextAsync(Path.Combine(dirA, "manifest.json"));
        var manifestB = await File.ReadAllTextAsync(Path.Combine(dirB, "manifest.json"));
        var chunkA = System.Text.Json.JsonDocument.Parse(manifestA).RootElement.GetProperty("chunks")[1];
        var chunkB = System.Text.Json.JsonDocument.Parse(manifestB).RootElement.GetProperty("chunks")[1];
        manifestA = manifestA.Replace(chunkA.GetProperty("sha256").GetString()!, chunkB.GetProperty("sha256").GetString()!)
            .Replace($"\"size\": {chunkA.GetProperty("size").GetInt64()},", $"\"size\": {chunkB.GetProperty("size").GetInt64()},");
        await File.WriteAllTextAsync(Path.Combine(dirA, "manifest.json"), manifestA);
        var verify = await _cli.RunAsync("verify", "-c", config, "--name", "a");
        Assert.Equal(5, verify.ExitCode);
        Assert.Contains("chunk list does not match its chunks_tag", verify.Stderr);
    }
}
