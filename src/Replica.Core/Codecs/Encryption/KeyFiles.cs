using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace Replica.Codecs.Encryption;

/// <summary>A recipient's public key, as loaded for dumping: only its SubjectPublicKeyInfo is kept.</summary>
internal sealed class RecipientKey(string method, string keyId, string origin, byte[] subjectPublicKeyInfo)
{
    public string Method { get; } = method;
    public string KeyId { get; } = keyId;
    public string Origin { get; } = origin;
    public byte[] SubjectPublicKeyInfo { get; } = subjectPublicKeyInfo;
}

/// <summary>A recipient's private key, as loaded for restoring. Holds an <see cref="RSA"/> or an <see cref="ECDiffieHellman"/>.</summary>
internal sealed class PrivateKey(string method, string keyId, string origin, AsymmetricAlgorithm key) : IDisposable
{
    public string Method { get; } = method;
    public string KeyId { get; } = keyId;
    public string Origin { get; } = origin;
    public AsymmetricAlgorithm Key { get; } = key;

    public void Dispose() => Key.Dispose();
}

/// <summary>
/// Reads and writes PEM key files: "PUBLIC KEY" (SubjectPublicKeyInfo), "PRIVATE KEY" (PKCS#8), "ENCRYPTED PRIVATE KEY"
/// (PKCS#8 under a passphrase), and OpenSSL's older "RSA PUBLIC KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY".
/// Decoded key bytes are zeroed once imported. Errors are <see cref="ConfigException"/>s naming the file, never its content.
/// </summary>
internal static class KeyFiles
{
    public const int MinRsaKeySize = 3072;
    const int MaxKeyFileSize = 64 * 1024;
    const string RsaOid = "1.2.840.113549.1.1.1";
    const string EcOid = "1.2.840.10045.2.1";
    const string P256Oid = "1.2.840.10045.3.1.7";
    const string P384Oid = "1.3.132.0.34";

