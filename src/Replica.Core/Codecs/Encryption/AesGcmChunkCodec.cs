using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Replica.Codecs.Encryption;

/// <summary>
/// AES-256-GCM over the chunks of one dump, under that dump's own random data key (DEK).
/// <para>
/// Stored chunk = ciphertext || 16-byte tag (tag last, so the stored size is the plain size + 16 and the ciphertext
/// starts at offset 0).
/// Nonce (12 bytes) = the dump's 4-byte random nonce prefix || the chunk index as a 64-bit big-endian counter: unique
/// per chunk under a key that is itself unique per dump (RepliByte reused one nonce for every chunk of every dump).
/// Associated data (26 bytes) = format version (1 byte) || dump id (16 bytes) || chunk index (64-bit big-endian) ||
/// last-chunk flag (1 byte, 0 or 1). So a flipped bit, a chunk moved to another position, a chunk from another dump, a
/// dropped last chunk (the new last chunk lacks the flag) and chunks appended after the last all fail authentication.
/// </para>
/// <para>
/// Dumps in parts (bridge format v2, encryption header version 3 on) bind the part too: nonce = prefix || part index
/// (32-bit big-endian) || chunk index inside the part (32-bit big-endian); associated data = chunk format version 2 ||
/// dump id || part index (32-bit) || chunk index inside the part (32-bit) || the flag, set on each part's last chunk. So
/// a chunk moved to another part, or a part cut short, fails authentication as well. Older dumps keep version 1.
/// </para>
/// The manifest's chunk list is authenticated too (header version 2 on): <see cref="ManifestTag"/> is HMAC-SHA256 over
/// it under a key derived from the data key (HKDF-SHA256, salt = dump id, info "replica/2 manifest tag"); from header
/// version 4 on the tagged bytes start with the dump's name, created_at and sizes (the caller feeds them, with their own
/// label and the header version, before the chunk list), so its index entry can be checked against them.
/// </para>
/// <para>
/// Created by <see cref="DumpEncryption.CreateHeader"/> (to encode) or <see cref="DumpEncryption.Open"/> (to decode).
/// One <see cref="AesGcm"/> instance per codec (<see cref="Fork"/> gives each further worker its own); nonce and
/// associated data live on the stack, so a chunk allocates nothing.
/// </summary>
public sealed class AesGcmChunkCodec : IChunkCodec
{
    public const string AlgorithmName = "aes-256-gcm";
    public const int TagSize = 16;
    public const int KeySize = 32;
    public const int NonceSize = 12;
    public const int NoncePrefixSize = 4;
    public const int DumpIdSize = 16;

    /// <summary>The chunk format version bound into every chunk's associated data: 1 for one run of chunks.</summary>
    internal const byte FormatVersion = 1;

    /// <summary>The chunk format version of dumps in parts: the associated data and nonce bind the part index.</summary>
    internal const byte PartsFormatVersion = 2;

    const int AssociatedDataSize = 1 + DumpIdSize + sizeof(ulong) + 1;
    const int MaxPlainLength = int.MaxValue - 64;

    readonly AesGcm _aes;
    // Kept (and zeroed on Dispose) only so that Fork can give another thread its own AesGcm: an instance is not
    // thread-safe, and the runtime cannot read its key back.
    readonly byte[] _key;
    readonly byte[] _dumpId;
    readonly byte[] _noncePrefix;
    readonly byte[] _manifestKey;
    readonly bool _bindsParts;
    bool _disposed;

    /// <summary>
    /// True when <see cref="DumpEncryption.Open"/> unwrapped the data key from a recipient's slot with a private key.
    /// Whoever holds that recipient's public key can wrap a data key of their own choosing into such a slot, so then
    /// every tag under it (chunks, manifest) proves only that the dump is intact, not who wrote it.
    /// </summary>
    public bool OpenedWithPrivateKey { get; internal init; }

