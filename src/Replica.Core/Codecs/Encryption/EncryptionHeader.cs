using System.Text.Json;
using System.Text.Json.Serialization;

namespace Replica.Codecs.Encryption;

/// <summary>
/// What a restore needs, besides a key, to decrypt a dump; stored in the dump's manifest. Holds no secret: the data key
/// appears only wrapped (encrypted) in <see cref="KeySlots"/>, one slot per way to open the dump (a passphrase, a raw
/// key, each recipient's public key). Bytes are base64. JSON names are fixed here so the format does not depend on the
/// serializer options of the file that embeds it.
/// </summary>
/// <param name="Algorithm">Always <c>aes-256-gcm</c>.</param>
/// <param name="Version">Format version: 1 for the chunks and key slots; 2 adds the manifest's chunk list tag, which
/// dumps of version 2 must carry (the version is bound into every key slot, so it cannot be lowered to drop the tag);
/// 3 binds each chunk's part index into its nonce and associated data (bridge format v2, dumps in parts); 4 widens the
/// manifest's tag to the dump's name, created_at and sizes (what index.json lists about it), so an edited index entry, or
/// a dump copied under another name, is refused.</param>
/// <param name="DumpId">16 random bytes naming this dump inside every chunk's associated data.</param>
/// <param name="NoncePrefix">4 random bytes starting every chunk's nonce.</param>
/// <param name="KeySlots">The data key wrapped once per way to open the dump.</param>
public sealed record EncryptionHeader(
    [property: JsonPropertyName("algorithm")] string Algorithm,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("dump_id")] string DumpId,
    [property: JsonPropertyName("nonce_prefix")] string NoncePrefix,
    [property: JsonPropertyName("key_slots")] IReadOnlyList<KeySlot> KeySlots)
{
    public const int CurrentVersion = 4;

    /// <summary>The oldest version this replica reads: dumps written before manifests were authenticated.</summary>
    public const int OldestVersion = 1;

    /// <summary>The version from which the manifest carries a tag over its chunk list.</summary>
    public const int ManifestTagVersion = 2;

    /// <summary>The version from which chunks carry their part index (chunk format version 2).</summary>
    public const int PartsVersion = 3;

    /// <summary>
    /// The version from which the manifest's tag also covers the dump's name, created_at and sizes (see
    /// <c>DumpManifest.AppendEntry</c>): the fields its index entry repeats.
    /// </summary>
    public const int EntryTagVersion = 4;

    /// <summary>True when chunks carry their part index: the dump's manifest must be of bridge format v2.</summary>
    [JsonIgnore]
    public bool BindsParts => Version >= PartsVersion;

    /// <summary>True when the dump's manifest must carry a tag over its chunk list.</summary>
    [JsonIgnore]
    public bool HasManifestTag => Version >= ManifestTagVersion;

    /// <summary>True when the manifest's tag covers the dump's name, created_at and sizes too, not only its chunk list.</summary>
    [JsonIgnore]
    public bool TagsEntry => Version >= EntryTagVersion;

    /// <summary>The header as indented JSON, for tests, tools and manifests that store it as text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, EncryptionJsonContext.Default.EncryptionHeader);

    /// <summary>
    /// Reads <see cref="ToJson"/>'s output; <see cref="IntegrityException"/> when it is not a header, or holds key slots
    /// replica never writes (<see cref="CheckSlotCounts"/>).
    /// </summary>
    public static EncryptionHeader Parse(string json)
    {
        try
        {
            var header = JsonSerializer.Deserialize(json, EncryptionJsonContext.Default.EncryptionHeader)
                ?? throw new JsonException("null");
            // Nullable annotations are not checked inside lists: a [null] slot would pass the serializer.
            for (var i = 0; i < header.KeySlots.Count; i++)
            {
                if (header.KeySlots[i] is null)
                {
                    throw new JsonException($"key_slots[{i}] is null");
                }
            }
            header.CheckSlotCounts();
            return header;
        }
        catch (JsonException ex)
        {
            throw new IntegrityException($"The dump's encryption header is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Refuses, before any key is derived, a header with slots replica never writes: more than one passphrase slot or
    /// raw-key slot (<see cref="EncryptionKeys"/> takes one of each), two slots for the same recipient (recipients are
    /// deduplicated by key id), or more than <see cref="EncryptionKeys.MaxKeySlots"/> in all. Each passphrase slot costs
    /// its own PBKDF2 run, so an edited header with many could otherwise hold a restore for as long as it likes. Run by
    /// <see cref="Parse"/>, so that every command that reads a stored header refuses such a one, also export, import and
    /// share, which need no key (found by review: they copied it on), and by <c>DumpEncryption.Open</c>.
    /// </summary>
    internal void CheckSlotCounts()
    {
        IReadOnlyList<KeySlot> slots = KeySlots;
        if (slots.Count > EncryptionKeys.MaxKeySlots)
        {
            EncryptionThrow.Header($"it has {slots.Count} key slots, replica writes at most {EncryptionKeys.MaxKeySlots} (the header was altered)");
        }
        int passphrases = 0;
        int rawKeys = 0;
        var recipients = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < slots.Count; i++)
        {
            KeySlot slot = slots[i];
            if (slot.Method == KeySlotMethods.Passphrase && ++passphrases > 1)
            {
                EncryptionThrow.Header("it has more than one passphrase slot, replica writes one at most (the header was altered)");
            }
            if (slot.Method == KeySlotMethods.RawKey && ++rawKeys > 1)
            {
                EncryptionThrow.Header("it has more than one raw-key slot, replica writes one at most (the header was altered)");
            }
            if (KeySlotMethods.IsRecipient(slot.Method) && slot.KeyId is { } keyId && !recipients.TryAdd(keyId, i))
            {
                EncryptionThrow.Header($"key slots {recipients[keyId]} and {i} are for the same recipient, replica writes one slot per recipient (the header was altered)");
            }
        }
    }
}

/// <summary>
/// One wrapped copy of the dump's data key. Every slot derives a 32-byte key-encryption key (KEK) its own way, then
/// wraps the data key with AES-256-GCM under it: <see cref="WrappedKey"/> = encrypted data key (32 bytes) || tag
/// (16 bytes), with <see cref="Nonce"/> (12 random bytes) and, as associated data, every other field of the header and
/// of this slot, so changing any of them (iterations, salt, dump id, ...) makes the slot fail to open.
/// <list type="bullet">
/// <item><c>passphrase</c>: KEK = PBKDF2-HMAC-SHA256(UTF-8 passphrase, <see cref="Salt"/>, <see cref="Iterations"/>).</item>
/// <item><c>key</c>: KEK = HKDF-SHA256(raw 32-byte key, <see cref="Salt"/>, info "replica/1 key slot key").</item>
/// <item><c>rsa-oaep-sha256</c>: KEK = 32 random bytes, stored RSA-OAEP-SHA256-encrypted in <see cref="EncryptedKey"/>
/// for the recipient <see cref="KeyId"/>.</item>
/// <item><c>ecdh-p256</c>, <c>ecdh-p384</c>: KEK = HKDF-SHA256(ECDH(ephemeral, recipient), no salt, info
/// "replica/1 key slot ecdh-pNNN" || ephemeral SPKI || recipient SPKI); <see cref="EphemeralPublicKey"/> is the
/// ephemeral SubjectPublicKeyInfo (DER, base64).</item>
/// </list>
/// </summary>
/// <param name="KeyId">Recipients: the first 8 bytes of SHA-256 over the recipient's SubjectPublicKeyInfo, in hex.</param>
public sealed record KeySlot(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("nonce")] string Nonce,
    [property: JsonPropertyName("wrapped_key")] string WrappedKey,
    [property: JsonPropertyName("kdf"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Kdf = null,
    [property: JsonPropertyName("iterations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Iterations = null,
    [property: JsonPropertyName("salt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Salt = null,
    [property: JsonPropertyName("key_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? KeyId = null,
    [property: JsonPropertyName("encrypted_key"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EncryptedKey = null,
    [property: JsonPropertyName("ephemeral_public_key"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EphemeralPublicKey = null);

/// <summary>The names used in <see cref="KeySlot.Method"/> and <see cref="KeySlot.Kdf"/>.</summary>
public static class KeySlotMethods
{
    public const string Passphrase = "passphrase";
    public const string RawKey = "key";
    public const string RsaOaepSha256 = "rsa-oaep-sha256";
    public const string EcdhP256 = "ecdh-p256";
    public const string EcdhP384 = "ecdh-p384";

    public const string Pbkdf2HmacSha256 = "pbkdf2-hmac-sha256";
    public const string HkdfSha256 = "hkdf-sha256";

    internal static bool IsRecipient(string method) =>
        method is RsaOaepSha256 or EcdhP256 or EcdhP384;
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(EncryptionHeader))]
internal sealed partial class EncryptionJsonContext : JsonSerializerContext;
