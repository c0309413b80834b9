using System.Buffers;

namespace Replica.Codecs;

/// <summary>
/// Turns one chunk of the rewritten dump into its stored form and back: compression (zstd, gzip) and encryption
/// (AES-256-GCM) are codecs, chained compress-then-encrypt. Each chunk is encoded on its own, so a chunk can be checked
/// and decoded without its neighbours (the zstd CLI can decompress a stored, unencrypted chunk).
/// A codec instance serves one dump, on one thread at a time; <see cref="Fork"/> gives each further thread its own.
/// </summary>
public interface IChunkCodec : IDisposable
{
    /// <summary>Short name for messages and the manifest, e.g. "zstd", "gzip", "aes-256-gcm".</summary>
    string Name { get; }

    /// <summary>
    /// Encodes chunk number <paramref name="chunkIndex"/> (0-based). <paramref name="isLast"/> is true for the dump's last
    /// chunk: an encrypting codec binds it into the chunk so that truncation is detected.
    /// </summary>
    void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output);

    /// <summary>
    /// Decodes a stored chunk. Throws <see cref="IntegrityException"/> when it is not what this codec wrote
    /// (bad frame, failed authentication, wrong position or last-chunk flag, wrong key).
    /// </summary>
    void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output);

    /// <summary>
    /// A new codec that encodes and decodes exactly as this one (same settings, same keys), with its own state, so that
    /// another thread can work on other chunks of the same dump at the same time. The caller disposes it.
    /// </summary>
    IChunkCodec Fork();

    /// <summary>
    /// Encodes chunk <paramref name="chunkIndex"/> of part <paramref name="partIndex"/> (bridge format v2: a dump is a list
    /// of parts, chunks numbered from 0 in each); <paramref name="isLast"/> marks the part's last chunk. An encrypting
    /// codec binds the part into the chunk, so a chunk moved to another part fails to decode. Codecs whose output does
    /// not depend on the chunk's position (compression) keep this default.
    /// </summary>
    void Encode(ReadOnlySpan<byte> plain, int partIndex, int chunkIndex, bool isLast, IBufferWriter<byte> output) =>
        Encode(plain, chunkIndex, isLast, output);

    /// <summary>
    /// The most output space <see cref="Encode(ReadOnlySpan{byte}, int, int, bool, IBufferWriter{byte})"/> asks for (and so
    /// the most it writes) for <paramref name="plainLength"/> plain bytes, or null when the codec does not know (its output
    /// grows on demand). The chunker sizes each chunk's output buffer to this once, so that the buffer never grows and
    /// its pages can all be made resident at start (issue 12).
    /// </summary>
    int? MaxEncodedLength(int plainLength) => null;

    /// <summary>Decodes chunk <paramref name="chunkIndex"/> of part <paramref name="partIndex"/> (see the Encode overload).</summary>
    void Decode(ReadOnlySpan<byte> stored, int partIndex, int chunkIndex, bool isLast, IBufferWriter<byte> output) =>
        Decode(stored, chunkIndex, isLast, output);
}
