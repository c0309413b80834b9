using System.Buffers;

namespace Replica.Lexing;

/// <summary>
/// A growable, pooled byte buffer: holds a unit (statement or row) that crosses input blocks, a row's scratch values, or
/// a restore lane's decoded chunk.
/// Growth beyond the cap is refused so that one huge row cannot take all memory.
/// </summary>
internal sealed class UnitBuffer : IBufferWriter<byte>, IDisposable
{
    byte[] _array;
    int _length;

    public UnitBuffer(int initialSize = 4096) => _array = ArrayPool<byte>.Shared.Rent(initialSize);

    public int Length => _length;

    /// <summary>The size of the array it holds now (a pooled array may be larger than asked for).</summary>
    public int Capacity => _array.Length;

    /// <summary>Bytes that fit before it grows.</summary>
    public int Available => _array.Length - _length;
    public ReadOnlySpan<byte> Span => _array.AsSpan(0, _length);

    /// <summary>The bytes written, as memory: valid until the buffer grows, is cleared or disposed.</summary>
    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, _length);
    public ReadOnlySpan<byte> Slice(int start, int length) => _array.AsSpan(start, length);

    public void Clear() => _length = 0;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_length);
    }

    void Ensure(int sizeHint)
    {
        var need = (long)_length + Math.Max(sizeHint, 1);
        if (need <= _array.Length)
        {
            return;
        }
        var size = Math.Max(need, Math.Min((long)_array.Length * 2, Array.MaxLength));
        var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(size, Array.MaxLength));
        _array.AsSpan(0, _length).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(_array);
        _array = grown;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        _length = 0;
    }
}
