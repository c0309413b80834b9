using System.Buffers;
using System.Buffers.Binary;
using Replica.Codecs;
using Replica.Sources;

namespace Replica.Pipeline;

/// <summary>
/// A dump that can be read only once (standard input, mysqldump's output) written to a file so that it can be read again
/// (a subset of a file, a leak check): in blocks
/// compressed with zstd level 1, each framed by its compressed and plain lengths, in a directory the caller removes.
/// </summary>
internal sealed class SpooledSource : IDumpSource
{
    const int BlockSize = 4 << 20;

    readonly string _path;

    SpooledSource(string description, string path, long length)
    {
        Description = description;
        _path = path;
        Length = length;
    }

    public string Description { get; }

    public long? Length { get; }

    /// <summary>Reads <paramref name="source"/> to its end into a spool file in <paramref name="directory"/>.</summary>
    public static async Task<SpooledSource> WriteAsync(IDumpSource source, string directory, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteCoreAsync(source, directory, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            // A full disk is the likely one: say where the spool was going.
            throw new BridgeException($"spooling {source.Description} to {directory} failed: {e.Message}", e);
        }
    }

    static async Task<SpooledSource> WriteCoreAsync(IDumpSource source, string directory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, "input.spool");
        using var codec = new ZstdCodec(level: 1);
        var block = new byte[BlockSize];
        var encoded = new ArrayBufferWriter<byte>();
        long length = 0;
        await source.PrepareAsync(cancellationToken).ConfigureAwait(false);
        var input = source.Open();
        await using (input.ConfigureAwait(false))
        {
            var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await using (output.ConfigureAwait(false))
            {
                while (true)
                {
                    var filled = await input.ReadAtLeastAsync(block, block.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                    if (filled == 0)
                    {
                        break;
                    }
                    encoded.ResetWrittenCount();
                    codec.Encode(block.AsSpan(0, filled), 0, isLast: false, encoded);
                    var header = new byte[8];
                    BinaryPrimitives.WriteInt32LittleEndian(header, encoded.WrittenCount);
                    BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), filled);
                    await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
                    await output.WriteAsync(encoded.WrittenMemory, cancellationToken).ConfigureAwait(false);
                    length += filled;
                }
            }
        }
        await source.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return new SpooledSource(source.Description, path, length);
    }

    public Stream Open() => new Reader(File.OpenRead(_path));

    /// <summary>The spooled dump, block by block.</summary>
    sealed class Reader(FileStream file) : Stream
    {
        readonly ZstdCodec _codec = new(level: 1);
        readonly ArrayBufferWriter<byte> _plain = new(BlockSize);
        byte[] _stored = new byte[1 << 16];
        int _position;

        public override int Read(Span<byte> buffer)
        {
            if (_position == _plain.WrittenCount && !NextBlock())
            {
                return 0;
            }
            var n = Math.Min(buffer.Length, _plain.WrittenCount - _position);
            _plain.WrittenSpan.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        bool NextBlock()
        {
            Span<byte> header = stackalloc byte[8];
            if (file.ReadAtLeast(header, 8, throwOnEndOfStream: false) < 8)
            {
                return false;
            }
            var stored = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (_stored.Length < stored)
            {
                _stored = new byte[stored];
            }
            file.ReadExactly(_stored, 0, stored);
            _plain.ResetWrittenCount();
            _codec.Decode(_stored.AsSpan(0, stored), 0, isLast: false, _plain);
            _position = 0;
            return true;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                file.Dispose();
                _codec.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
