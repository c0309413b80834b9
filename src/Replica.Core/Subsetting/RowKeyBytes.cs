using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace Replica.Subsetting;

/// <summary>
/// One row's key values as a dump file's pass 2 records them, from the decoded UTF-8 bytes the rewriter hands a row
/// filter, with no string per value: the values in the key store's encoding (<see cref="Values"/>), and the row's
/// identity and its tuples (<see cref="TryTuple"/>) byte for byte as the UTF-8 of <see cref="SubsetClosure.Identity"/>
/// over the values as strings, which is what the closure reads back and what a root's keyed sample hashes. Reused row
/// after row; what it gives lives until the next <see cref="Read"/>. Not thread-safe.
/// </summary>
internal sealed class RowKeyBytes
{
    // The values, encoded as KeyValues says.
    byte[] _values = new byte[256];
    int _valuesLength;
    // Where each value's bytes start in _values, their length (-1: NULL) and their length in UTF-16 code units (-1:
    // not counted yet; the identity of a composite key counts in those, as string.Length did).
    int[] _starts = new int[8];
    int[] _lengths = new int[8];
    int[] _chars = new int[8];
    int _count;
    // Three outputs that live side by side: the identity, a tuple, and a digest's hex.
    readonly byte[][] _outputs = [new byte[64], new byte[64]];

    /// <summary>The values of the last <see cref="Read"/>, as the key store encodes them.</summary>
    public ReadOnlySpan<byte> Values => _values.AsSpan(0, _valuesLength);

    /// <summary>
    /// Takes a row's values: <paramref name="values"/> one after another, with their <paramref name="lengths"/> (-1:
    /// NULL). Bytes that are not UTF-8 become what a string of them would be (U+FFFD), as when values were strings.
    /// </summary>
    public void Read(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths)
    {
        var valid = Utf8.IsValid(values);
        _count = lengths.Length;
        if (_starts.Length < _count)
        {
            _starts = new int[_count * 2];
            _lengths = new int[_count * 2];
            _chars = new int[_count * 2];
        }
        var need = 5 * _count + (valid ? values.Length : Encoding.UTF8.GetMaxByteCount(values.Length));
        if (_values.Length < need)
        {
            _values = new byte[Math.Max(need, _values.Length * 2)];
        }
        var at = 0;
        var pos = 0;
        for (var i = 0; i < _count; i++)
        {
            var length = lengths[i];
            _chars[i] = -1;
            if (length < 0)
            {
                _values[pos++] = 0;
                _starts[i] = pos;
                _lengths[i] = -1;
                continue;
            }
            var value = values.Slice(at, length);
            at += length;
            if (valid)
            {
                pos += KeyValues.WriteVarint(_values.AsSpan(pos), (ulong)length + 1);
                value.CopyTo(_values.AsSpan(pos));
            }
            else
            {
                // Decoded and encoded again, as GetString then GetBytes did: each invalid sequence becomes U+FFFD.
                var text = Encoding.UTF8.GetString(value);
                length = Encoding.UTF8.GetByteCount(text);
                pos += KeyValues.WriteVarint(_values.AsSpan(pos), (ulong)length + 1);
                Encoding.UTF8.GetBytes(text, _values.AsSpan(pos));
                _chars[i] = text.Length;
            }
            _starts[i] = pos;
            _lengths[i] = length;
            pos += length;
        }
        _valuesLength = pos;
    }

    /// <summary>
    /// The tuple of the values at <paramref name="positions"/> into output <paramref name="output"/> (0 or 1): the value
    /// itself for one, else each value's length in UTF-16 code units, a colon and the value. False if one is NULL.
    /// </summary>
    public bool TryTuple(ReadOnlySpan<int> positions, int output, out ReadOnlySpan<byte> tuple)
    {
        var need = 0;
        for (var i = 0; i < positions.Length; i++)
        {
            var length = _lengths[positions[i]];
            if (length < 0)
            {
                tuple = default;
                return false;
            }
            need += length + 11;
        }
        if (positions.Length == 1)
        {
            tuple = _values.AsSpan(_starts[positions[0]], _lengths[positions[0]]);
            return true;
        }
        var buffer = Output(output, need);
        var pos = 0;
        foreach (var p in positions)
        {
            if (_chars[p] < 0)
            {
                _chars[p] = Encoding.UTF8.GetCharCount(_values.AsSpan(_starts[p], _lengths[p]));
            }
            _chars[p].TryFormat(buffer.AsSpan(pos), out var digits, default, System.Globalization.CultureInfo.InvariantCulture);
            pos += digits;
            buffer[pos++] = (byte)':';
            _values.AsSpan(_starts[p], _lengths[p]).CopyTo(buffer.AsSpan(pos));
            pos += _lengths[p];
        }
        tuple = buffer.AsSpan(0, pos);
        return true;
    }

    /// <summary>
    /// The identity of a row known by its content (a table without a primary key): the first 16 bytes of the SHA-256
    /// of <paramref name="row"/> as written, in lowercase hex, into output <paramref name="output"/>.
    /// </summary>
    public ReadOnlySpan<byte> Digest(ReadOnlySpan<byte> row, int output)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(row, hash);
        var buffer = Output(output, 32);
        for (var i = 0; i < 16; i++)
        {
            buffer[2 * i] = (byte)"0123456789abcdef"[hash[i] >> 4];
            buffer[2 * i + 1] = (byte)"0123456789abcdef"[hash[i] & 0xF];
        }
        return buffer.AsSpan(0, 32);
    }

    byte[] Output(int output, int need)
    {
        if (_outputs[output].Length < need)
        {
            _outputs[output] = new byte[Math.Max(need, _outputs[output].Length * 2)];
        }
        return _outputs[output];
    }
}
