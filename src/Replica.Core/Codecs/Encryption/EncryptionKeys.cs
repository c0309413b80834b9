using System.Security.Cryptography;
using System.Text;

namespace Replica.Codecs.Encryption;

/// <summary>
/// What the user supplied to protect or open dumps: a passphrase, a raw 32-byte key, recipients' public keys (dumping),
/// private keys (restoring). Any mix: a dump gets one key slot per passphrase, raw key and recipient given; a restore
/// tries whatever matches the dump's slots. Secrets are held in byte arrays zeroed on <see cref="Dispose"/>, never in
/// strings, and never appear in <see cref="ToString"/> or in exception messages (which name where a key came from).
/// </summary>
public sealed class EncryptionKeys : IDisposable
{
    /// <summary>OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultPbkdf2Iterations = 600_000;

    /// <summary>Lowest count accepted when creating or opening a dump (tests use it to stay fast).</summary>
    public const int MinPbkdf2Iterations = 1_000;

    /// <summary>
    /// Shortest passphrase a new dump is encrypted under. Opening a stored dump takes any passphrase, so that dumps made
    /// before this limit still restore.
    /// </summary>
    public const int MinPassphraseLength = 12;

    /// <summary>
    /// Highest count accepted when creating or opening a dump: a header altered to ask for more would hang the restore
    /// (100,000,000 took ~35 s on a small VM). Replica writes <see cref="DefaultPbkdf2Iterations"/>; this leaves room
    /// for a future default about 16 times as high (a few seconds), and a header holds one passphrase slot at most.
    /// </summary>
    public const int MaxPbkdf2Iterations = 10_000_000;

    /// <summary>
    /// The most recipients a dump is encrypted for (one key slot each). Opening refuses a header with more slots than
    /// replica writes (<see cref="MaxKeySlots"/>), so that an edited one cannot make it try a long list.
    /// </summary>
    public const int MaxRecipients = 64;

    /// <summary>The most key slots replica writes: one passphrase, one raw key and <see cref="MaxRecipients"/> recipients.</summary>
    public const int MaxKeySlots = MaxRecipients + 2;

    readonly List<RecipientKey> _recipients = [];
    readonly List<PrivateKey> _privateKeys = [];
    byte[]? _passphrase;
    byte[]? _rawKey;
    string? _rawKeyOrigin;
    int _pbkdf2Iterations = DefaultPbkdf2Iterations;
    bool _disposed;

    /// <summary>PBKDF2 iterations for new passphrase slots. Opening a dump uses the count stored in its header.</summary>
    public int Pbkdf2Iterations
    {
        get => _pbkdf2Iterations;
        init
        {
            if (value is < MinPbkdf2Iterations or > MaxPbkdf2Iterations)
            {
                throw new ConfigException(
                    $"PBKDF2 iterations must be between {MinPbkdf2Iterations} and {MaxPbkdf2Iterations}, got {value}");
            }
            _pbkdf2Iterations = value;
        }
    }

    public bool HasPassphrase => _passphrase is not null;

    public bool HasRawKey => _rawKey is not null;

    /// <summary>Where the raw key came from ("environment variable X", a file path), for messages.</summary>
    public string? RawKeyOrigin => _rawKeyOrigin;

    /// <summary>The recipients' key ids (<see cref="KeySlot.KeyId"/>), in the order added.</summary>
    public IReadOnlyList<string> RecipientKeyIds => _recipients.ConvertAll(r => r.KeyId);

    /// <summary>The private keys' key ids, in the order added.</summary>
    public IReadOnlyList<string> PrivateKeyIds => _privateKeys.ConvertAll(k => k.KeyId);

    /// <summary>True when a dump can be encrypted: a passphrase, a raw key or a recipient was given.</summary>
    public bool CanEncrypt => HasPassphrase || HasRawKey || _recipients.Count > 0;

    internal ReadOnlySpan<byte> Passphrase => _passphrase;

    internal ReadOnlySpan<byte> RawKey => _rawKey;

    internal IReadOnlyList<RecipientKey> Recipients => _recipients;

    internal IReadOnlyList<PrivateKey> PrivateKeys => _privateKeys;

