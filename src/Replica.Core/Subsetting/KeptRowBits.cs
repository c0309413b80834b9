using Microsoft.Win32.SafeHandles;

namespace Replica.Subsetting;

/// <summary>
/// Which of a dump file's recorded rows a subset keeps: one bit per row, by the row's number (its place among the rows
/// recorded in pass 2), in a file of the key store's directory. Built once after the closure, a window of the memory
/// budget's quarter at a time (each window reads the kept row numbers again), then read in row order by the last pass,
/// which meets the rows in the order pass 2 numbered them: no lookup by identity per row, no digest of rows without a
/// primary key. Not thread-safe (the last pass over a file is one stream).
/// </summary>
internal sealed class KeptRowBits : IDisposable
{
    readonly SafeFileHandle _file;
    readonly long _rows;
    readonly byte[] _buffer = new byte[64 << 10];
    long _bufferStart = -1;
    int _bufferLength;

    KeptRowBits(SafeFileHandle file, long rows)
    {
        _file = file;
        _rows = rows;
    }

    /// <param name="path">The bits' file (created).</param>
    /// <param name="rows">Rows recorded: the numbers run from 0 to this, exclusive.</param>
    /// <param name="memoryBudget">The key store's budget; the bits being built take a quarter of it at most.</param>
    /// <param name="keptRowNumbers">The numbers of the kept rows, table by table (any order), read once per window.</param>
    public static KeptRowBits Build(string path, long rows, long memoryBudget, Func<IEnumerable<IEnumerable<long>>> keptRowNumbers)
    {
        var bytes = (rows + 7) / 8;
        var window = new byte[(int)Math.Clamp(memoryBudget / 4, 64 << 10, Math.Max(64 << 10, bytes))];
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            for (long start = 0; start < bytes; start += window.Length)
            {
                var length = (int)Math.Min(window.Length, bytes - start);
                Array.Clear(window);
                long first = start * 8, endExcl = (start + length) * 8;
                foreach (var table in keptRowNumbers())
                {
                    foreach (var number in table)
                    {
                        if (number >= first && number < endExcl)
                        {
                            var bit = number - first;
                            window[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                        }
                    }
                }
                file.Write(window, 0, length);
            }
        }
        return new KeptRowBits(File.OpenHandle(path, FileMode.Open, FileAccess.Read), rows);
    }

    /// <summary>Whether row <paramref name="number"/> is kept; cheapest in increasing order (one read per 512k rows).</summary>
    public bool IsKept(long number)
    {
        if ((ulong)number >= (ulong)_rows)
        {
            throw new BridgeException($"subset: the dump has more rows than when its keys were read (row {number + 1} of {_rows}): was the file changed between the passes?");
        }
        var at = number >> 3;
        if (at < _bufferStart || at >= _bufferStart + _bufferLength)
        {
            _bufferStart = at;
            _bufferLength = RandomAccess.Read(_file, _buffer, at);
        }
        return (_buffer[at - _bufferStart] & (1 << (int)(number & 7))) != 0;
    }

    public void Dispose() => _file.Dispose();
}