    /// <summary>
    /// Takes a copy of the key; the caller zeroes its own buffer. <paramref name="bindsParts"/>: chunks carry their part
    /// index (chunk format version 2, encryption header version 3 on); else version 1, where every chunk is in part 0.
    /// </summary>
    internal AesGcmChunkCodec(ReadOnlySpan<byte> key, ReadOnlySpan<byte> dumpId, ReadOnlySpan<byte> noncePrefix, bool bindsParts)
    {
        if (key.Length != KeySize || dumpId.Length != DumpIdSize || noncePrefix.Length != NoncePrefixSize)
        {
            throw new ArgumentException("AES-256-GCM needs a 32-byte key, a 16-byte dump id and a 4-byte nonce prefix.");
        }
        _aes = new AesGcm(key, TagSize);
        _key = key.ToArray();
        _dumpId = dumpId.ToArray();
        _noncePrefix = noncePrefix.ToArray();
        _bindsParts = bindsParts;
        _manifestKey = new byte[KeySize];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, key, _manifestKey, _dumpId, s_manifestTagInfo);
    }

    static readonly byte[] s_manifestTagInfo = "replica/2 manifest tag"u8.ToArray();

    public string Name => AlgorithmName;

    /// <summary>The stored size of a chunk of <paramref name="plainLength"/> bytes.</summary>
    public static int StoredLength(int plainLength) => plainLength + TagSize;

    /// <summary>True when chunks carry their part index (see the class summary).</summary>
    public bool BindsParts => _bindsParts;

    public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output) =>
        Encode(plain, 0, chunkIndex, isLast, output);

    public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output) =>
        Decode(stored, 0, chunkIndex, isLast, output);

    public int? MaxEncodedLength(int plainLength) => StoredLength(plainLength);

    public void Encode(ReadOnlySpan<byte> plain, int partIndex, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int storedLength = plain.Length + TagSize;
        Span<byte> stored = output.GetSpan(storedLength)[..storedLength];
        Seal(plain, stored[..plain.Length], stored[plain.Length..], partIndex, chunkIndex, isLast);
        output.Advance(storedLength);
    }

    /// <summary>
    /// The stored form of <paramref name="data"/> made where it lies: the ciphertext replaces the plain bytes and the
    /// tag goes into <paramref name="tag"/> (the <see cref="TagSize"/> bytes after them, for the same stored bytes as
    /// <see cref="Encode(ReadOnlySpan{byte}, int, int, bool, IBufferWriter{byte})"/>). Lets a chain compress straight
    /// into its output and encrypt there (<see cref="CodecChain"/>).
    /// </summary>
    internal void EncryptInPlace(Span<byte> data, Span<byte> tag, int partIndex, int chunkIndex, bool isLast) =>
        Seal(data, data, tag[..TagSize], partIndex, chunkIndex, isLast);

    /// <summary>Encrypts <paramref name="plain"/> into <paramref name="cipher"/> (the same bytes or apart) under the chunk's nonce and associated data.</summary>
    void Seal(ReadOnlySpan<byte> plain, Span<byte> cipher, Span<byte> tag, int partIndex, int chunkIndex, bool isLast)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckPosition(partIndex, chunkIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(plain.Length, MaxPlainLength);
        Span<byte> nonce = stackalloc byte[NonceSize];
        Span<byte> associatedData = stackalloc byte[AssociatedDataSize];
        WriteNonce(nonce, partIndex, chunkIndex);
        WriteAssociatedData(associatedData, partIndex, chunkIndex, isLast);
        _aes.Encrypt(nonce, plain, cipher, tag, associatedData);
    }

    /// <summary>
    /// Decrypts into the output's span but advances the output only once the tag verified: a chunk that fails leaves
    /// nothing written (its span is zeroed, never committed). That saves a 16 MiB scratch buffer and a copy per chunk.
    /// </summary>
    public void Decode(ReadOnlySpan<byte> stored, int partIndex, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckPosition(partIndex, chunkIndex);
        ArgumentNullException.ThrowIfNull(output);

        if (stored.Length < TagSize)
        {
            EncryptionThrow.Chunk(Which(partIndex, chunkIndex),
                $"it is {stored.Length} bytes, shorter than its {TagSize}-byte authentication tag (the chunk was truncated)");
        }

        int plainLength = stored.Length - TagSize;
        Span<byte> plain = output.GetSpan(plainLength)[..plainLength];
        if (TryDecrypt(stored, partIndex, chunkIndex, isLast, plain))
        {
            output.Advance(plainLength);
            return;
        }

        // Failure path only: a second try with the flag flipped tells truncation and appending apart from tampering.
        bool flagIsWrong = TryDecrypt(stored, partIndex, chunkIndex, !isLast, plain);
        CryptographicOperations.ZeroMemory(plain);
        string whole = _bindsParts ? "part" : "dump";
        string problem = !flagIsWrong
            ? _bindsParts
                ? $"authentication failed: the chunk was altered, belongs to another dump, or is not chunk {chunkIndex} of part {partIndex} (chunks moved between parts fail here)"
                : $"authentication failed: the chunk was altered, belongs to another dump, or is not chunk {chunkIndex}"
            : isLast
                ? $"it is not the {whole}'s last chunk, yet the manifest ends the {whole} with it: the {whole} was truncated"
                : $"it is the {whole}'s last chunk, yet the manifest lists more chunks after it: chunks were appended";
        EncryptionThrow.Chunk(Which(partIndex, chunkIndex), problem);
    }

    string Which(int partIndex, int chunkIndex) => _bindsParts ? $"{chunkIndex} of part {partIndex}" : $"{chunkIndex}";

    bool TryDecrypt(ReadOnlySpan<byte> stored, int partIndex, int chunkIndex, bool isLast, Span<byte> plain)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        Span<byte> associatedData = stackalloc byte[AssociatedDataSize];
        WriteNonce(nonce, partIndex, chunkIndex);
        WriteAssociatedData(associatedData, partIndex, chunkIndex, isLast);
        int plainLength = stored.Length - TagSize;
        try
        {
            _aes.Decrypt(nonce, stored[..plainLength], stored[plainLength..], plain, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(plain);
            return false;
        }
    }

    void CheckPosition(int partIndex, int chunkIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(chunkIndex);
        if (!_bindsParts && partIndex != 0)
        {
            // A version 1 chunk has no room for a part: two parts would reuse nonces under one key.
            throw new InvalidOperationException($"This dump's encryption (chunk format version 1) has one part only; part {partIndex} cannot be encrypted.");
        }
    }

    // Version 1: prefix || 64-bit chunk index. Version 2: prefix || 32-bit part index || 32-bit chunk index. Either way
    // unique per chunk of the dump, under a key unique to the dump.
    void WriteNonce(Span<byte> nonce, int partIndex, int chunkIndex)
    {
        _noncePrefix.CopyTo(nonce);
        if (_bindsParts)
        {
            BinaryPrimitives.WriteUInt32BigEndian(nonce[NoncePrefixSize..], (uint)partIndex);
            BinaryPrimitives.WriteUInt32BigEndian(nonce[(NoncePrefixSize + sizeof(uint))..], (uint)chunkIndex);
            return;
        }
        BinaryPrimitives.WriteUInt64BigEndian(nonce[NoncePrefixSize..], (ulong)chunkIndex);
    }

    void WriteAssociatedData(Span<byte> associatedData, int partIndex, int chunkIndex, bool isLast)
    {
        _dumpId.CopyTo(associatedData[1..]);
        Span<byte> position = associatedData[(1 + DumpIdSize)..];
        if (_bindsParts)
        {
            associatedData[0] = PartsFormatVersion;
            BinaryPrimitives.WriteUInt32BigEndian(position, (uint)partIndex);
            BinaryPrimitives.WriteUInt32BigEndian(position[sizeof(uint)..], (uint)chunkIndex);
        }
        else
        {
            associatedData[0] = FormatVersion;
            BinaryPrimitives.WriteUInt64BigEndian(position, (ulong)chunkIndex);
        }
        associatedData[AssociatedDataSize - 1] = isLast ? (byte)1 : (byte)0;
    }

    /// <summary>
    /// Another codec under the same key, dump id, nonce prefix and format (parts bound or not). Nonces stay unique: the
    /// nonce is fixed by the chunk's position (its part and index), and the chunker hands each position to exactly one codec.
    /// </summary>
    public IChunkCodec Fork()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new AesGcmChunkCodec(_key, _dumpId, _noncePrefix, _bindsParts);
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _aes.Dispose(); // releases (and clears) the native key schedule
            CryptographicOperations.ZeroMemory(_key);
            CryptographicOperations.ZeroMemory(_manifestKey);
        }
    }

    /// <summary>
    /// The tag of a manifest's chunk list, in base64: <paramref name="appendChunkList"/> feeds the list's canonical bytes
    /// (the bridge knows its layout) into the keyed hash, so a long list is never held whole.
    /// </summary>
    public string ManifestTag(Action<IncrementalHash> appendChunkList)
    {
        ArgumentNullException.ThrowIfNull(appendChunkList);
        Span<byte> tag = stackalloc byte[HMACSHA256.HashSizeInBytes];
        ComputeManifestTag(appendChunkList, tag);
        return Convert.ToBase64String(tag);
    }

    /// <summary>True when <paramref name="tag"/> (base64) is the tag of the chunk list; compared in constant time.</summary>
    public bool IsManifestTagValid(Action<IncrementalHash> appendChunkList, string tag)
    {
        ArgumentNullException.ThrowIfNull(appendChunkList);
        ArgumentNullException.ThrowIfNull(tag);
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        ComputeManifestTag(appendChunkList, expected);
        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes];
        return Convert.TryFromBase64String(tag, actual, out int written) && written == actual.Length
            && CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    void ComputeManifestTag(Action<IncrementalHash> appendChunkList, Span<byte> tag)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _manifestKey);
        appendChunkList(hmac);
        hmac.GetHashAndReset(tag);
    }

    public override string ToString() => AlgorithmName;
}