    /// <summary>The passphrase, used as UTF-8 bytes (not normalized: type it the same way each time).</summary>
    public EncryptionKeys AddPassphrase(ReadOnlySpan<char> passphrase)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (passphrase.IsEmpty)
        {
            throw new ConfigException("the encryption passphrase is empty");
        }
        if (_passphrase is not null)
        {
            throw new ConfigException("only one encryption passphrase can be given");
        }
        _passphrase = new byte[Encoding.UTF8.GetByteCount(passphrase)];
        Encoding.UTF8.GetBytes(passphrase, _passphrase);
        return this;
    }

    /// <summary>A raw 32-byte key; <paramref name="origin"/> says where it came from, for messages.</summary>
    public EncryptionKeys AddRawKey(ReadOnlySpan<byte> key, string origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (key.Length != AesGcmChunkCodec.KeySize)
        {
            throw new ConfigException(
                $"an encryption key is {AesGcmChunkCodec.KeySize} bytes, this one is {key.Length}", file: origin);
        }
        if (_rawKey is not null)
        {
            throw new ConfigException("only one raw encryption key can be given", file: origin);
        }
        _rawKey = key.ToArray();
        _rawKeyOrigin = origin;
        return this;
    }

    /// <summary>A raw key as base64 (44 characters for 32 bytes); surrounding whitespace is ignored.</summary>
    public EncryptionKeys AddRawKeyBase64(ReadOnlySpan<char> base64, string origin)
    {
        ReadOnlySpan<char> text = base64.Trim();
        Span<byte> key = stackalloc byte[64];
        try
        {
            if (!Convert.TryFromBase64Chars(text, key, out int written) || written != AesGcmChunkCodec.KeySize)
            {
                throw new ConfigException(
                    $"an encryption key is {AesGcmChunkCodec.KeySize} bytes in base64 (44 characters, e.g. from " +
                    "`openssl rand -base64 32`); this value is not", file: origin);
            }
            return AddRawKey(key[..written], origin);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>A raw key, base64, from an environment variable.</summary>
    public EncryptionKeys AddRawKeyFromEnvironment(string variable)
    {
        string origin = $"environment variable {variable}";
        string? value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ConfigException("is not set or empty", file: origin);
        }
        return AddRawKeyBase64(value, origin);
    }

    /// <summary>A raw key, base64, from a file (<c>key_file</c>).</summary>
    public EncryptionKeys AddRawKeyFile(string path)
    {
        byte[] bytes = KeyFiles.ReadSmallFile(path, "key");
        char[] chars = new char[bytes.Length];
        try
        {
            int count = Encoding.ASCII.GetChars(bytes, chars);
            return AddRawKeyBase64(chars.AsSpan(0, count), path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
            Array.Clear(chars);
        }
    }

    /// <summary>A recipient's public key file (PEM "PUBLIC KEY": RSA of 3072+ bits, or EC P-256 / P-384).</summary>
    public EncryptionKeys AddRecipientFile(string path)
    {
        char[] pem = KeyFiles.ReadPemFile(path, "public key");
        try
        {
            return AddRecipientPem(pem, path);
        }
        finally
        {
            Array.Clear(pem); // in case a private key file was given by mistake
        }
    }

    /// <summary>A recipient's public key given as PEM text.</summary>
    public EncryptionKeys AddRecipientPem(ReadOnlySpan<char> pem, string origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        RecipientKey recipient = KeyFiles.ParsePublicKey(pem, origin);
        foreach (RecipientKey existing in _recipients)
        {
            if (existing.KeyId == recipient.KeyId)
            {
                return this; // the same key listed twice needs one slot
            }
        }
        if (_recipients.Count == MaxRecipients)
        {
            // Opening refuses a header with more slots than this (DumpEncryption.Open), so none is written.
            throw new ConfigException($"a dump is encrypted for at most {MaxRecipients} recipients; this is one more", file: origin);
        }
        _recipients.Add(recipient);
        return this;
    }

    /// <summary>A private key file for restoring (PEM "PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" with its passphrase).</summary>
    public EncryptionKeys AddPrivateKeyFile(string path, ReadOnlySpan<char> passphrase = default)
    {
        char[] pem = KeyFiles.ReadPemFile(path, "private key");
        try
        {
            return AddPrivateKeyPem(pem, path, passphrase);
        }
        finally
        {
            Array.Clear(pem);
        }
    }

    /// <summary>A private key given as PEM text.</summary>
    public EncryptionKeys AddPrivateKeyPem(ReadOnlySpan<char> pem, string origin, ReadOnlySpan<char> passphrase = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _privateKeys.Add(KeyFiles.ParsePrivateKey(pem, origin, passphrase));
        return this;
    }

    /// <summary>Lists what was supplied by kind and origin, never a secret.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (HasPassphrase)
        {
            parts.Add("a passphrase");
        }
        if (HasRawKey)
        {
            parts.Add($"a key from {_rawKeyOrigin}");
        }
        if (_recipients.Count > 0)
        {
            parts.Add($"{_recipients.Count} recipient(s)");
        }
        if (_privateKeys.Count > 0)
        {
            parts.Add($"{_privateKeys.Count} private key(s)");
        }
        return parts.Count == 0 ? "no keys" : string.Join(", ", parts);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_passphrase is not null)
        {
            CryptographicOperations.ZeroMemory(_passphrase);
        }
        if (_rawKey is not null)
        {
            CryptographicOperations.ZeroMemory(_rawKey);
        }
        foreach (PrivateKey key in _privateKeys)
        {
            key.Dispose();
        }
        _privateKeys.Clear();
    }
}
