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
/// card numbers by their digits (10 to 19, however they are grouped; a phone number with or without its country calling
/// code, see <see cref="PhoneForms"/>). Bounded memory: the originals'
/// keyed hashes go to a Bloom filter sized from the row estimates (about 10 bits each, at most a quarter of the budget)
/// and to partition files on disk; every token of the stored dump is hashed and tried against the filter, the
/// candidates are partitioned alike and confirmed by an exact lookup of their 64-bit keyed hash, partition by partition.
/// </summary>
internal sealed class LeakEverywhere : IDisposable
{
    const int MinTokenBytes = 6;
    const int MinDigits = 10;
    const int MaxDigits = 19;
    const int MaxForms = 3;
    /// <summary>Marks a national form derived from an international number (<see cref="PhoneForms"/>) in an entry's kind or length word.</summary>
    const ulong DerivedBit = 1UL << 62;
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
    static readonly SearchValues<byte> s_digitGlue = SearchValues.Create(" -.()+/"u8);
    readonly byte[] _carry = new byte[MaxTokenBytes];
    readonly byte[] _digits = new byte[MaxDigits];
    int _digitCount;
    bool _inRun;
    bool _plusBeforeRun;
    byte _lastScanned;
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
            // its digits (10 to 19 of them; a shorter group would match unrelated numbers by chance), a phone number
            // written internationally also by its national forms.
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
            Span<byte> forms = stackalloc byte[MaxForms * (MaxDigits + 1)];
            Span<int> lengths = stackalloc int[MaxForms];
            Span<bool> derived = stackalloc bool[MaxForms];
            var written = PhoneForms(digits[..n], kind == 1 && value.TrimStart((byte)' ').StartsWith("+"u8), forms, lengths, derived);
            for (var f = 0; f < written; f++)
            {
                Remember(forms.Slice(f * (MaxDigits + 1), lengths[f]), kind, derived[f]);
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

    /// <summary>
    /// The forms a number's digits are looked for in, each of 10 to 19 digits: the digits as written (without a leading
    /// 00, the international prefix); and when written internationally (a leading + or 00) also the national number,
    /// without its country calling code (<see cref="CountryCodeLength"/>), alone and after the trunk prefix (0; 8 for
    /// +7; none for +1, whose national form is the number itself), so that +49 30 1234567 and 030 1234567, or
    /// +1 555 123 4567 and (555) 123-4567, are known as one. Both sides use it: the originals' numbers and the dump's
    /// digit runs, so either may be the international one. A national form is marked <paramref name="derived"/>: a
    /// derived form of the dump matches only an original as written (a number international in both is one match).
    /// </summary>
    /// <returns>How many forms were written to <paramref name="forms"/> (each at a multiple of 20 bytes), lengths in <paramref name="lengths"/>.</returns>
    internal static int PhoneForms(ReadOnlySpan<byte> digits, bool international, Span<byte> forms, Span<int> lengths, Span<bool> derived)
    {
        if (digits.StartsWith("00"u8))
        {
            digits = digits[2..];
            international = true;
        }
        var count = 0;
        Add(digits, 0, isDerived: false, forms, lengths, derived, ref count);
        if (international && CountryCodeLength(digits) is > 0 and var code && code < digits.Length)
        {
            var national = digits[code..];
            Add(national, 0, isDerived: true, forms, lengths, derived, ref count);
            if (digits[0] != '1')
            {
                Add(national, digits[0] == '7' ? (byte)'8' : (byte)'0', isDerived: true, forms, lengths, derived, ref count);
            }
        }
        return count;

        static void Add(ReadOnlySpan<byte> number, byte trunk, bool isDerived, Span<byte> forms, Span<int> lengths, Span<bool> derived, ref int count)
        {
            var length = number.Length + (trunk != 0 ? 1 : 0);
            if (length is < MinDigits or > MaxDigits)
            {
                return;
            }
            var form = forms.Slice(count * (MaxDigits + 1), length);
            if (trunk != 0)
            {
                form[0] = trunk;
            }
            number.CopyTo(form[(trunk != 0 ? 1 : 0)..]);
            derived[count] = isDerived;
            lengths[count++] = length;
        }
    }

    /// <summary>
    /// How many of <paramref name="digits"/> (after + or 00) are the country calling code: the codes of ITU-T E.164 are
    /// a prefix code, so the first two digits tell the length (1 and 7: one digit; the two-digit codes such as 20, 27, 30-34,
    /// 36, 39, 40, 41, 43-49, 51-58, 60-66, 81, 82, 84, 86, 90-95, 98; every other code three digits). 0: none (a leading 0).
    /// https://www.itu.int/pub/T-SP-E.164D
    /// </summary>
    internal static int CountryCodeLength(ReadOnlySpan<byte> digits)
    {
        if (digits.Length < 2 || digits[0] is < (byte)'1' or > (byte)'9')
        {
            return 0;
        }
        var second = digits[1] - '0';
        return digits[0] switch
        {
            (byte)'1' or (byte)'7' => 1,
            (byte)'2' => second is 0 or 7 ? 2 : 3,
            (byte)'3' => second is 5 or 7 or 8 ? 3 : 2,
            (byte)'4' => second == 2 ? 3 : 2,
            (byte)'5' => second is 0 or 9 ? 3 : 2,
            (byte)'6' => second <= 6 ? 2 : 3,
            (byte)'8' => second is 1 or 2 or 4 or 6 ? 2 : 3,
            _ => second is 6 or 7 or 9 ? 3 : 2,
        };
    }

    void Remember(ReadOnlySpan<byte> token, int kind, bool derived = false)
    {
        var hash = SipHash.Hash64(_key, token) | 1;
        for (var i = 0; i < Probes; i++)
        {
            var bit = Probe(hash, i);
            _bloom[bit >> 6] |= 1UL << (int)(bit & 63);
        }
        _entry[0] = hash;
        _entry[1] = (uint)kind | (derived ? DerivedBit : 0);
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
    /// Runs of digits joined by spaces, dashes, dots, slashes, parentheses and plus signs (a phone or card number however
    /// it is written), carried across blocks; each run is tried by its forms of 10 to 19 digits (<see cref="PhoneForms"/>:
    /// a run after a + is an international number).
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
                    _lastScanned = data[^1];
                    return;
                }
                i += next;
                _inRun = true;
                _plusBeforeRun = (i > 0 ? data[i - 1] : _lastScanned) == (byte)'+';
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
        _lastScanned = data.IsEmpty ? _lastScanned : data[^1];
    }

    void EndDigits()
    {
        if (_digitCount <= MaxDigits)
        {
            Span<byte> forms = stackalloc byte[MaxForms * (MaxDigits + 1)];
            Span<int> lengths = stackalloc int[MaxForms];
            Span<bool> derived = stackalloc bool[MaxForms];
            var count = PhoneForms(_digits.AsSpan(0, _digitCount), _plusBeforeRun, forms, lengths, derived);
            for (var f = 0; f < count; f++)
            {
                Try(forms.Slice(f * (MaxDigits + 1), lengths[f]), digitsOnly: true, derived[f]);
            }
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

    void Try(ReadOnlySpan<byte> token, bool digitsOnly = false, bool derived = false)
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
        _entry[2] = (ulong)chars | (derived ? DerivedBit : 0UL);
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
                    if (original.IsEmpty || (original[1] & block[i + 2] & DerivedBit) != 0)
                    {
                        continue;
                    }
                    var kind = (int)(original[1] & ~DerivedBit);
                    _found[kind]++;
                    if (_examples.Count < MaxExamples)
                    {
                        _examples.Add($"{s_kinds[kind]} {LeakColumn.Redacted(block[i + 1], (long)(block[i + 2] & ~DerivedBit))}");
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
