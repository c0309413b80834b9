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
    /// <summary>
    /// What a new dump is encoded with, what its manifest records about that, and (encrypted dumps) how its manifest's
    /// chunk list is authenticated.
    /// </summary>
    public sealed record ForWriting(IChunkCodec? Codec, string? Compression, JsonElement? Encryption,
        Func<DumpManifest, string>? AuthenticateChunks = null);

    public static ForWriting ForNewDump(BridgeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        CheckNewDumpPassphrase(config, file: null);
        var codecs = new List<IChunkCodec>();
        string? compression = null;
        JsonElement? encryption = null;
        Func<DumpManifest, string>? authenticateChunks = null;
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
                int version = header.Version;
                authenticateChunks = manifest => aes.ManifestTag(hash => AppendTagged(manifest, version, hash));
            }
        }
        catch
        {
            codecs.ForEach(c => c.Dispose());
            throw;
        }
        return new ForWriting(Combine(codecs), compression, encryption, authenticateChunks);
    }

    /// <summary>
    /// A new dump is not encrypted under a passphrase shorter than <see cref="EncryptionKeys.MinPassphraseLength"/>
    /// characters: its PBKDF2 slot is the one thing between a copied bridge and the data, tried offline at leisure.
    /// Reading (restore, verify) takes any passphrase, so that nothing already stored becomes unreadable.
    /// </summary>
    public static void CheckNewDumpPassphrase(BridgeConfig config, string? file)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Encryption?.Passphrase is { } passphrase && passphrase.Length < EncryptionKeys.MinPassphraseLength)
        {
            throw new ConfigException(
                $"the encryption passphrase is shorter than {EncryptionKeys.MinPassphraseLength} characters: too short to encrypt a new dump "
                + "(e.g. export REPLICA_PASSPHRASE=\"$(openssl rand -base64 24)\"); dumps already stored under it still restore and verify with it",
                file, key: "bridge.encryption.passphrase");
        }
    }

    /// <summary>The decoding codec for a stored dump; null when its chunks are stored as they are.</summary>
    /// <remarks>
    /// With bridge.encryption configured, a dump without an encryption header is refused unless
    /// <paramref name="allowUnencrypted"/> (--allow-unencrypted): its SHA-256 sums prove nothing against someone who can
    /// write to the bridge, so anyone without the key could otherwise slip in a dump of their own.
    /// </remarks>
    public static IChunkCodec? ForManifest(DumpManifest manifest, BridgeConfig config, bool allowUnencrypted = false)
    {
        var codecs = new List<IChunkCodec>();
        try
        {
            if (manifest.Compression is null or "none" && manifest.Compressed)
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
                var parsed = EncryptionHeader.Parse(header.GetRawText());
                var aes = DumpEncryption.Open(parsed, keys);
                codecs.Add(aes);
                // After Open: the header's version is bound into its key slots, so a lowered one does not open.
                if (parsed.BindsParts != (manifest.FormatVersion >= DumpManifest.PartsVersion))
                {
                    throw new IntegrityException(
                        $"dump '{manifest.Name}': its manifest (bridge format version {manifest.FormatVersion}) does not match its encryption header (version {parsed.Version}): the manifest was edited");
                }
                CheckChunksTag(manifest, parsed, aes);
            }
            else if (manifest.Encrypted)
            {
                throw new IntegrityException($"dump '{manifest.Name}' is marked encrypted but its manifest has no encryption header");
            }
            else if (config.Encryption is not null && !allowUnencrypted)
            {
                throw new IntegrityException(NotEncrypted(manifest.Name));
            }
            if (manifest.Compression is { } compression && compression != "none")
            {
                if (!CompressionCodecs.Algorithms.Contains(compression, StringComparer.OrdinalIgnoreCase))
                {
                    // The manifest's word, not the config's: an edited (or foreign) manifest, not a setting to change.
                    throw new IntegrityException($"dump '{manifest.Name}': its manifest names the compression '{compression}', which Replica does not "
                        + $"write ({string.Join(", ", CompressionCodecs.Algorithms)}): the manifest was edited or comes from elsewhere");
                }
                // Decoded before it is decrypted on the way out, so first in the chain.
                codecs.Insert(0, CompressionCodecs.Create(compression, maxDecodedBytes: MaxPlainChunk(codecs, config)));
            }
        }
        catch
        {
            codecs.ForEach(c => c.Dispose());
            throw;
        }
        return Combine(codecs);
    }

    /// <summary>
    /// <see cref="ForManifest"/> for the dump chosen by its index entry <paramref name="listed"/> (by name, or the newest
    /// by created_at for --latest): once the manifest checked out against its tag, the entry must be the one the
    /// manifest stands for (<see cref="ObjectBridge.CheckListedEntry"/>). With a tag that covers the dump's name,
    /// created_at and sizes (encryption header version 4 on), that refuses an entry edited to steer --latest to an older
    /// dump, a dump copied under another name, or edited sizes, before any chunk is read.
    /// </summary>
    /// <remarks>
    /// An encrypted dump of an older header version, whose tag does not cover its entry, is refused unless
    /// <paramref name="allowLegacy"/> (<see cref="CheckEntryAuthenticated"/>). A dump opened with a recipient's private
    /// key is read, and <paramref name="warn"/> is told that it is not authenticated (<see cref="NotAuthenticatedWithPrivateKey"/>).
    /// </remarks>
    public static IChunkCodec? ForListedManifest(DumpEntry listed, DumpManifest manifest, BridgeConfig config, bool allowUnencrypted = false,
        AllowLegacy? allowLegacy = null, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(listed);
        IChunkCodec? codec = ForManifest(manifest, config, allowUnencrypted);
        try
        {
            // After the tag: a manifest edited past it is reported as edited, not as legacy.
            CheckEntryAuthenticated(manifest, allowLegacy);
            ObjectBridge.CheckListedEntry(listed, manifest);
            if (warn is not null && OpenedWithPrivateKey(codec))
            {
                warn(NotAuthenticatedWithPrivateKey(manifest.Name));
            }
        }
        catch
        {
            codec?.Dispose();
            throw;
        }
        return codec;
    }

    /// <summary>
    /// Refuses (<see cref="IntegrityException"/>) an encrypted dump whose manifest's tag does not cover its index entry
    /// (encryption header version below <see cref="EncryptionHeader.EntryTagVersion"/>), unless
    /// <paramref name="allowLegacy"/> (--allow-legacy), which is then told. Its name and created_at, in index.json and in
    /// its manifest alike, are what anyone who can write to the bridge made them, without the key: an older dump dated
    /// ahead so that --latest picks it (e.g. one made before a masking rule was added), or a dump renamed. Unencrypted
    /// dumps are left to <see cref="ForManifest"/>'s policy. Reads only the header, which holds no secret, so export,
    /// import and share, which need no key, check it too; there a header whose version was raised passes, and fails
    /// to open wherever the dump is decrypted (the version is bound into every key slot).
    /// </summary>
    public static void CheckEntryAuthenticated(DumpManifest manifest, AllowLegacy? allowLegacy)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Encryption is not { } header)
        {
            return;
        }
        int version = EncryptionHeader.Parse(header.GetRawText()).Version;
        if (version >= EncryptionHeader.EntryTagVersion)
        {
            return;
        }
        if (allowLegacy is null)
        {
            throw new IntegrityException(
                $"dump '{manifest.Name}' has encryption header version {version} (before {EncryptionHeader.EntryTagVersion}): its index entry (name and date) "
                + "cannot be authenticated, so anyone who can write to the bridge could have renamed it or dated it ahead, "
                + "e.g. so that --latest picks an older dump; it is not used. If it is the dump you mean, pass --allow-legacy to read it anyway; "
                + "a new dump has an authenticated entry (dump again, then delete this one)");
        }
        allowLegacy.Warn($"dump '{manifest.Name}' has encryption header version {version}: its index entry (name and date) was not authenticated (--allow-legacy)");
    }

    /// <summary>
    /// How far a dump's manifest is protected, for `replica verify`. Only meaningful once <see cref="ForManifest"/> has
    /// opened the dump (<paramref name="codec"/>, the codec it returned): that is where a tag that does not match fails.
    /// </summary>
    public static ManifestAuthentication AuthenticationOf(DumpManifest manifest, IChunkCodec? codec)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Encryption is not { } header ? ManifestAuthentication.NotEncrypted
            : manifest.ChunksTag is null ? ManifestAuthentication.WrittenBeforeTags
            : OpenedWithPrivateKey(codec) ? ManifestAuthentication.OpenedWithPrivateKey
            : EncryptionHeader.Parse(header.GetRawText()).TagsEntry ? ManifestAuthentication.AuthenticatedWithEntry
            : ManifestAuthentication.Authenticated;
    }

    /// <summary>
    /// True when <paramref name="codec"/> decrypts a dump whose data key came out of a recipient's slot
    /// (<see cref="AesGcmChunkCodec.OpenedWithPrivateKey"/>): its tags were made with a key its writer chose, and any
    /// holder of the recipient's public key can be that writer.
    /// </summary>
    /// <summary>
    /// The most a chunk may decode to. A few KiB of zstd decoding to 1 GiB in each of a restore's lanes took it to 7 GB
    /// (found by review), and the manifest's numbers prove nothing on a bridge others can write. A dump encrypted with
    /// this config's key or passphrase (<paramref name="codecs"/>) is authenticated chunk by chunk, so its chunks are
    /// the key holder's: up to the largest chunk Replica writes. Any other (unencrypted, or opened with a recipient's
    /// private key, which anyone holding the public key could have written): this config's bridge.chunk_size, at least
    /// the default 4 MiB, as the chunk size its writer was set to.
    /// </summary>
    static long MaxPlainChunk(List<IChunkCodec> codecs, BridgeConfig config) =>
        codecs.Any(c => c is AesGcmChunkCodec { OpenedWithPrivateKey: false })
            ? DumpChunker.MaxChunkSize
            : Math.Clamp(config.ChunkSize, CompressionCodecs.MinReadChunkBytes, DumpChunker.MaxChunkSize);

    static bool OpenedWithPrivateKey(IChunkCodec? codec) => codec switch
    {
        AesGcmChunkCodec aes => aes.OpenedWithPrivateKey,
        CodecChain chain => chain.Codecs.Any(OpenedWithPrivateKey),
        _ => false,
    };

    /// <summary>What restore and leakcheck warn of when <see cref="OpenedWithPrivateKey"/>; verify says it in its own words.</summary>
    internal static string NotAuthenticatedWithPrivateKey(string name) =>
        $"dump '{name}' opened with a private key (bridge.encryption.recipients): it is intact but NOT authenticated; "
        + "anyone holding the recipient's public key (e.g. any dumping machine's config) and write access to the bridge could have written it, "
        + "its name, created_at and content included";

    /// <summary>
    /// What the manifest's tag covers, by the encryption header's version: from <see cref="EncryptionHeader.EntryTagVersion"/>
    /// on the dump's name, created_at and sizes (<see cref="DumpManifest.AppendEntry"/>), then the chunk list; before, the
    /// chunk list alone. The version is bound into every key slot, so a header cannot be lowered to narrow the tag.
    /// </summary>
    internal static void AppendTagged(DumpManifest manifest, int headerVersion, System.Security.Cryptography.IncrementalHash hash)
    {
        if (headerVersion >= EncryptionHeader.EntryTagVersion)
        {
            manifest.AppendEntry(hash, headerVersion);
        }
        manifest.AppendChunkList(hash);
    }

    /// <summary>
    /// Checks the manifest's chunk list against its tag, before any chunk is read. A dump whose header is of the
    /// version that writes tags must have one: the version is bound into the key slots, so removing the tag cannot pass
    /// the manifest off as an older one. Older dumps have none; their chunks are still authenticated one by one.
    /// </summary>
    static void CheckChunksTag(DumpManifest manifest, EncryptionHeader header, AesGcmChunkCodec aes)
    {
        if (manifest.ChunksTag is null)
        {
            if (header.HasManifestTag)
            {
                throw new IntegrityException(
                    $"dump '{manifest.Name}': the manifest's chunks_tag is missing, yet its encryption header (version {header.Version}) says it has one: the manifest was edited");
            }
            return;
        }
        if (!aes.IsManifestTagValid(hash => AppendTagged(manifest, header.Version, hash), manifest.ChunksTag))
        {
            throw new IntegrityException(header.TagsEntry
                ? $"dump '{manifest.Name}': the manifest's name, created_at, sizes or chunk list does not match its chunks_tag: the manifest was edited (the dump renamed, e.g. copied under another name; created_at or a size changed; chunks reordered, removed, added or changed), or its encryption header belongs to another dump"
                : $"dump '{manifest.Name}': the manifest's chunk list does not match its chunks_tag: the manifest was edited (chunks reordered, removed, added or changed), or its encryption header belongs to another dump");
        }
    }

    /// <summary>Why an unencrypted dump is refused on a bridge configured for encryption.</summary>
    internal static string NotEncrypted(string name) =>
        $"dump '{name}' is not encrypted, although bridge.encryption is set: anyone who can write to the bridge could have put it there without the key; "
        + "pass --allow-unencrypted (restore, verify) to read it anyway";

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