    /// <summary>Reads a small secret or key file; the caller zeroes the result.</summary>
    public static byte[] ReadSmallFile(string path, string what)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                EncryptionThrow.Key(path, $"the {what} file does not exist");
            }
            if (info.Length > MaxKeyFileSize)
            {
                EncryptionThrow.Key(path, $"the {what} file is {info.Length} bytes; a key file is at most {MaxKeyFileSize} bytes");
            }
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read the {what} file: {ex.Message}", file: path);
        }
    }

    /// <summary>Reads a PEM file into chars; the caller zeroes the result.</summary>
    public static char[] ReadPemFile(string path, string what)
    {
        byte[] bytes = ReadSmallFile(path, what);
        try
        {
            return Encoding.UTF8.GetChars(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public static RecipientKey ParsePublicKey(ReadOnlySpan<char> pem, string origin)
    {
        (string label, byte[] der) = DecodePem(pem, origin);
        try
        {
            using AsymmetricAlgorithm key = label switch
            {
                "PUBLIC KEY" => ImportPublicKeyInfo(der, origin),
                "RSA PUBLIC KEY" => ImportRsaPublicKey(der, origin),
                _ when label.Contains("PRIVATE", StringComparison.Ordinal) => throw new ConfigException(
                    "this is a private key; a recipient is given as its public key file (PEM \"PUBLIC KEY\")", file: origin),
                _ => throw new ConfigException(
                    $"expected a PEM \"PUBLIC KEY\", found \"{label}\"", file: origin),
            };
            string method = MethodOf(key, origin);
            byte[] spki = key.ExportSubjectPublicKeyInfo();
            return new RecipientKey(method, KeyIdOf(spki), origin, spki);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    public static PrivateKey ParsePrivateKey(ReadOnlySpan<char> pem, string origin, ReadOnlySpan<char> passphrase)
    {
        (string label, byte[] der) = DecodePem(pem, origin);
        AsymmetricAlgorithm? key = null;
        try
        {
            key = label switch
            {
                "PRIVATE KEY" => ImportPkcs8(der, origin),
                "ENCRYPTED PRIVATE KEY" => ImportEncryptedPkcs8(der, origin, passphrase),
                "RSA PRIVATE KEY" => Import(RSA.Create(), k => ((RSA)k).ImportRSAPrivateKey(der, out _), origin),
                "EC PRIVATE KEY" => Import(ECDiffieHellman.Create(), k => ((ECDiffieHellman)k).ImportECPrivateKey(der, out _), origin),
                _ when label.Contains("PUBLIC", StringComparison.Ordinal) => throw new ConfigException(
                    "this is a public key; restoring needs the matching private key file (PEM \"PRIVATE KEY\")", file: origin),
                _ => throw new ConfigException($"expected a PEM \"PRIVATE KEY\", found \"{label}\"", file: origin),
            };
            string method = MethodOf(key, origin);
            byte[] spki = key.ExportSubjectPublicKeyInfo();
            var loaded = new PrivateKey(method, KeyIdOf(spki), origin, key);
            key = null;
            return loaded;
        }
        finally
        {
            key?.Dispose();
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>First 8 bytes of SHA-256 over the SubjectPublicKeyInfo, as 16 lowercase hex digits.</summary>
    public static string KeyIdOf(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(subjectPublicKeyInfo, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>The key-slot method a key serves, after checking it is strong and of a supported kind.</summary>
    public static string MethodOf(AsymmetricAlgorithm key, string origin)
    {
        switch (key)
        {
            case RSA rsa:
                if (rsa.KeySize < MinRsaKeySize)
                {
                    throw new ConfigException(
                        $"the RSA key has {rsa.KeySize} bits; at least {MinRsaKeySize} are required", file: origin);
                }
                return KeySlotMethods.RsaOaepSha256;
            case ECDiffieHellman ecdh:
                ECCurve curve = ecdh.ExportParameters(includePrivateParameters: false).Curve;
                string? oid = curve.IsNamed ? curve.Oid.Value : null;
                return oid switch
                {
                    P256Oid => KeySlotMethods.EcdhP256,
                    P384Oid => KeySlotMethods.EcdhP384,
                    _ => throw new ConfigException(
                        $"the EC key uses curve '{curve.Oid.FriendlyName ?? oid ?? "explicit parameters"}'; P-256 or P-384 is required",
                        file: origin),
                };
            default:
                throw new ConfigException("unsupported key type; RSA or EC (P-256, P-384) is required", file: origin);
        }
    }

    /// <summary>Writes a PEM file. A secret file is created with mode 0600 from the start, never widened later.</summary>
    public static void WritePem(string path, string label, ReadOnlySpan<byte> der, bool secret)
    {
        int charCount = PemEncoding.GetEncodedSize(label.Length, der.Length);
        char[] chars = new char[charCount + 1];
        byte[]? bytes = null;
        try
        {
            PemEncoding.TryWrite(label, der, chars, out int written);
            chars[written++] = '\n';
            bytes = Encoding.ASCII.GetBytes(chars, 0, written);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = secret
                    ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                    : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            }
            using var stream = new FileStream(path, options);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            if (secret)
            {
                CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes(chars.AsSpan()));
                if (bytes is not null)
                {
                    CryptographicOperations.ZeroMemory(bytes);
                }
            }
        }
    }

    static (string Label, byte[] Der) DecodePem(ReadOnlySpan<char> pem, string origin)
    {
        if (!PemEncoding.TryFind(pem, out PemFields fields))
        {
            throw new ConfigException("not a PEM key file (no -----BEGIN ...----- block)", file: origin);
        }
        string label = pem[fields.Label].ToString();
        byte[] der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(pem[fields.Base64Data], der, out int written) || written != der.Length)
        {
            CryptographicOperations.ZeroMemory(der);
            throw new ConfigException($"the PEM \"{label}\" block is not valid base64", file: origin);
        }
        return (label, der);
    }

    static AsymmetricAlgorithm ImportPublicKeyInfo(byte[] der, string origin)
    {
        string oid = AlgorithmOid(der, origin, isPkcs8: false);
        return oid switch
        {
            RsaOid => Import(RSA.Create(), k => ((RSA)k).ImportSubjectPublicKeyInfo(der, out _), origin),
            EcOid => Import(ECDiffieHellman.Create(), k => ((ECDiffieHellman)k).ImportSubjectPublicKeyInfo(der, out _), origin),
            _ => throw new ConfigException(
                $"unsupported public key algorithm {oid}; RSA or EC (P-256, P-384) is required", file: origin),
        };
    }

    static AsymmetricAlgorithm ImportRsaPublicKey(byte[] der, string origin) =>
        Import(RSA.Create(), k => ((RSA)k).ImportRSAPublicKey(der, out _), origin);

    static AsymmetricAlgorithm ImportPkcs8(byte[] der, string origin)
    {
        string oid = AlgorithmOid(der, origin, isPkcs8: true);
        return oid switch
        {
            RsaOid => Import(RSA.Create(), k => ((RSA)k).ImportPkcs8PrivateKey(der, out _), origin),
            EcOid => Import(ECDiffieHellman.Create(), k => ((ECDiffieHellman)k).ImportPkcs8PrivateKey(der, out _), origin),
            _ => throw new ConfigException(
                $"unsupported private key algorithm {oid}; RSA or EC (P-256, P-384) is required", file: origin),
        };
    }

    /// <summary>
    /// The algorithm sits inside the encrypted part, so try RSA, then EC. Both failing means a wrong passphrase (or
    /// another key type): the two cannot be told apart without decrypting, which is what failed.
    /// </summary>
    static AsymmetricAlgorithm ImportEncryptedPkcs8(byte[] der, string origin, ReadOnlySpan<char> passphrase)
    {
        if (passphrase.IsEmpty)
        {
            throw new ConfigException("the private key is encrypted (PEM \"ENCRYPTED PRIVATE KEY\"); give its passphrase", file: origin);
        }
        var rsa = RSA.Create();
        try
        {
            rsa.ImportEncryptedPkcs8PrivateKey(passphrase, der, out _);
            return rsa;
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
        }
        var ecdh = ECDiffieHellman.Create();
        try
        {
            ecdh.ImportEncryptedPkcs8PrivateKey(passphrase, der, out _);
            return ecdh;
        }
        catch (CryptographicException)
        {
            ecdh.Dispose();
        }
        throw new ConfigException(
            "cannot decrypt the private key: wrong passphrase, or not an RSA or EC key", file: origin);
    }

    static AsymmetricAlgorithm Import(AsymmetricAlgorithm key, Action<AsymmetricAlgorithm> import, string origin)
    {
        try
        {
            import(key);
            return key;
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new ConfigException($"cannot read the key: {ex.Message}", file: origin);
        }
    }

    static string AlgorithmOid(byte[] der, string origin, bool isPkcs8)
    {
        try
        {
            // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
            // PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING }
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            AsnReader sequence = reader.ReadSequence();
            if (isPkcs8)
            {
                sequence.ReadEncodedValue();
            }
            return sequence.ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            throw new ConfigException("the key is not valid DER (SubjectPublicKeyInfo or PKCS#8 expected)", file: origin);
        }
    }
}
