using System.Buffers;
using System.Text;

namespace Replica.Transformers;

/// <summary>
/// A growable byte buffer a transformer instance reuses for every value, so building a value costs no allocation once
/// it has grown to the largest value seen. Not thread-safe: one instance serves one column.
/// </summary>
internal sealed class ByteBuilder
{
    byte[] _buffer;
    int _length;

    public ByteBuilder(int initialCapacity = 256) => _buffer = new byte[initialCapacity];

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void Append(byte value)
    {
        if (_length == _buffer.Length)
        {
            Grow(1);
        }

        _buffer[_length++] = value;
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_buffer.Length - _length < bytes.Length)
        {
            Grow(bytes.Length);
        }

        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    public void Append(Rune rune)
    {
        Span<byte> utf8 = stackalloc byte[4];
        int count = rune.EncodeToUtf8(utf8);
        Append(utf8[..count]);
    }

    /// <summary>Appends UTF-8 of a string; for rare paths (regex, custom), hot paths append pre-encoded bytes.</summary>
    public void Append(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_buffer.Length - _length < max)
        {
            Grow(max);
        }

        _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
    }

    /// <summary>Space for at least <paramref name="sizeHint"/> more bytes; call <see cref="Advance"/> after writing.</summary>
    public Span<byte> GetSpan(int sizeHint)
    {
        if (_buffer.Length - _length < sizeHint)
        {
            Grow(sizeHint);
        }

        return _buffer.AsSpan(_length);
    }

    public void Advance(int count) => _length += count;

    public void CopyTo(IBufferWriter<byte> output) => output.Write(WrittenSpan);

    void Grow(int needed)
    {
        int size = Math.Max(_buffer.Length * 2, _length + needed);
        Array.Resize(ref _buffer, size);
    }
}
