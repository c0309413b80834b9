using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;

namespace Replica.Codecs;

/// <summary>
/// Compresses each chunk into one gzip member (RFC 1952) with System.IO.Compression, so <c>gzip -d</c> can decompress a
/// stored chunk on its own. Slower than <see cref="ZstdCodec"/>; it needs no native library beyond the runtime's own.
/// </summary>
/// <remarks>
/// GZipStream checks a member's CRC-32 and size when it reaches the trailer, but it silently stops at the end of
/// truncated input and ignores bytes after a member. So <see cref="Decode"/> also requires the stored chunk to end with
/// the trailer of what was decoded: its last 4 bytes (ISIZE, the size modulo 2^32) must equal the decoded length.
/// A new GZipStream per chunk allocates a few hundred bytes (the runtime's zlib state cannot be reset).
/// </remarks>
public sealed class GzipCodec : IChunkCodec
{
    public const int FastestLevel = 1;
    /// <summary>What the gzip tool uses by default; zlib's level 6.</summary>
    public const int DefaultLevel = 6;
    public const int SmallestLevel = 9;

    /// <summary>10-byte header, at least 2 bytes of deflate data (an empty final block), 8-byte trailer.</summary>
    const int MinMemberLength = 20;

    /// <summary>
    /// An empty member, as <c>gzip -n</c> writes it: header (OS 3, Unix), an empty final fixed-Huffman block, CRC-32 0 and
    /// size 0. GZipStream writes nothing at all for an empty input, which no gzip reader accepts.
    /// </summary>
    static ReadOnlySpan<byte> EmptyMember => [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

    readonly ZLibCompressionOptions _options;
    readonly BufferWriterStream _sink = new();
    // Decoding stops beyond this many bytes (see CompressionCodecs.MaxDecodedBytes): a crafted member must not fill the memory.
    readonly long _maxDecodedBytes;

    /// <summary>
    /// Creates a codec compressing at zlib <paramref name="level"/> 1 (fastest) .. 9 (smallest); a chunk that decodes to
    /// more than <paramref name="maxDecodedBytes"/> is an <see cref="IntegrityException"/>.
    /// </summary>
    public GzipCodec(int level = DefaultLevel, long maxDecodedBytes = CompressionCodecs.MaxDecodedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDecodedBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDecodedBytes, CompressionCodecs.MaxDecodedBytes);
        if (level is < FastestLevel or > SmallestLevel)
        {
            throw new ConfigException($"the gzip compression level must be {FastestLevel}..{SmallestLevel} (1 is fastest, 6 is gzip's default), found {level}");
        }
        Level = level;
        _maxDecodedBytes = maxDecodedBytes;
        _options = new ZLibCompressionOptions { CompressionLevel = level };
    }

    public string Name => "gzip";

    public int Level { get; }

    public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (plain.IsEmpty)
        {
            output.Write(EmptyMember);
            return;
        }
        _sink.Target = output;
        try
        {
            using var gzip = new GZipStream(_sink, _options, leaveOpen: true);
            gzip.Write(plain);
        }
        finally
        {
            _sink.Target = null;
        }
    }

    public unsafe void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (stored.Length < MinMemberLength)
        {
            GzipThrow.TooShort(chunkIndex, stored.Length);
        }
        long decoded = 0;
        fixed (byte* source = stored)
        {
            try
            {
                using var input = new UnmanagedMemoryStream(source, stored.Length);
                using var gzip = new GZipStream(input, CompressionMode.Decompress);
                while (true)
                {
                    var span = output.GetSpan(64 * 1024);
                    // Never more than one byte past the limit, however much room the output offers.
                    var read = gzip.Read(span[..(int)Math.Min(span.Length, _maxDecodedBytes - decoded + 1)]);
                    if (read == 0)
                    {
                        break;
                    }
                    output.Advance(read);
                    decoded += read;
                    if (decoded > _maxDecodedBytes)
                    {
                        GzipThrow.TooLarge(chunkIndex, _maxDecodedBytes);
                    }
                }
            }
            catch (InvalidDataException ex)
            {
                GzipThrow.Corrupt(chunkIndex, ex);
            }
        }
        var size = BinaryPrimitives.ReadUInt32LittleEndian(stored[^4..]);
        if (size != (uint)decoded)
        {
            GzipThrow.SizeMismatch(chunkIndex, decoded, size);
        }
    }

    public IChunkCodec Fork() => new GzipCodec(Level, _maxDecodedBytes);

    public void Dispose() { }

    /// <summary>A write-only stream into the chunk's output, reused for every chunk.</summary>
    sealed class BufferWriterStream : Stream
    {
        public IBufferWriter<byte>? Target { get; set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var target = Target ?? throw new InvalidOperationException("The gzip output is not set.");
            while (!buffer.IsEmpty)
            {
                var span = target.GetSpan(buffer.Length);
                var count = Math.Min(span.Length, buffer.Length);
                buffer[..count].CopyTo(span);
                target.Advance(count);
                buffer = buffer[count..];
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void WriteByte(byte value) => Write([value]);

        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>The codec's errors, kept out of the hot methods.</summary>
internal static class GzipThrow
{
    [DoesNotReturn]
    public static void TooShort(int chunkIndex, int storedLength) =>
        throw new IntegrityException($"Chunk index {chunkIndex} is not a gzip member: it has {storedLength} bytes, and the smallest member has 20.");

    [DoesNotReturn]
    public static void Corrupt(int chunkIndex, InvalidDataException ex) =>
        throw new IntegrityException($"Chunk index {chunkIndex} is not a valid gzip member: {ex.Message}", ex);

    [DoesNotReturn]
    public static void SizeMismatch(int chunkIndex, long decoded, uint trailerSize) =>
        throw new IntegrityException($"Chunk index {chunkIndex} is truncated or has bytes after its gzip member: it decodes to {decoded} bytes, "
            + $"but its last 4 bytes (the gzip size field) say {trailerSize}.");

    [DoesNotReturn]
    public static void TooLarge(int chunkIndex, long limit) =>
        throw new IntegrityException(CompressionCodecs.TooLargeMessage(chunkIndex, limit));
}
