using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Replica.Bridges;
using Replica.Codecs.Encryption;
using Replica.Config;
using Replica.Core.Tests.Bridges;
using Replica.Pipeline;

namespace Replica.Core.Tests.Pipeline;

public sealed class NewDumpPassphraseTests : IDisposable
{
    // 11 characters: one short of the limit.
    const string ShortPassphrase = "eleven-char";

    readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    static BridgeConfig Encrypted(string passphrase) => new()
    {
        ChunkSize = 1024,
        Encryption = new EncryptionConfig { Passphrase = passphrase },
    };

    /// <summary>
    /// Found by review: a one-character bridge passphrase was taken for new dumps without a word (the masking secret
    /// needs 16). A new dump now needs 12; the message names the setting, never the passphrase.
    /// </summary>
    [Fact]
    public void ForNewDump_PassphraseShorterThan12_ConfigErrorWithoutThePassphrase()
    {
        var error = Assert.Throws<ConfigException>(() => BridgeCodecs.ForNewDump(Encrypted(ShortPassphrase)));

        Assert.Contains("shorter than 12 characters", error.Message, StringComparison.Ordinal);
        Assert.Equal("bridge.encryption.passphrase", error.Key);
        Assert.DoesNotContain(ShortPassphrase, error.Message, StringComparison.Ordinal);
        Assert.Throws<ConfigException>(() => BridgeCodecs.ForNewDump(Encrypted("a")));
        using var codec = BridgeCodecs.ForNewDump(Encrypted("twelve-chars")).Codec;
        Assert.NotNull(codec);
    }

    /// <summary>A dump stored under a short passphrase before the limit still restores with it.</summary>
    [Fact]
    public async Task ForManifest_DumpStoredUnderAShortPassphrase_StillRestores()
    {
        var bridge = new LocalBridge(_directory.Path);
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("COPY public.t (a) FROM stdin;\n1\n\\.\n", 200)));
        using (var keys = new EncryptionKeys { Pbkdf2Iterations = EncryptionKeys.MinPbkdf2Iterations }.AddPassphrase(ShortPassphrase))
        {
            // As a version of replica without the limit wrote it.
            var header = DumpEncryption.CreateHeader(keys, out var aes);
            using (aes)
            {
                await using IDumpWriter writer = await bridge.BeginDumpAsync("old", CancellationToken.None);
                var pipe = new Pipe();
                var chunking = DumpChunker.RunAsync(pipe.Reader, writer, 1024, aes, CancellationToken.None);
                await pipe.Writer.WriteAsync(data);
                await pipe.Writer.CompleteAsync();
                var plain = await chunking;
                var version = header.Version;
                await writer.CompleteAsync(new DumpSummary(data.Length, "test", Compressed: false, Encrypted: true)
                {
                    Encryption = JsonDocument.Parse(header.ToJson()).RootElement.Clone(),
                    AuthenticateChunks = manifest => aes.ManifestTag(hash => BridgeCodecs.AppendTagged(manifest, version, hash)),
                    SizePlain = plain,
                }, CancellationToken.None);
            }
        }

        using var output = new MemoryStream();
        await DumpReader.RestoreAsync(bridge, "old", output, manifest => BridgeCodecs.ForManifest(manifest, Encrypted(ShortPassphrase)), CancellationToken.None);

        Assert.Equal(data, output.ToArray());
    }
}
