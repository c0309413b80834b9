using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Replica.Codecs.Encryption;

namespace Replica.Benchmarks;

/// <summary>
/// AES-256-GCM on one 16 MiB chunk (the default chunk size), as the dump and restore pipelines call the codec.
/// MiB/s = 16 / mean seconds. AES-GCM speed does not depend on the bytes, so random data stands for a dump.
/// Copy is a plain 16 MiB memory copy: what decrypting into a scratch buffer and copying out would add per chunk.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(SixteenMiBThroughput))]
public class EncryptionBenchmarks
{
    const int ChunkSize = 16 * 1024 * 1024;

    readonly ArrayBufferWriter<byte> _stored = new(ChunkSize + AesGcmChunkCodec.TagSize);
    readonly ArrayBufferWriter<byte> _restored = new(ChunkSize);
    byte[] _plain = [];
    byte[] _sealed = [];
    byte[] _copy = [];
    EncryptionKeys _keys = null!;
    AesGcmChunkCodec _encoder = null!;
    AesGcmChunkCodec _decoder = null!;

    [GlobalSetup]
    public void Setup()
    {
        _plain = new byte[ChunkSize];
        new Random(42).NextBytes(_plain);
        _copy = new byte[ChunkSize];
        _keys = new EncryptionKeys { Pbkdf2Iterations = EncryptionKeys.MinPbkdf2Iterations }.AddPassphrase("benchmark");
        EncryptionHeader header = DumpEncryption.CreateHeader(_keys, out _encoder);
        _decoder = DumpEncryption.Open(header, _keys);
        _encoder.Encode(_plain, 0, isLast: true, _stored);
        _sealed = _stored.WrittenSpan.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoder.Dispose();
        _decoder.Dispose();
        _keys.Dispose();
    }

    [Benchmark]
    public int Encrypt16MiB()
    {
        _stored.ResetWrittenCount();
        _encoder.Encode(_plain, 0, isLast: true, _stored);
        return _stored.WrittenCount;
    }

    [Benchmark]
    public int Decrypt16MiB()
    {
        _restored.ResetWrittenCount();
        _decoder.Decode(_sealed, 0, isLast: true, _restored);
        return _restored.WrittenCount;
    }

    [Benchmark]
    public int Copy16MiB()
    {
        _plain.AsSpan().CopyTo(_copy);
        return _copy.Length;
    }
}
