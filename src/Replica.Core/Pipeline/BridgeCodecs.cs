using System.Text.Json;
using Replica.Bridges;
using Replica.Codecs;
using Replica.Codecs.Encryption;
using Replica.Config;

namespace Replica.Pipeline;

/// <summary>
/// The chunk codecs a config asks for, compression first and encryption last, for writing a new dump; and the codecs a
/// stored dump's manifest says it was written with, opened with the configured keys, for reading it back.
/// </summary>
public static class BridgeCodecs
{
    /// <summary>What a new dump is encoded with, and what its manifest records about that.</summary>
    public sealed record ForWriting(IChunkCodec? Codec, string? Compression, JsonElement? Encryption);

    public static ForWriting ForNewDump(BridgeConfig config)
    {
        var codecs = new List<IChunkCodec>();
        string? compression = null;
        JsonElement? encryption = null;
        try
        {
            if (!config.Compression.IsNone)
            {
                codecs.Add(CompressionCodecs.Create(config.Compression.Algorithm, config.Compression.Level, config.Compression.Workers));
                compression = config.Compression.Algorithm;
            }
            if (config.Encryption is { } settings)
            {
                using var keys = Keys(settings);
                var header = DumpEncryption.CreateHeader(keys, out var aes);
                codecs.Add(aes);
                encryption = JsonDocument.Parse(header.ToJson()).RootElement.Clone();
            }
        }
        catch
        {
            codecs.ForEach(c => c.Dispose());
            throw;
        }
        return new ForWriting(Combine(codecs), compression, encryption);
    }

    /// <summary>The decoding codec for a stored dump; null when its chunks are stored as they are.</summary>
    public static IChunkCodec? ForManifest(DumpManifest manifest, BridgeConfig config)
    {
        var codecs = new List<IChunkCodec>();
        try
        {
            if (manifest.Compression is { } compression && compression != "none")
            {
                codecs.Add(CompressionCodecs.Create(compression));
            }
            else if (manifest.Compressed)
            {
                throw new IntegrityException($"dump '{manifest.Name}' is marked compressed but its manifest does not say how");
            }
            if (manifest.Encryption is { } header)
            {
                if (config.Encryption is not { } settings)
                {
                    throw new ConfigException($"dump '{manifest.Name}' is encrypted: set bridge.encryption (its passphrase, key, key_file or private_key_file) to restore it");
                }
                if (manifest.Chunks.Count == 0)
                {
                    // An encrypted dump always ends with a sealed last chunk; none at all means they were removed.
                    throw new IntegrityException($"dump '{manifest.Name}' is encrypted but its manifest lists no chunks: they were removed");
                }
                using var keys = Keys(settings);
                codecs.Add(DumpEncryption.Open(EncryptionHeader.Parse(header.GetRawText()), keys));
            }
            else if (manifest.Encrypted)
            {
                throw new IntegrityException($"dump '{manifest.Name}' is marked encrypted but its manifest has no encryption header");
            }
        }
        catch
        {
            codecs.ForEach(c => c.Dispose());
            throw;
        }
        return Combine(codecs);
    }

    static IChunkCodec? Combine(List<IChunkCodec> codecs) => codecs.Count switch
    {
        0 => null,
        1 => codecs[0],
        _ => new CodecChain(codecs),
    };

    static EncryptionKeys Keys(EncryptionConfig settings)
    {
        var keys = new EncryptionKeys();
        try
        {
            if (settings.Passphrase is { } passphrase)
            {
                keys.AddPassphrase(passphrase);
            }
            if (settings.Key is { } key)
            {
                keys.AddRawKeyBase64(key, "bridge.encryption.key");
            }
            if (settings.KeyFile is { } keyFile)
            {
                keys.AddRawKeyFile(keyFile);
            }
            foreach (var recipient in settings.Recipients)
            {
                keys.AddRecipientFile(recipient);
            }
            if (settings.PrivateKeyFile is { } privateKey)
            {
                keys.AddPrivateKeyFile(privateKey, settings.PrivateKeyPassphrase);
            }
            return keys;
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }
}
