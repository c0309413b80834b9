using System.Security.Cryptography;

namespace Replica.Codecs.Encryption;

/// <summary>
/// Starts encrypting a dump (a fresh random data key, dump id and nonce prefix, wrapped into one key slot per key the
/// user gave) and opens one for restoring (unwraps the data key with whatever key fits, before any chunk is read).
/// </summary>
public static class DumpEncryption
{
    /// <summary>
    /// Creates the header to store in the new dump's manifest and the codec that encrypts its chunks.
    /// <see cref="ConfigException"/> when <paramref name="keys"/> holds nothing to encrypt with (private keys alone
    /// cannot encrypt: dumping needs the recipients' public keys).
    /// </summary>
    public static EncryptionHeader CreateHeader(EncryptionKeys keys, out AesGcmChunkCodec codec)
    {
        ArgumentNullException.ThrowIfNull(keys);
        RequireAesGcm();
        if (!keys.CanEncrypt)
        {
            throw new ConfigException(
                "encryption is on, but no passphrase, key or recipient public key was given to encrypt the dump with");
        }

        Span<byte> dek = stackalloc byte[AesGcmChunkCodec.KeySize];
        Span<byte> dumpId = stackalloc byte[AesGcmChunkCodec.DumpIdSize];
        Span<byte> noncePrefix = stackalloc byte[AesGcmChunkCodec.NoncePrefixSize];
        try
        {
            RandomNumberGenerator.Fill(dek);
            RandomNumberGenerator.Fill(dumpId);
            RandomNumberGenerator.Fill(noncePrefix);
            var core = new EncryptionHeader(AesGcmChunkCodec.AlgorithmName, EncryptionHeader.CurrentVersion,
                Convert.ToBase64String(dumpId), Convert.ToBase64String(noncePrefix), []);

            var slots = new List<KeySlot>();
            if (keys.HasPassphrase)
            {
                slots.Add(KeySlotCrypto.ForPassphrase(keys.Passphrase, keys.Pbkdf2Iterations, core, dek));
            }
            if (keys.HasRawKey)
            {
                slots.Add(KeySlotCrypto.ForRawKey(keys.RawKey, core, dek));
            }
            foreach (RecipientKey recipient in keys.Recipients)
            {
                slots.Add(KeySlotCrypto.ForRecipient(recipient, core, dek));
            }

            codec = new AesGcmChunkCodec(dek, dumpId, noncePrefix, bindsParts: true);
            return core with { KeySlots = slots };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dek);
        }
    }

    /// <summary>
    /// Unwraps the dump's data key and returns the codec that decrypts its chunks. Tries the raw key, then the passphrase
    /// (the slow one; a header holds one slot of each at most), then recipients' private keys whose key id matches a slot.
    /// <see cref="WrongKeyException"/> when no given key opens the dump (or the header was altered: the same failure);
    /// <see cref="IntegrityException"/> when the header is malformed.
    /// </summary>
    public static AesGcmChunkCodec Open(EncryptionHeader header, EncryptionKeys keys)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(keys);
        RequireAesGcm();
        (byte[] dumpId, byte[] noncePrefix) = Validate(header);

        Span<byte> dek = stackalloc byte[AesGcmChunkCodec.KeySize];
        var tried = new List<string>();
        try
        {
            IReadOnlyList<KeySlot> slots = header.KeySlots;
            // A key only its holders have first: a dump opened with it is authenticated. A recipient's slot can be
            // made by anyone holding the public key, so a private key is tried last (OpenedWithPrivateKey).
            if (keys.HasRawKey && HasSlot(slots, KeySlotMethods.RawKey))
            {
                for (int i = 0; i < slots.Count; i++)
                {
                    if (slots[i].Method == KeySlotMethods.RawKey
                        && KeySlotCrypto.TryOpenWithRawKey(slots[i], i, keys.RawKey, header, dek))
                    {
                        return new AesGcmChunkCodec(dek, dumpId, noncePrefix, header.BindsParts);
                    }
                }
                tried.Add($"the key from {keys.RawKeyOrigin}");
            }
            if (keys.HasPassphrase && HasSlot(slots, KeySlotMethods.Passphrase))
            {
                for (int i = 0; i < slots.Count; i++)
                {
                    if (slots[i].Method == KeySlotMethods.Passphrase
                        && KeySlotCrypto.TryOpenWithPassphrase(slots[i], i, keys.Passphrase, header, dek))
                    {
                        return new AesGcmChunkCodec(dek, dumpId, noncePrefix, header.BindsParts);
                    }
                }
                tried.Add("the passphrase");
            }
            foreach (PrivateKey privateKey in keys.PrivateKeys)
            {
                bool triedThisKey = false;
                for (int i = 0; i < slots.Count; i++)
                {
                    if (slots[i].Method == privateKey.Method && slots[i].KeyId == privateKey.KeyId)
                    {
                        triedThisKey = true;
                        if (KeySlotCrypto.TryOpenWithPrivateKey(slots[i], i, privateKey, header, dek))
                        {
                            return new AesGcmChunkCodec(dek, dumpId, noncePrefix, header.BindsParts) { OpenedWithPrivateKey = true };
                        }
                    }
                }
                if (triedThisKey)
                {
                    tried.Add($"the private key {privateKey.Origin}");
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dek);
        }

        if (tried.Count > 0)
        {
            throw new WrongKeyException(
                $"{Capitalize(string.Join(" and ", tried))} {(tried.Count == 1 ? "does" : "do")} not open this dump " +
                "(a wrong key, or the dump's encryption header was altered).");
        }
        throw new WrongKeyException(
            $"None of the given keys fits this dump. It opens with {DescribeSlots(slots: header.KeySlots)}; given: {Describe(keys)}.");
    }

    static (byte[] DumpId, byte[] NoncePrefix) Validate(EncryptionHeader header)
    {
        if (header.Algorithm != AesGcmChunkCodec.AlgorithmName)
        {
            EncryptionThrow.Header($"the algorithm is '{header.Algorithm}', this version knows only '{AesGcmChunkCodec.AlgorithmName}'");
        }
        if (header.Version is < EncryptionHeader.OldestVersion or > EncryptionHeader.CurrentVersion)
        {
            EncryptionThrow.Header(
                $"format version {header.Version}, this version reads {EncryptionHeader.OldestVersion} to {EncryptionHeader.CurrentVersion}");
        }
        if (header.KeySlots is null || header.KeySlots.Count == 0)
        {
            EncryptionThrow.Header("it has no key slots");
        }
        // Parse checked a stored header already; a header built in code (a test, a tool) is checked here.
        header.CheckSlotCounts();
        return (DecodeHeaderField(header.DumpId, "dump_id", AesGcmChunkCodec.DumpIdSize),
            DecodeHeaderField(header.NoncePrefix, "nonce_prefix", AesGcmChunkCodec.NoncePrefixSize));
    }

    static byte[] DecodeHeaderField(string? base64, string name, int length)
    {
        byte[]? bytes = null;
        try
        {
            bytes = base64 is null ? null : Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
        }
        if (bytes is null || bytes.Length != length)
        {
            EncryptionThrow.Header($"'{name}' is not {length} bytes in base64");
        }
        return bytes;
    }

    static bool HasSlot(IReadOnlyList<KeySlot> slots, string method)
    {
        foreach (KeySlot slot in slots)
        {
            if (slot.Method == method)
            {
                return true;
            }
        }
        return false;
    }

    static string DescribeSlots(IReadOnlyList<KeySlot> slots)
    {
        var parts = new List<string>();
        foreach (KeySlot slot in slots)
        {
            string part = slot.Method switch
            {
                KeySlotMethods.Passphrase => "a passphrase",
                KeySlotMethods.RawKey => "a raw key",
                _ when KeySlotMethods.IsRecipient(slot.Method) => $"the private key {slot.KeyId} ({slot.Method})",
                _ => $"an unknown method '{slot.Method}'",
            };
            if (!parts.Contains(part))
            {
                parts.Add(part);
            }
        }
        return string.Join(", or ", parts);
    }

    static string Describe(EncryptionKeys keys)
    {
        var parts = new List<string>();
        if (keys.HasPassphrase)
        {
            parts.Add("a passphrase");
        }
        if (keys.HasRawKey)
        {
            parts.Add($"a raw key from {keys.RawKeyOrigin}");
        }
        foreach (PrivateKey key in keys.PrivateKeys)
        {
            parts.Add($"the private key {key.KeyId} ({key.Method}) from {key.Origin}");
        }
        if (keys.Recipients.Count > 0)
        {
            parts.Add($"{keys.Recipients.Count} public key(s), which can encrypt but not decrypt");
        }
        return parts.Count == 0 ? "no key" : string.Join(", ", parts);
    }

    static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    static void RequireAesGcm()
    {
        if (!AesGcm.IsSupported)
        {
            throw new ConfigException("AES-GCM is not available on this platform, so dumps cannot be encrypted or decrypted here");
        }
    }
}
