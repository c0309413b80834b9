using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using static Replica.Codecs.ZstdNative;

namespace Replica.Codecs;

/// <summary>
/// Compresses each chunk into one complete, standard zstd frame (with its content size and a content checksum), so
/// <c>zstd -d</c> can decompress a stored chunk on its own. Uses the system libzstd (see <see cref="ZstdNative"/>).
/// One compression and one decompression context are reused for every chunk, so after the first chunk nothing is
/// allocated per chunk.
/// </summary>
public sealed unsafe class ZstdCodec : IChunkCodec
{
    public const int DefaultLevel = 1;
    public const int MinLevel = 1;
    /// <summary>ZSTD_maxCLevel(); levels 20..22 ("ultra") need far more memory.</summary>
    public const int MaxLevel = 22;
    /// <summary>ZSTDMT_NBWORKERS_MAX for 64-bit builds of libzstd 1.4/1.5.</summary>
    public const int MaxWorkers = 200;

    readonly CompressionContext _cctx;
    readonly DecompressionContext _dctx;
    readonly int _compressOutSize;
    readonly int _decompressOutSize;
    // Decoding stops beyond this many bytes (see CompressionCodecs.MaxDecodedBytes): a crafted frame must not fill the memory.
    readonly long _maxDecodedBytes;

    /// <summary>
    /// Creates a codec compressing at <paramref name="level"/> (1..22; 1 is fastest) with <paramref name="workers"/>
    /// extra compression threads (0: compress on the calling thread); a chunk that decodes to more than
    /// <paramref name="maxDecodedBytes"/> is an <see cref="IntegrityException"/>. Throws <see cref="ConfigException"/> for
    /// values out of range or when libzstd cannot be loaded.
    /// </summary>
    public ZstdCodec(int level = DefaultLevel, int workers = 0, long maxDecodedBytes = CompressionCodecs.MaxDecodedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDecodedBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDecodedBytes, CompressionCodecs.MaxDecodedBytes);
        if (level is < MinLevel or > MaxLevel)
        {
            throw new ConfigException($"the zstd compression level must be {MinLevel}..{MaxLevel} (1 is fastest, 19 and above are slow), found {level}");
        }
        if (workers is < 0 or > MaxWorkers)
        {
            throw new ConfigException($"the number of zstd workers must be 0..{MaxWorkers} (0 compresses on the calling thread), found {workers}");
        }
        EnsureLoaded();

