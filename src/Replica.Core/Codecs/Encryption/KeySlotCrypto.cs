using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Replica.Codecs.Encryption;

/// <summary>
/// Wraps and unwraps the data key in one <see cref="KeySlot"/> (the scheme is described there). Every slot ends in the
/// same AES-256-GCM wrap whose associated data binds the header and the slot's own fields, so tampering with any of
/// them is caught when the slot is opened, before a chunk is read.
/// </summary>
internal static class KeySlotCrypto
{
    const int SaltSize = 16;
    const int WrappedKeySize = AesGcmChunkCodec.KeySize + AesGcmChunkCodec.TagSize;
    static readonly byte[] s_bindingLabel = "replica/1 key slot binding"u8.ToArray();
    static readonly byte[] s_rawKeyInfo = "replica/1 key slot key"u8.ToArray();

    // Creating slots (dumping)

    public static KeySlot ForPassphrase(ReadOnlySpan<byte> passphrase, int iterations, EncryptionHeader core, ReadOnlySpan<byte> dek)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(SaltSize);
        var slot = new KeySlot(KeySlotMethods.Passphrase, "", "",
            Kdf: KeySlotMethods.Pbkdf2HmacSha256, Iterations: iterations, Salt: Convert.ToBase64String(salt));
        Span<byte> kek = stackalloc byte[AesGcmChunkCodec.KeySize];
        try
        {
            Rfc2898DeriveBytes.Pbkdf2(passphrase, salt, kek, iterations, HashAlgorithmName.SHA256);
            return Wrap(slot, kek, core, dek);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    public static KeySlot ForRawKey(ReadOnlySpan<byte> rawKey, EncryptionHeader core, ReadOnlySpan<byte> dek)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(SaltSize);
        var slot = new KeySlot(KeySlotMethods.RawKey, "", "", Kdf: KeySlotMethods.HkdfSha256, Salt: Convert.ToBase64String(salt));
        Span<byte> kek = stackalloc byte[AesGcmChunkCodec.KeySize];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, rawKey, kek, salt, s_rawKeyInfo);
            return Wrap(slot, kek, core, dek);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    public static KeySlot ForRecipient(RecipientKey recipient, EncryptionHeader core, ReadOnlySpan<byte> dek)
    {
        Span<byte> kek = stackalloc byte[AesGcmChunkCodec.KeySize];
        try
        {
            KeySlot slot;
            if (recipient.Method == KeySlotMethods.RsaOaepSha256)
            {
                RandomNumberGenerator.Fill(kek);
                using RSA rsa = RSA.Create();
                rsa.ImportSubjectPublicKeyInfo(recipient.SubjectPublicKeyInfo, out _);
                byte[] encrypted = rsa.Encrypt(kek, RSAEncryptionPadding.OaepSHA256);
                slot = new KeySlot(recipient.Method, "", "", KeyId: recipient.KeyId, EncryptedKey: Convert.ToBase64String(encrypted));
            }
            else
            {
                using ECDiffieHellman recipientKey = ECDiffieHellman.Create();
                recipientKey.ImportSubjectPublicKeyInfo(recipient.SubjectPublicKeyInfo, out _);
                ECCurve curve = recipientKey.ExportParameters(includePrivateParameters: false).Curve;
                using ECDiffieHellman ephemeral = ECDiffieHellman.Create(curve);
                byte[] ephemeralSpki = ephemeral.ExportSubjectPublicKeyInfo();
                byte[] shared = ephemeral.DeriveRawSecretAgreement(recipientKey.PublicKey);
                try
                {
                    EcdhKek(recipient.Method, shared, ephemeralSpki, recipient.SubjectPublicKeyInfo, kek);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(shared);
                }
                slot = new KeySlot(recipient.Method, "", "", Kdf: KeySlotMethods.HkdfSha256, KeyId: recipient.KeyId,
                    EphemeralPublicKey: Convert.ToBase64String(ephemeralSpki));
            }
            return Wrap(slot, kek, core, dek);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    // Opening slots (restoring). Each returns false when the key does not open the slot.

    public static bool TryOpenWithPassphrase(KeySlot slot, int slotIndex, ReadOnlySpan<byte> passphrase, EncryptionHeader header, Span<byte> dek)
    {
        RequireKdf(slot, slotIndex, KeySlotMethods.Pbkdf2HmacSha256);
        if (slot.Iterations is not int iterations)
        {
            EncryptionThrow.Slot(slotIndex, slot.Method, "'iterations' is missing");
            return false;
        }
        if (iterations is < EncryptionKeys.MinPbkdf2Iterations or > EncryptionKeys.MaxPbkdf2Iterations)
        {
            EncryptionThrow.Slot(slotIndex, slot.Method,
                $"'iterations' is {iterations}, outside {EncryptionKeys.MinPbkdf2Iterations}..{EncryptionKeys.MaxPbkdf2Iterations} (the header was altered)");
        }
        byte[] salt = DecodeField(slot.Salt, "salt", SaltSize, slotIndex, slot.Method);
        Span<byte> kek = stackalloc byte[AesGcmChunkCodec.KeySize];
        try
        {
            Rfc2898DeriveBytes.Pbkdf2(passphrase, salt, kek, iterations, HashAlgorithmName.SHA256);
            return TryUnwrap(slot, slotIndex, kek, header, dek);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    public static bool TryOpenWithRawKey(KeySlot slot, int slotIndex, ReadOnlySpan<byte> rawKey, EncryptionHeader header, Span<byte> dek)
    {
        RequireKdf(slot, slotIndex, KeySlotMethods.HkdfSha256);
        byte[] salt = DecodeField(slot.Salt, "salt", SaltSize, slotIndex, slot.Method);
        Span<byte> kek = stackalloc byte[AesGcmChunkCodec.KeySize];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, rawKey, kek, salt, s_rawKeyInfo);
            return TryUnwrap(slot, slotIndex, kek, header, dek);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    public static bool TryOpenWithPrivateKey(KeySlot slot, int slotIndex, PrivateKey privateKey, EncryptionHeader header, Span<byte> dek)
    {
        Span<byte> kek = stackalloc byte[AesGcmChunkCodec.KeySize];
        try
        {
            if (privateKey.Key is RSA rsa)
            {
                byte[] encrypted = DecodeField(slot.EncryptedKey, "encrypted_key", -1, slotIndex, slot.Method);
                byte[] decrypted;
                try
                {
                    decrypted = rsa.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA256);
                }
                catch (CryptographicException)
                {
                    return false; // OAEP padding check failed: not this key, or the field was altered
                }
                try
                {
                    if (decrypted.Length != kek.Length)
                    {
                        return false;
                    }
                    decrypted.CopyTo(kek);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(decrypted);
                }
            }
            else
            {
                RequireKdf(slot, slotIndex, KeySlotMethods.HkdfSha256);
                var recipient = (ECDiffieHellman)privateKey.Key;
                byte[] ephemeralSpki = DecodeField(slot.EphemeralPublicKey, "ephemeral_public_key", -1, slotIndex, slot.Method);
                using ECDiffieHellman ephemeral = ECDiffieHellman.Create();
                try
                {
                    ephemeral.ImportSubjectPublicKeyInfo(ephemeralSpki, out _);
                    if (KeyFiles.MethodOf(ephemeral, "ephemeral key") != slot.Method)
                    {
                        EncryptionThrow.Slot(slotIndex, slot.Method, "'ephemeral_public_key' is on another curve");
                    }
                }
                catch (Exception ex) when (ex is CryptographicException or ConfigException)
                {
                    EncryptionThrow.Slot(slotIndex, slot.Method, "'ephemeral_public_key' is not a valid EC public key");
                }
                byte[] shared = recipient.DeriveRawSecretAgreement(ephemeral.PublicKey);
                try
                {
                    EcdhKek(slot.Method, shared, ephemeralSpki, recipient.ExportSubjectPublicKeyInfo(), kek);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(shared);
                }
            }
            return TryUnwrap(slot, slotIndex, kek, header, dek);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    // The shared wrap

    static KeySlot Wrap(KeySlot slot, ReadOnlySpan<byte> kek, EncryptionHeader core, ReadOnlySpan<byte> dek)
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(AesGcmChunkCodec.NonceSize);
        byte[] wrapped = new byte[WrappedKeySize];
        using var aes = new AesGcm(kek, AesGcmChunkCodec.TagSize);
        aes.Encrypt(nonce, dek, wrapped.AsSpan(0, AesGcmChunkCodec.KeySize), wrapped.AsSpan(AesGcmChunkCodec.KeySize),
            Binding(core, slot));
        return slot with { Nonce = Convert.ToBase64String(nonce), WrappedKey = Convert.ToBase64String(wrapped) };
    }

    static bool TryUnwrap(KeySlot slot, int slotIndex, ReadOnlySpan<byte> kek, EncryptionHeader header, Span<byte> dek)
    {
        byte[] nonce = DecodeField(slot.Nonce, "nonce", AesGcmChunkCodec.NonceSize, slotIndex, slot.Method);
        byte[] wrapped = DecodeField(slot.WrappedKey, "wrapped_key", WrappedKeySize, slotIndex, slot.Method);
        using var aes = new AesGcm(kek, AesGcmChunkCodec.TagSize);
        try
        {
            aes.Decrypt(nonce, wrapped.AsSpan(0, AesGcmChunkCodec.KeySize), wrapped.AsSpan(AesGcmChunkCodec.KeySize), dek,
                Binding(header, slot));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(dek);
            return false;
        }
    }

    /// <summary>
    /// The wrap's associated data: a label, then each header and slot field (except the nonce and the wrapped key
    /// themselves) as a 4-byte big-endian length and its UTF-8 text; an absent field has length 0xFFFFFFFF.
    /// </summary>
    static byte[] Binding(EncryptionHeader header, KeySlot slot)
    {
        var buffer = new List<byte>(256);
        buffer.AddRange(s_bindingLabel);
        Field(buffer, header.Algorithm);
        Field(buffer, header.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Field(buffer, header.DumpId);
        Field(buffer, header.NoncePrefix);
        Field(buffer, slot.Method);
        Field(buffer, slot.Kdf);
        Field(buffer, slot.Iterations?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Field(buffer, slot.Salt);
        Field(buffer, slot.KeyId);
        Field(buffer, slot.EncryptedKey);
        Field(buffer, slot.EphemeralPublicKey);
        return buffer.ToArray();
    }

    static void Field(List<byte> buffer, string? value)
    {
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteUInt32BigEndian(length, uint.MaxValue);
            buffer.AddRange(length);
            return;
        }
        byte[] text = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)text.Length);
        buffer.AddRange(length);
        buffer.AddRange(text);
    }

    static void EcdhKek(string method, ReadOnlySpan<byte> shared, ReadOnlySpan<byte> ephemeralSpki,
        ReadOnlySpan<byte> recipientSpki, Span<byte> kek)
    {
        // Both public keys go into the info, so the KEK is tied to this exact exchange.
        byte[] info = [.. Encoding.ASCII.GetBytes("replica/1 key slot " + method), .. ephemeralSpki, .. recipientSpki];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, kek, [], info);
    }

    static void RequireKdf(KeySlot slot, int slotIndex, string kdf)
    {
        if (slot.Kdf != kdf)
        {
            EncryptionThrow.Slot(slotIndex, slot.Method, $"'kdf' is '{slot.Kdf}', expected '{kdf}'");
        }
    }

    /// <summary>Decodes a base64 field of a slot; <paramref name="length"/> -1 accepts any non-empty length.</summary>
    internal static byte[] DecodeField(string? base64, string name, int length, int slotIndex, string method)
    {
        if (base64 is null)
        {
            EncryptionThrow.Slot(slotIndex, method, $"'{name}' is missing");
        }
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            EncryptionThrow.Slot(slotIndex, method, $"'{name}' is not base64");
            return [];
        }
        if (length >= 0 ? bytes.Length != length : bytes.Length == 0)
        {
            EncryptionThrow.Slot(slotIndex, method,
                length >= 0 ? $"'{name}' is {bytes.Length} bytes, expected {length}" : $"'{name}' is empty");
        }
        return bytes;
    }
}