/// <summary>Whether edits to a dump's manifest are detected.</summary>
public enum ManifestAuthentication
{
    /// <summary>The dump is not encrypted: nothing secret protects its manifest (accidents are caught by SHA-256, attackers are not).</summary>
    NotEncrypted,

    /// <summary>Encrypted by a version of replica that did not tag manifests: its chunks are authenticated, its manifest is not.</summary>
    WrittenBeforeTags,

    /// <summary>
    /// Encrypted, and the manifest's chunk list matched its tag under the dump's key; the dump's name, created_at and
    /// sizes (what its index entry repeats) are not covered: written by a version of replica before encryption header
    /// version 4.
    /// </summary>
    Authenticated,

    /// <summary>
    /// Encrypted, and the whole manifest (name, created_at, sizes and chunk list) matched its tag under the dump's key;
    /// the index entry was checked against it.
    /// </summary>
    AuthenticatedWithEntry,

    /// <summary>
    /// Encrypted for recipients and opened with a private key: the dump is intact (its manifest matched its tag, its
    /// index entry the manifest, every chunk its tag), but NOT authenticated: the data key was wrapped with a public key,
    /// so anyone holding it (every dumping machine's config) can write a whole dump, name and created_at included, that
    /// opens and checks out the same. Signing dumps would be needed to tell the real writer apart; replica does not.
    /// </summary>
    OpenedWithPrivateKey,
}

/// <summary>
/// --allow-legacy: read an encrypted dump whose index entry its manifest's tag does not cover (encryption header version
/// below 4, <see cref="BridgeCodecs.CheckEntryAuthenticated"/>) instead of refusing it; <see cref="Warn"/> is told, once
/// for the dump read.
/// </summary>
public sealed record AllowLegacy(Action<string> Warn);
