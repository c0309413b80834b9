using System.Buffers;
using System.Text;
using Replica.Scanning;
using Replica.Transformers;

namespace Replica.Pipeline;

/// <summary>What `replica leakcheck --everywhere` found: originals of e-mails, phones, cards and IBANs anywhere in the stored dump.</summary>
/// <param name="OriginalTokens">Tokens (6+ bytes) of masked columns' original values that look like one of the four.</param>
/// <param name="Found">Tokens of the stored dump that are one of them (each occurrence).</param>
public sealed record EverywhereReport(long OriginalTokens, long Found, IReadOnlyDictionary<string, long> FoundByKind, IReadOnlyList<string> Examples)
{
    /// <summary>Tokens of the stored dump that passed the Bloom filter and were then looked up exactly.</summary>
    public long Candidates { get; init; }

    public long BloomBytes { get; init; }
}

/// <summary>
/// --everywhere: the originals of e-mails, phones, card numbers and IBANs in masked columns, looked for anywhere in the
/// stored dump (any column, any statement, inside JSON): e-mails and IBANs as whole tokens of 6 or more bytes, phone and
/// card numbers by their digits (10 to 19, however they are grouped). Bounded memory: the originals'
/// keyed hashes go to a Bloom filter sized from the row estimates (about 10 bits each, at most a quarter of the budget)
/// and to partition files on disk; every token of the stored dump is hashed and tried against the filter, the
/// candidates are partitioned alike and confirmed by an exact lookup of their 64-bit keyed hash, partition by partition.
/// </summary>
internal sealed class LeakEverywhere : IDisposable
{
    const int MinTokenBytes = 6;
    const int MinDigits = 10;
    const int MaxDigits = 19;
    const int MaxTokenBytes = 256;
    const int Probes = 4;
    const int MaxExamples = 5;
    static readonly string[] s_kinds = ["e-mail", "phone", "card", "iban"];
    // Token boundaries: whitespace and control bytes, quotes, and the punctuation of SQL, COPY escapes and JSON.
    static readonly SearchValues<byte> s_delimiters = SearchValues.Create([.. Enumerable.Range(0, 33).Select(b => (byte)b), .. "'\"`,;:()[]{}<>\\|/="u8.ToArray()]);

    readonly SipKey _key;
    readonly ulong[] _bloom;
    readonly ulong _mask;
    readonly SpillFiles _originals;
    readonly SpillFiles _candidates;
    static readonly SearchValues<byte> s_digitGlue = SearchValues.Create(" -.()+"u8);
    readonly byte[] _carry = new byte[MaxTokenBytes];
    readonly byte[] _digits = new byte[MaxDigits];
    int _digitCount;
    bool _inRun;
    int _carried;
    bool _overlong;
    readonly ulong[] _entry = new ulong[3];
    readonly long[] _found = new long[4];
    readonly List<string> _examples = [];
    long _originalTokens;
    long _candidateCount;

