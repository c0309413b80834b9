using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Replica.Codecs.Encryption;
using static Replica.Core.Tests.Codecs.Encryption.EncryptionTestSupport;

namespace Replica.Core.Tests.Codecs.Encryption;

public sealed class AesGcmChunkCodecTests
{
    [Theory]
    [InlineData(new[] { 1000 })]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 4096, 4096, 4096, 17 })]
    [InlineData(new[] { 4096, 4096, 0 })]
    [InlineData(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 })]
    public void EncodeDecode_ChunkLayouts_RoundTrip(int[] sizes)
    {
        byte[] data = Bytes(sizes.Sum());
        byte[][] chunks = Split(data, sizes);
        using EncryptionKeys keys = PassphraseKeys();

        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, chunks);

        for (int i = 0; i < chunks.Length; i++)
        {
            Assert.Equal(chunks[i].Length + AesGcmChunkCodec.TagSize, stored[i].Length);
            Assert.Equal(AesGcmChunkCodec.StoredLength(chunks[i].Length), stored[i].Length);
        }
        Assert.Equal(data, DecryptDump(header, keys, stored));
    }

    [Fact]
    public void Fork_SameChunk_SameBytesAndEachDecodesTheOther()
    {
        // Chunks encoded by forks on several workers must be the bytes one codec would write: the nonce comes from the
        // chunk's position alone, under the same key, dump id and nonce prefix, in either format (parts bound or not).
        foreach (bool bindsParts in new[] { false, true })
        {
            byte[] plain = Bytes(300, seed: 3);
            using var codec = new AesGcmChunkCodec(Bytes(32, seed: 7), Bytes(16, seed: 8), [1, 2, 3, 4], bindsParts);
            using var fork = codec.Fork();
            var byCodec = new ArrayBufferWriter<byte>();
            var byFork = new ArrayBufferWriter<byte>();
            int part = bindsParts ? 3 : 0;

            codec.Encode(plain, part, 7, isLast: false, byCodec);
            fork.Encode(plain, part, 7, isLast: false, byFork);

            Assert.Equal(byCodec.WrittenSpan.ToArray(), byFork.WrittenSpan.ToArray());
            var decoded = new ArrayBufferWriter<byte>();
            codec.Decode(byFork.WrittenSpan, part, 7, isLast: false, decoded);
            Assert.Equal(plain, decoded.WrittenSpan.ToArray());
            var decodedByFork = new ArrayBufferWriter<byte>();
            fork.Decode(byCodec.WrittenSpan, part, 7, isLast: false, decodedByFork);
            Assert.Equal(plain, decodedByFork.WrittenSpan.ToArray());
        }
    }

    [Fact]
    public void Fork_Disposed_LeavesTheOriginalWorking()
    {
        using var codec = new AesGcmChunkCodec(Bytes(32, seed: 7), Bytes(16, seed: 8), [1, 2, 3, 4], bindsParts: true);
        codec.Fork().Dispose();

        var output = new ArrayBufferWriter<byte>();
        codec.Encode(Bytes(10), 0, isLast: true, output);

        Assert.Equal(26, output.WrittenCount);
    }

    [Fact]
    public void Encode_StoredChunk_IsCiphertextThenTag()
    {
        // The documented layout, checked against AesGcm directly with the nonce and associated data built by hand.
        byte[] key = Bytes(32, seed: 7);
        byte[] dumpId = Bytes(16, seed: 8);
        byte[] prefix = [1, 2, 3, 4];
        byte[] plain = Bytes(100, seed: 9);
        using var codec = new AesGcmChunkCodec(key, dumpId, prefix, bindsParts: false);
        var output = new ArrayBufferWriter<byte>();

        codec.Encode(plain, 5, isLast: true, output);

        byte[] nonce = new byte[12];
        prefix.CopyTo(nonce, 0);
        BinaryPrimitives.WriteUInt64BigEndian(nonce.AsSpan(4), 5);
        byte[] associatedData = new byte[26];
        associatedData[0] = 1;
        dumpId.CopyTo(associatedData, 1);
        BinaryPrimitives.WriteUInt64BigEndian(associatedData.AsSpan(17), 5);
        associatedData[25] = 1;
        byte[] expected = new byte[116];
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(nonce, plain, expected.AsSpan(0, 100), expected.AsSpan(100), associatedData);
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Encode_PartsBound_NonceAndAssociatedDataHoldPartAndChunk()
    {
        // Chunk format version 2 (bridge format v2): 32-bit part index then 32-bit chunk index, in nonce and associated data.
        byte[] key = Bytes(32, seed: 7);
        byte[] dumpId = Bytes(16, seed: 8);
        byte[] prefix = [1, 2, 3, 4];
        byte[] plain = Bytes(100, seed: 9);
        using var codec = new AesGcmChunkCodec(key, dumpId, prefix, bindsParts: true);
        var output = new ArrayBufferWriter<byte>();

        codec.Encode(plain, 3, 5, isLast: false, output);

        byte[] nonce = new byte[12];
        prefix.CopyTo(nonce, 0);
        BinaryPrimitives.WriteUInt32BigEndian(nonce.AsSpan(4), 3);
        BinaryPrimitives.WriteUInt32BigEndian(nonce.AsSpan(8), 5);
        byte[] associatedData = new byte[26];
        associatedData[0] = 2;
        dumpId.CopyTo(associatedData, 1);
        BinaryPrimitives.WriteUInt32BigEndian(associatedData.AsSpan(17), 3);
        BinaryPrimitives.WriteUInt32BigEndian(associatedData.AsSpan(21), 5);
        byte[] expected = new byte[116];
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(nonce, plain, expected.AsSpan(0, 100), expected.AsSpan(100), associatedData);
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Decode_ChunkOfAnotherPart_FailsNamingPartAndChunk()
    {
        using var codec = new AesGcmChunkCodec(Bytes(32), Bytes(16, seed: 2), [1, 2, 3, 4], bindsParts: true);
        var stored = new ArrayBufferWriter<byte>();
        codec.Encode(Bytes(100), 1, 0, isLast: true, stored);
        var output = new ArrayBufferWriter<byte>();

        var ex = Assert.Throws<IntegrityException>(() => codec.Decode(stored.WrittenSpan, 2, 0, isLast: true, output));

        Assert.Contains("not chunk 0 of part 2", ex.Message);
        Assert.Equal(0, output.WrittenCount);
        codec.Decode(stored.WrittenSpan, 1, 0, isLast: true, output);
        Assert.Equal(Bytes(100), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Encode_PartOtherThanZeroWithoutPartsBound_Throws()
    {
        // Version 1 chunks have no room for a part: a second part would reuse the first one's nonces.
        using var codec = new AesGcmChunkCodec(Bytes(32), Bytes(16, seed: 2), [1, 2, 3, 4], bindsParts: false);

        Assert.Throws<InvalidOperationException>(() => codec.Encode(Bytes(10), 1, 0, isLast: true, new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public void Encode_SamePlainTwice_DiffersByChunkAndByDump()
    {
        // RepliByte sealed every chunk of every dump under one nonce: equal plaintexts gave equal ciphertexts.
        byte[] plain = Bytes(256);
        using EncryptionKeys keys = PassphraseKeys();

        (_, byte[][] first) = EncryptDump(keys, [plain, plain]);
        (_, byte[][] second) = EncryptDump(keys, [plain, plain]);

        Assert.NotEqual(first[0], first[1]);
        Assert.NotEqual(first[0], second[0]);
        Assert.NotEqual(first[1], second[1]);
    }

    public static TheoryData<string, int> BitPositions() => new()
    {
        { "first ciphertext byte", 0 },
        { "middle ciphertext byte", 500 },
        { "last ciphertext byte", 999 },
        { "first tag byte", 1000 },
        { "last tag byte", 1015 },
    };

    [Theory]
    [MemberData(nameof(BitPositions))]
    public void Decode_FlippedBit_FailsAuthenticationAndWritesNothing(string part, int offset)
    {
        _ = part;
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, Split(Bytes(3000), 1000, 1000, 1000));
        stored[1][offset] ^= 0x10;

        using AesGcmChunkCodec codec = DumpEncryption.Open(header, keys);
        var output = new ArrayBufferWriter<byte>();
        codec.Decode(stored[0], 0, isLast: false, output);
        int before = output.WrittenCount;

        var ex = Assert.Throws<IntegrityException>(() => codec.Decode(stored[1], 1, isLast: false, output));

        Assert.Contains("chunk 1", ex.Message);
        Assert.Contains("authentication failed", ex.Message);
        Assert.Equal(before, output.WrittenCount);
    }

    [Fact]
    public void Decode_FailedChunk_LeavesItsBufferZeroed()
    {
        // The plaintext of a forged chunk must not linger in the (uncommitted) output memory either.
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, [Bytes(1000)]);
        stored[0][999] ^= 1;
        byte[] memory = new byte[2000];
        var output = new FixedWriter(memory);

        using AesGcmChunkCodec codec = DumpEncryption.Open(header, keys);
        Assert.Throws<IntegrityException>(() => codec.Decode(stored[0], 0, isLast: true, output));

        Assert.Equal(0, output.Written);
        Assert.All(memory, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(500)]
    public void Decode_TruncatedChunk_Fails(int bytesCut)
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, [Bytes(1000)]);
        byte[] cut = stored[0][..^bytesCut];

        using AesGcmChunkCodec codec = DumpEncryption.Open(header, keys);
        var output = new ArrayBufferWriter<byte>();
        var ex = Assert.Throws<IntegrityException>(() => codec.Decode(cut, 0, isLast: true, output));

        Assert.Contains("chunk 0", ex.Message);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Decode_ShorterThanTag_SaysTruncated()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, [Bytes(10)]);

        using AesGcmChunkCodec codec = DumpEncryption.Open(header, keys);
        var ex = Assert.Throws<IntegrityException>(
            () => codec.Decode(stored[0].AsSpan(0, 15), 0, isLast: true, new ArrayBufferWriter<byte>()));

        Assert.Contains("chunk 0", ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Decode_LastChunkDropped_SaysTruncated()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, Split(Bytes(300), 100, 100, 100));

        // The restore sees a two-chunk dump whose last chunk is the original chunk 1.
        var ex = Assert.Throws<IntegrityException>(() => DecryptDump(header, keys, stored[..2]));

        Assert.Contains("chunk 1", ex.Message);
        Assert.Contains("not the part's last chunk", ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Decode_EmptyLastChunkDropped_SaysTruncated()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, Split(Bytes(200), 100, 100, 0));

        var ex = Assert.Throws<IntegrityException>(() => DecryptDump(header, keys, stored[..2]));

        Assert.Contains("not the part's last chunk", ex.Message);
    }

    [Fact]
    public void Decode_ChunkAppendedAfterLast_SaysAppended()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, Split(Bytes(200), 100, 100));
        using AesGcmChunkCodec codec = DumpEncryption.Open(header, keys);
        var output = new ArrayBufferWriter<byte>();
        codec.Decode(stored[0], 0, isLast: false, output);

        // A manifest claiming a third chunk after the genuine last one: the real last chunk is now decoded as not-last.
        var ex = Assert.Throws<IntegrityException>(() => codec.Decode(stored[1], 1, isLast: false, output));

        Assert.Contains("chunk 1", ex.Message);
        Assert.Contains("chunks were appended", ex.Message);
    }

    [Fact]
    public void Decode_TwoChunksSwapped_FailsAtTheFirst()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, Split(Bytes(300), 100, 100, 100));
        (stored[0], stored[1]) = (stored[1], stored[0]);

        var ex = Assert.Throws<IntegrityException>(() => DecryptDump(header, keys, stored));

        Assert.Contains("chunk 0", ex.Message);
        Assert.Contains("authentication failed", ex.Message);
    }

    [Fact]
    public void Decode_ChunkZeroReplayedAsChunkOne_Fails()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, Split(Bytes(200), 100, 100));
        stored[1] = stored[0];

        var ex = Assert.Throws<IntegrityException>(() => DecryptDump(header, keys, stored));

        Assert.Contains("chunk 1", ex.Message);
    }

    [Fact]
    public void Decode_ChunkFromAnotherDumpWithSamePassphrase_Fails()
    {
        using EncryptionKeys keys = PassphraseKeys();
        byte[][] chunks = Split(Bytes(200), 100, 100);
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, chunks);
        (_, byte[][] other) = EncryptDump(keys, chunks);
        stored[0] = other[0];

        var ex = Assert.Throws<IntegrityException>(() => DecryptDump(header, keys, stored));

        Assert.Contains("chunk 0", ex.Message);
    }

    [Fact]
    public void Decode_ChunkFromAnotherDumpWithSameDataKey_FailsOnDumpId()
    {
        // Even if two dumps shared a data key and nonce prefix, the dump id in the associated data keeps them apart.
        byte[] key = Bytes(32, seed: 3);
        byte[] prefix = [9, 9, 9, 9];
        using var dumpA = new AesGcmChunkCodec(key, Bytes(16, seed: 4), prefix, bindsParts: true);
        using var dumpB = new AesGcmChunkCodec(key, Bytes(16, seed: 5), prefix, bindsParts: true);
        byte[][] fromB = EncodeAll(dumpB, [Bytes(100)]);

        var ex = Assert.Throws<IntegrityException>(
            () => dumpA.Decode(fromB[0], 0, isLast: true, new ArrayBufferWriter<byte>()));

        Assert.Contains("authentication failed", ex.Message);
    }

    [Fact]
    public void EncodeDecode_AfterWarmUp_AllocateNothing()
    {
        using var codec = new AesGcmChunkCodec(Bytes(32), Bytes(16, seed: 2), [1, 2, 3, 4], bindsParts: true);
        byte[] plain = Bytes(64 * 1024);
        var stored = new ArrayBufferWriter<byte>(plain.Length + 16);
        var restored = new ArrayBufferWriter<byte>(plain.Length);
        for (int i = 0; i < 3; i++)
        {
            RoundTrip(i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 3; i < 103; i++)
        {
            RoundTrip(i);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);

        void RoundTrip(int index)
        {
            stored.ResetWrittenCount();
            restored.ResetWrittenCount();
            codec.Encode(plain, index, isLast: false, stored);
            codec.Decode(stored.WrittenSpan, index, isLast: false, restored);
        }
    }

    [Fact]
    public void Encode_AfterDispose_Throws()
    {
        var codec = new AesGcmChunkCodec(Bytes(32), Bytes(16), [1, 2, 3, 4], bindsParts: true);
        codec.Dispose();

        Assert.Throws<ObjectDisposedException>(() => codec.Encode([1], 0, true, new ArrayBufferWriter<byte>()));
    }

    /// <summary>An output over one fixed array, to see what a failed decode left in memory it did not commit.</summary>
    sealed class FixedWriter(byte[] memory) : IBufferWriter<byte>
    {
        public int Written { get; private set; }

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => memory.AsMemory(Written);

        public Span<byte> GetSpan(int sizeHint = 0) => memory.AsSpan(Written);
    }
}