        Level = level;
        Workers = workers;
        _maxDecodedBytes = maxDecodedBytes;
        _compressOutSize = (int)ZSTD_CStreamOutSize();
        _decompressOutSize = (int)ZSTD_DStreamOutSize();
        _cctx = ZSTD_createCCtx();
        _dctx = ZSTD_createDCtx();
        if (_cctx.IsInvalid || _dctx.IsInvalid)
        {
            Dispose();
            throw new InvalidOperationException("libzstd could not allocate a compression or decompression context (out of memory).");
        }
        SetParameter(CompressionLevelParameter, level, "level");
        // The frame carries a checksum of its content (as the zstd CLI writes by default), so a corrupted chunk fails to
        // decode rather than decoding to different bytes; checking it costs far less than decompressing.
        SetParameter(ChecksumFlagParameter, 1, "checksum");
        if (workers > 0)
        {
            SetParameter(WorkerCountParameter, workers, "workers");
        }
    }

    public string Name => "zstd";

    public int Level { get; }

    public int Workers { get; }

    public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(_cctx.IsClosed, this);
        // A previous chunk may have failed half-way; start a fresh frame with the same parameters.
        Check(ZSTD_CCtx_reset(_cctx, ResetSessionOnly), chunkIndex);
        fixed (byte* source = plain)
        {
            // ZSTD_e_end from the first call: libzstd takes the whole chunk as the frame (its size goes into the frame
            // header) and, when the output span can hold the worst case, compresses straight into it.
            var input = new InBuffer { Source = source, Size = (nuint)plain.Length };
            // Ask for the worst case up front (ZSTD_COMPRESSBOUND) so that libzstd takes its direct path instead of
            // compressing through its internal buffer; the output keeps its size for the next chunk.
            var hint = Math.Max(_compressOutSize, CompressBound(plain.Length));
            while (true)
            {
                Span<byte> span = output.GetSpan(hint);
                hint = _compressOutSize;
                nuint remaining;
                var written = 0;
                fixed (byte* destination = span)
                {
                    var outBuffer = new OutBuffer { Destination = destination, Size = (nuint)span.Length };
                    remaining = ZSTD_compressStream2(_cctx, &outBuffer, &input, EndFrame);
                    written = (int)outBuffer.Position;
                }
                Check(remaining, chunkIndex);
                output.Advance(written);
                if (remaining == 0)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The span <see cref="Encode"/> asks for first (the worst case, and at least libzstd's stream output size); it writes no more.</summary>
    public int? MaxEncodedLength(int plainLength) => Math.Max(_compressOutSize, CompressBound(plainLength));

    public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(_dctx.IsClosed, this);
        if (TryDecodeWhole(stored, output))
        {
            return;
        }
        // Streaming: a chunk whose frame does not say its size or does not fit the output's free space, and every chunk
        // that fails (this path names what is wrong and where).
        Check(ZSTD_DCtx_reset(_dctx, ResetSessionOnly), chunkIndex);
        long decoded = 0;
        fixed (byte* source = stored)
        {
            var input = new InBuffer { Source = source, Size = (nuint)stored.Length };
            while (true)
            {
                Span<byte> span = output.GetSpan(_decompressOutSize);
                // Never more than one byte past the limit, however much room the output offers: a restore's buffer can
                // hold a whole chunk, and a frame that fits in it ended before the limit was looked at.
                if (span.Length > _maxDecodedBytes - decoded + 1)
                {
                    span = span[..(int)(_maxDecodedBytes - decoded + 1)];
                }
                var positionBefore = input.Position;
                nuint result;
                OutBuffer outBuffer;
                fixed (byte* destination = span)
                {
                    outBuffer = new OutBuffer { Destination = destination, Size = (nuint)span.Length };
                    result = ZSTD_decompressStream(_dctx, &outBuffer, &input);
                }
                if (IsError(result))
                {
                    ZstdThrow.Corrupt(chunkIndex, ErrorName(result), (long)input.Position);
                }
                output.Advance((int)outBuffer.Position);
                decoded += (long)outBuffer.Position;
                if (decoded > _maxDecodedBytes)
                {
                    ZstdThrow.TooLarge(chunkIndex, _maxDecodedBytes);
                }
                if (result == 0)
                {
                    // The frame is complete and flushed; it must be the whole chunk.
                    if (input.Position != input.Size)
                    {
                        ZstdThrow.TrailingBytes(chunkIndex, (long)(input.Size - input.Position), stored.Length);
                    }
                    return;
                }
                // All input taken and the output not filled: libzstd waits for bytes that the chunk does not have. (No
                // progress at all would also mean that; it guards the loop.)
                if ((input.Position == input.Size && outBuffer.Position < outBuffer.Size)
                    || (input.Position == positionBefore && outBuffer.Position == 0))
                {
                    ZstdThrow.Truncated(chunkIndex, stored.Length);
                }
            }
        }
    }

    /// <summary>
    /// Decodes a chunk in one call straight into the output's free space when its one frame states a content size that
    /// fits there (every frame this codec writes states it, and a restore's buffers are sized to hold a chunk). Streaming
    /// makes libzstd keep a window buffer of the frame's size in the context for as long as the context lives, written
    /// for every chunk: ~4 MiB of native memory per decoding worker with the default chunk size (issue 12: the restore
    /// peaked ~10 MiB above the dump). Commits nothing and returns false on any failure; the stream path then reports it.
    /// </summary>
    bool TryDecodeWhole(ReadOnlySpan<byte> stored, IBufferWriter<byte> output)
    {
        fixed (byte* source = stored)
        {
            ulong size = ZSTD_getFrameContentSize(source, (nuint)stored.Length);
            if (size == 0 || size > (ulong)_maxDecodedBytes || ZSTD_findFrameCompressedSize(source, (nuint)stored.Length) != (nuint)stored.Length)
            {
                return false;
            }
            Span<byte> free = output.GetSpan();
            if ((ulong)free.Length < size)
            {
                return false;
            }
            nuint result;
            fixed (byte* destination = free)
            {
                result = ZSTD_decompressDCtx(_dctx, destination, (nuint)size, source, (nuint)stored.Length);
            }
            if (IsError(result) || result != (nuint)size)
            {
                return false;
            }
            output.Advance((int)size);
            return true;
        }
    }

    public IChunkCodec Fork() => new ZstdCodec(Level, Workers, _maxDecodedBytes);

    public void Dispose()
    {
        _cctx?.Dispose();
        _dctx?.Dispose();
    }

    void SetParameter(int parameter, int value, string what)
    {
        var result = ZSTD_CCtx_setParameter(_cctx, parameter, value);
        if (IsError(result))
        {
            Dispose();
            throw new ConfigException($"libzstd rejected the zstd {what} {value}: {ErrorName(result)}"
                + (parameter == WorkerCountParameter ? " (this libzstd may be built without multithreading; use workers: 0)" : ""));
        }
    }

    static void Check(nuint result, int chunkIndex)
    {
        if (IsError(result))
        {
            ZstdThrow.Failed(chunkIndex, ErrorName(result));
        }
    }
    /// <summary>ZSTD_COMPRESSBOUND from zstd.h: the largest frame a source of this size can compress to.</summary>
    static int CompressBound(int sourceSize) =>
        (int)Math.Min(Array.MaxLength, (long)sourceSize + (sourceSize >> 8) + (sourceSize < (128 << 10) ? ((128 << 10) - sourceSize) >> 11 : 0));
}

/// <summary>The codec's errors, kept out of the hot methods.</summary>
internal static class ZstdThrow
{
    [DoesNotReturn]
    public static void Corrupt(int chunkIndex, string errorName, long storedOffset) =>
        throw new IntegrityException($"Chunk index {chunkIndex} is not a valid zstd frame: libzstd reports '{errorName}' at or before stored byte offset {storedOffset}.");

    [DoesNotReturn]
    public static void TrailingBytes(int chunkIndex, long trailing, int storedLength) =>
        throw new IntegrityException($"Chunk index {chunkIndex} has {trailing} unexpected bytes after its zstd frame (the chunk is {storedLength} bytes; it must hold exactly one frame).");

    [DoesNotReturn]
    public static void Truncated(int chunkIndex, int storedLength) =>
        throw new IntegrityException($"Chunk index {chunkIndex} ends inside its zstd frame (truncated: libzstd expects more than the {storedLength} stored bytes).");

    [DoesNotReturn]
    public static void TooLarge(int chunkIndex, long limit) =>
        throw new IntegrityException(CompressionCodecs.TooLargeMessage(chunkIndex, limit));

    [DoesNotReturn]
    public static void Failed(int chunkIndex, string errorName) =>
        throw new InvalidOperationException($"libzstd failed on chunk index {chunkIndex}: {errorName}.");

}
