using System.Buffers;
using Replica.Codecs.Encryption;

namespace Replica.Core.Tests.Codecs.Encryption;

internal static class EncryptionTestSupport
{
    /// <summary>Low enough to keep tests fast; the default (600000) has its own test.</summary>
    public const int FastIterations = EncryptionKeys.MinPbkdf2Iterations;

    public const string Passphrase = "correct horse battery staple";

    public static EncryptionKeys PassphraseKeys(string passphrase = Passphrase) =>
        new EncryptionKeys { Pbkdf2Iterations = FastIterations }.AddPassphrase(passphrase);

    /// <summary>Deterministic, non-repeating test bytes.</summary>
    public static byte[] Bytes(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Splits data into chunks of the given sizes (their sum must be the length).</summary>
    public static byte[][] Split(byte[] data, params int[] sizes)
    {
        var chunks = new byte[sizes.Length][];
        int offset = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            chunks[i] = data.AsSpan(offset, sizes[i]).ToArray();
            offset += sizes[i];
        }
        Assert.Equal(data.Length, offset);
        return chunks;
    }

    /// <summary>Encrypts chunks as the dump pipeline does: in order, the last one flagged.</summary>
    public static (EncryptionHeader Header, byte[][] Stored) EncryptDump(EncryptionKeys keys, byte[][] chunks)
    {
        EncryptionHeader header = DumpEncryption.CreateHeader(keys, out AesGcmChunkCodec codec);
        using (codec)
        {
            return (header, EncodeAll(codec, chunks));
        }
    }

    public static byte[][] EncodeAll(AesGcmChunkCodec codec, byte[][] chunks)
    {
        var stored = new byte[chunks.Length][];
        for (int i = 0; i < chunks.Length; i++)
        {
            var output = new ArrayBufferWriter<byte>();
            codec.Encode(chunks[i], i, isLast: i == chunks.Length - 1, output);
            stored[i] = output.WrittenSpan.ToArray();
        }
        return stored;
    }

    /// <summary>Restores as the restore pipeline does: opens the header, then decodes chunk i at index i.</summary>
    public static byte[] DecryptDump(EncryptionHeader header, EncryptionKeys keys, byte[][] stored)
    {
        using AesGcmChunkCodec codec = DumpEncryption.Open(header, keys);
        var output = new ArrayBufferWriter<byte>();
        DecodeAll(codec, stored, output);
        return output.WrittenSpan.ToArray();
    }

    public static void DecodeAll(AesGcmChunkCodec codec, byte[][] stored, ArrayBufferWriter<byte> output)
    {
        for (int i = 0; i < stored.Length; i++)
        {
            codec.Decode(stored[i], i, isLast: i == stored.Length - 1, output);
        }
    }

    public static byte[] Concat(byte[][] chunks) => chunks.SelectMany(c => c).ToArray();
}

/// <summary>A fresh directory under the system temp folder, deleted with everything in it on dispose.</summary>
internal sealed class KeyDirectory : IDisposable
{
    public KeyDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "replica-crypto-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>
/// Key pairs generated once for all recipient tests (RSA-3072 generation takes a while): two RSA, two P-256, one P-384,
/// one encrypted-PKCS#8 P-256, written by <see cref="KeyGenerator"/> as `replica keygen` would.
/// </summary>
public sealed class RecipientKeysFixture : IDisposable
{
    public const string Collection = "recipient keys";

    public const string KeyPassphrase = "private key passphrase";

    readonly KeyDirectory _directory = new();

    public RecipientKeysFixture()
    {
        RsaA = KeyGenerator.WriteToDirectory(_directory.Path, KeyGenerator.Rsa3072, "rsa-a");
        RsaB = KeyGenerator.WriteToDirectory(_directory.Path, KeyGenerator.Rsa3072, "rsa-b");
        EcA = KeyGenerator.WriteToDirectory(_directory.Path, KeyGenerator.EcdhP256, "ec-a");
        EcB = KeyGenerator.WriteToDirectory(_directory.Path, KeyGenerator.EcdhP256, "ec-b");
        Ec384 = KeyGenerator.WriteToDirectory(_directory.Path, KeyGenerator.EcdhP384, "ec-384");
        EcEncrypted = KeyGenerator.WriteToDirectory(_directory.Path, KeyGenerator.EcdhP256, "ec-enc", KeyPassphrase);
    }

    public GeneratedKeyPair RsaA { get; }
    public GeneratedKeyPair RsaB { get; }
    public GeneratedKeyPair EcA { get; }
    public GeneratedKeyPair EcB { get; }
    public GeneratedKeyPair Ec384 { get; }
    public GeneratedKeyPair EcEncrypted { get; }

    public string Directory => _directory.Path;

    public void Dispose() => _directory.Dispose();
}

[CollectionDefinition(RecipientKeysFixture.Collection)]
public sealed class RecipientKeysCollection : ICollectionFixture<RecipientKeysFixture>;