    public LeakEverywhere(SipKey key, string directory, long budgetBytes, long estimatedValues)
    {
        _key = key;
        var bits = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Clamp(estimatedValues * 10, 1L << 20, Math.Max(1L << 20, budgetBytes * 8 / 4)));
        if (bits > budgetBytes * 2 && bits > 1L << 20)
        {
            bits /= 2;
        }
        _bloom = new ulong[bits / 64];
        _mask = (ulong)bits - 1;
        var partitions = (int)Math.Clamp(estimatedValues * 16 / Math.Max(1, budgetBytes / 4) + 1, 1, 64);
        _originals = new SpillFiles(directory, "everywhere-o", partitions, 2);
        _candidates = new SpillFiles(directory, "everywhere-s", partitions, 3);
    }

    public long BloomBytes => _bloom.LongLength * sizeof(ulong);

    /// <summary>An original value of a masked column: if it looks like an e-mail, phone, card or IBAN, its tokens are remembered.</summary>
    public void AddOriginal(ReadOnlySpan<byte> value)
    {
        if (value.Length < MinTokenBytes || value.Length > MaxTokenBytes)
        {
            return;
        }
        Span<char> chars = stackalloc char[MaxTokenBytes];
        if (!Encoding.UTF8.TryGetChars(value, chars, out var count))
        {
            return;
        }
        var text = chars[..count];
        var kind = ValuePatterns.IsEmail(text) ? 0 : ValuePatterns.IsCardNumber(text) ? 2 : ValuePatterns.IsIban(text) ? 3 : ValuePatterns.IsPhoneNumber(text) ? 1 : -1;
        if (kind < 0)
        {
            return;
        }
        if (kind is 1 or 2)
        {
            // A phone or card number is written with spaces, dashes, dots or parentheses as it pleases: it is known by
            // its digits (10 to 19 of them; a shorter group would match unrelated numbers by chance).
            Span<byte> digits = stackalloc byte[MaxDigits];
            var n = 0;
            foreach (var b in value)
            {
                if (b is >= (byte)'0' and <= (byte)'9')
                {
                    if (n == MaxDigits)
                    {
                        return;
                    }
                    digits[n++] = b;
                }
            }
            if (n >= MinDigits)
            {
                Remember(digits[..n], kind);
            }
            return;
        }
        while (!value.IsEmpty)
        {
            var end = value.IndexOfAny(s_delimiters);
            var token = end < 0 ? value : value[..end];
            if (token.Length >= MinTokenBytes)
            {
                Remember(token, kind);
            }
            value = end < 0 ? [] : value[(end + 1)..];
        }
    }

    void Remember(ReadOnlySpan<byte> token, int kind)
    {
        var hash = SipHash.Hash64(_key, token) | 1;
        for (var i = 0; i < Probes; i++)
        {
            var bit = Probe(hash, i);
            _bloom[bit >> 6] |= 1UL << (int)(bit & 63);
        }
        _entry[0] = hash;
        _entry[1] = (ulong)kind;
        _originals.Write(_entry.AsSpan(0, 2));
        _originalTokens++;
    }

    ulong Probe(ulong hash, int i) => (hash + (ulong)i * ((hash >> 32) | 1) * 0x9E3779B97F4A7C15UL) & _mask;

    /// <summary>The next bytes of the stored dump, in order; a token cut by the end of a block is carried to the next.</summary>
    public void Scan(ReadOnlySpan<byte> data)
    {
        ScanDigits(data);
        while (!data.IsEmpty)
        {
            var end = data.IndexOfAny(s_delimiters);
            var piece = end < 0 ? data : data[..end];
            if (_carried > 0 || _overlong || end < 0)
            {
                if (_overlong || _carried + piece.Length > MaxTokenBytes)
                {
                    _overlong = true;
                    _carried = 0;
                }
                else
                {
                    piece.CopyTo(_carry.AsSpan(_carried));
                    _carried += piece.Length;
                }
                if (end < 0)
                {
                    return;
                }
                if (!_overlong)
                {
                    Try(_carry.AsSpan(0, _carried));
                }
                _carried = 0;
                _overlong = false;
            }
            else
            {
                Try(piece);
            }
            data = data[(end + 1)..];
        }
    }

    /// <summary>
    /// Runs of digits joined by spaces, dashes, dots, parentheses and plus signs (a phone or card number however it is
    /// written), carried across blocks; each run of 10 to 19 digits is tried by its digits.
    /// </summary>
    void ScanDigits(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length)
        {
            if (!_inRun)
            {
                var next = data[i..].IndexOfAnyInRange((byte)'0', (byte)'9');
                if (next < 0)
                {
                    return;
                }
                i += next;
                _inRun = true;
            }
            var b = data[i];
            if (b is >= (byte)'0' and <= (byte)'9')
            {
                if (_digitCount < MaxDigits)
                {
                    _digits[_digitCount] = b;
                }
                _digitCount++;
            }
            else if (!s_digitGlue.Contains(b))
            {
                EndDigits();
            }
            i++;
        }
    }

    void EndDigits()
    {
        if (_digitCount is >= MinDigits and <= MaxDigits)
        {
            Try(_digits.AsSpan(0, _digitCount), digitsOnly: true);
        }
        _digitCount = 0;
        _inRun = false;
    }

    /// <summary>The end of the stored dump: its last token.</summary>
    public void Complete()
    {
        EndDigits();
        if (_carried > 0 && !_overlong)
        {
            Try(_carry.AsSpan(0, _carried));
        }
        _carried = 0;
    }

    void Try(ReadOnlySpan<byte> token, bool digitsOnly = false)
    {
        // A token of digits alone is a digit run too: tried there, once.
        if (token.Length < MinTokenBytes || token.Length > MaxTokenBytes || !digitsOnly && token.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0)
        {
            return;
        }
        var hash = SipHash.Hash64(_key, token) | 1;
        for (var i = 0; i < Probes; i++)
        {
            var bit = Probe(hash, i);
            if ((_bloom[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return;
            }
        }
        _candidateCount++;
        _entry[0] = hash;
        _entry[1] = LeakColumn.Prefix(token, out var chars);
        _entry[2] = (ulong)chars;
        _candidates.Write(_entry);
    }

    /// <summary>Confirms the candidates against the originals, partition by partition.</summary>
    public EverywhereReport Join()
    {
        var block = new ulong[3 << 16];
        for (var p = 0; p < _originals.Partitions; p++)
        {
            if (_candidates.LengthOf(p) == 0)
            {
                continue;
            }
            var originals = new HashRows(2, (int)Math.Min(1 << 30, _originals.LengthOf(p) / 16 * 4 / 3 + 1));
            foreach (var words in _originals.Read(p, block))
            {
                for (var i = 0; i < words; i += 2)
                {
                    originals.Add(block.AsSpan(i, 2));
                }
            }
            foreach (var words in _candidates.Read(p, block))
            {
                for (var i = 0; i < words; i += 3)
                {
                    var original = originals.Find(block[i]);
                    if (original.IsEmpty)
                    {
                        continue;
                    }
                    _found[(int)original[1]]++;
                    if (_examples.Count < MaxExamples)
                    {
                        _examples.Add($"{s_kinds[(int)original[1]]} {LeakColumn.Redacted(block[i + 1], (long)block[i + 2])}");
                    }
                }
            }
        }
        var byKind = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var k = 0; k < s_kinds.Length; k++)
        {
            if (_found[k] > 0)
            {
                byKind[s_kinds[k]] = _found[k];
            }
        }
        return new EverywhereReport(_originalTokens, _found.Sum(), byKind, _examples) { Candidates = _candidateCount, BloomBytes = BloomBytes };
    }

    public void Dispose()
    {
        _originals.Dispose();
        _candidates.Dispose();
    }
}
