using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Replica.Codecs;
using Replica.Sources;

namespace Replica.Pipeline;

/// <summary>
/// A dump that can be read only once (standard input, mysqldump's output) written to a file so that it can be read again
/// (a subset of a file, a leak check): in blocks compressed with zstd level 1, then sealed with AES-256-GCM under a
/// random key that only this process holds (never written anywhere), each framed by its sealed and plain lengths (the
/// frame is the block's associated data, its number the nonce), in a directory the caller removes. The spool holds the
/// unmasked original: a process killed before it removes the directory leaves only bytes nobody can decrypt.
/// </summary>
internal sealed class SpooledSource : IDumpSource
{
    const int BlockSize = 4 << 20;

    const int TagSize = 16;

    readonly string _path;
    readonly byte[] _key;

    SpooledSource(string description, string path, long length, byte[] key)
    {
        Description = description;
        _path = path;
        Length = length;
        _key = key;
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
        var key = RandomNumberGenerator.GetBytes(32);
        using var aes = new AesGcm(key, TagSize);
        var block = new byte[BlockSize];
        var encoded = new ArrayBufferWriter<byte>();
        var sealedBlock = Array.Empty<byte>();
        long length = 0;
        long number = 0;
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
                    var stored = encoded.WrittenCount + TagSize;
                    if (sealedBlock.Length < stored)
                    {
                        sealedBlock = new byte[stored];
                    }
                    var header = new byte[8];
                    BinaryPrimitives.WriteInt32LittleEndian(header, stored);
                    BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), filled);
                    aes.Encrypt(Nonce(number++), encoded.WrittenSpan, sealedBlock.AsSpan(0, encoded.WrittenCount),
                        sealedBlock.AsSpan(encoded.WrittenCount, TagSize), header);
                    await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
                    await output.WriteAsync(sealedBlock.AsMemory(0, stored), cancellationToken).ConfigureAwait(false);
                    length += filled;
                }
            }
        }
        await source.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return new SpooledSource(source.Description, path, length, key);
    }

    /// <summary>Block <paramref name="number"/>'s nonce: unique under the spool's one-time key.</summary>
    static byte[] Nonce(long number)
    {
        var nonce = new byte[AesGcm.NonceByteSizes.MaxSize];
        BinaryPrimitives.WriteInt64LittleEndian(nonce, number);
        return nonce;
    }

    public Stream Open() => new Reader(File.OpenRead(_path), _key);

    /// <summary>The spooled dump, block by block.</summary>
    sealed class Reader(FileStream file, byte[] key) : Stream
    {
        readonly ZstdCodec _codec = new(level: 1);
        readonly AesGcm _aes = new(key, TagSize);
        readonly ArrayBufferWriter<byte> _plain = new(BlockSize);
        byte[] _stored = new byte[1 << 16];
        byte[] _opened = new byte[1 << 16];
        long _number;
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
                _opened = new byte[stored];
            }
            file.ReadExactly(_stored, 0, stored);
            var compressed = stored - TagSize;
            // Only this process wrote the spool; a failure here means it was changed underneath (AuthenticationTagMismatchException).
            _aes.Decrypt(Nonce(_number++), _stored.AsSpan(0, compressed), _stored.AsSpan(compressed, TagSize), _opened.AsSpan(0, compressed), header);
            _plain.ResetWrittenCount();
            _codec.Decode(_opened.AsSpan(0, compressed), 0, isLast: false, _plain);
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
                _aes.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
