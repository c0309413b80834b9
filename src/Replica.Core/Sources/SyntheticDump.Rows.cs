using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Replica.Sources;

/// <summary>
/// The row writers. A row is written at <c>ref d + p</c> with no bounds checks: the caller starts a row only when
/// <see cref="MaxRowBytes"/> are free, which covers the longest row the pools allow plus the vector over-copy slack.
/// Every value comes from splitmix64 over (seed, table, row id), so a row is a pure function of its id.
/// </summary>
internal sealed partial class SyntheticGenerator
{
    /// <summary>
    /// Room a row may need: the longest is a customer (two names, an email twice, a phone twice, a street, a place,
    /// ~90 bytes of JSON) well under 1 KiB; the rest is slack for the 64-byte over-copies and a MySQL statement end.
    /// </summary>
    public const int MaxRowBytes = 4096;

    const ulong Golden = 0x9E3779B97F4A7C15;
    const ulong RowStride = 0xD1B54A32D192ED03;
    const ulong Golden2 = unchecked(2 * Golden);
    const ulong Golden3 = unchecked(3 * Golden);
    const ulong Golden4 = unchecked(4 * Golden);

    // Day numbers are offsets from 1940-01-01 into s_dates.
    const int BirthFirstDay = 0;          // 1940-01-01
    const int BirthDays = 24106;          // to 2005-12-31
    const int CreatedFirstDay = 27394;    // 2015-01-01
    const int CreatedDays = 4018;         // to 2025-12-31
    const int OrderedFirstDay = 28855;    // 2019-01-01
    const int OrderedDays = 2557;         // to 2025-12-31

    static readonly ushort[] s_pairs = BuildPairs();
    static readonly ulong[] s_powersOf10 = BuildPowersOf10();
    static readonly byte[] s_dates = BuildDates();
    static readonly byte[] s_luhnPairs = BuildLuhnPairs();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    ulong RowKey(SyntheticTable table, ulong id) => _salts[(int)table] + id * RowStride;

    int WriteCustomer(ref byte d, int p, long id)
    {
        var key = RowKey(SyntheticTable.Customers, (ulong)id);
        var r1 = Mix(key + Golden);
        var r2 = Mix(key + Golden2);
        var r3 = Mix(key + Golden3);
        var r4 = Mix(key + Golden4);
        int first = _firstNames.Pick(r1), last = _lastNames.Pick(r1 >> 16), place = _cities.Pick(r1 >> 32), street = _streets.Pick(r1 >> 48);

        Put(ref d, ref p, _rowStarts[(int)SyntheticTable.Customers]);
        p += WriteUInt(ref Unsafe.Add(ref d, p), (ulong)id);
        Separator(ref d, ref p);
        Text(ref d, ref p, _firstNames, first);
        Separator(ref d, ref p);
        Text(ref d, ref p, _lastNames, last);
        Separator(ref d, ref p);

        // The email is derived from the names and the id (unique), and written again inside the profile JSON.
        Quote(ref d, ref p);
        var emailStart = p;
        Put(ref d, ref p, _firstSlugs, first);
        Unsafe.Add(ref d, p++) = (byte)'.';
        Put(ref d, ref p, _lastSlugs, last);
        p += WriteUInt(ref Unsafe.Add(ref d, p), (ulong)id);
        Unsafe.Add(ref d, p++) = (byte)'@';
        Put(ref d, ref p, _domains, _domains.Pick(r2 >> 48));
        var emailLength = p - emailStart;
        Quote(ref d, ref p);
        Separator(ref d, ref p);

        var nulls = r3 >> 56;
        var phoneStart = 0;
        var phoneLength = 0;
        if ((nulls & 0xF) == 0)
        {
            Null(ref d, ref p);
        }
        else
        {
            Quote(ref d, ref p);
            phoneStart = p;
            Put(ref d, ref p, _phones, place);
            // Seven digits, 1000000 to 9999999: the last seven of eight.
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), Digits8((uint)(1_000_000 + ((r2 & 0xFFFFFFFF) * 9_000_000 >> 32))) >> 8);
            p += 7;
            phoneLength = p - phoneStart;
            Quote(ref d, ref p);
        }
        Separator(ref d, ref p);
        if ((nulls >> 4) == 0)
        {
            Null(ref d, ref p);
        }
        else
        {
            Quote(ref d, ref p);
            Put(ref d, ref p, _streets, street);
            Unsafe.Add(ref d, p++) = (byte)' ';
            p += WriteUInt(ref Unsafe.Add(ref d, p), 1 + (((r2 >> 32) & 0xFFFF) * 199 >> 16));
            Quote(ref d, ref p);
        }
        Separator(ref d, ref p);
        Text(ref d, ref p, _cities, place);
        Separator(ref d, ref p);
        Text(ref d, ref p, _countries, place);
        Separator(ref d, ref p);
        Quote(ref d, ref p);
        Date(ref d, ref p, BirthFirstDay + (int)((r3 & 0xFFFF) * BirthDays >> 16));
        Quote(ref d, ref p);
        Separator(ref d, ref p);

        if ((r4 & 0xFF) < 26)
        {
            Null(ref d, ref p);
        }
        else
        {
            Quote(ref d, ref p);
            Put(ref d, ref p, _jsonEmail, 0);
            Copy(ref Unsafe.Add(ref d, p), ref Unsafe.Add(ref d, emailStart), emailLength);
            p += emailLength;
            if (phoneLength == 0)
            {
                Put(ref d, ref p, _jsonNullPhone, 0);
            }
            else
            {
                Put(ref d, ref p, _jsonPhone, 0);
                Copy(ref Unsafe.Add(ref d, p), ref Unsafe.Add(ref d, phoneStart), phoneLength);
                p += phoneLength;
                Put(ref d, ref p, _jsonPhoneEnd, 0);
            }
            Put(ref d, ref p, _jsonTier, 0);
            Put(ref d, ref p, _tiers, (int)((r3 >> 48) & 3));
            Put(ref d, ref p, _jsonTags, 0);
            Put(ref d, ref p, _tags, (int)((r3 >> 50) & 7));
            Put(ref d, ref p, _jsonTagSeparator, 0);
            Put(ref d, ref p, _tags, (int)((r3 >> 53) & 7));
            Put(ref d, ref p, _jsonEnd, 0);
            Quote(ref d, ref p);
        }
        Separator(ref d, ref p);
        Timestamp(ref d, ref p, CreatedFirstDay + (int)(((r3 >> 16) & 0xFFFF) * CreatedDays >> 16), (int)(((r3 >> 32) & 0xFFFF) * 86400 >> 16));
        RowEnd(ref d, ref p);
        return p;
    }

    int WriteProduct(ref byte d, int p, long id)
    {
        var key = RowKey(SyntheticTable.Products, (ulong)id);
        var r1 = Mix(key + Golden);
        Put(ref d, ref p, _rowStarts[(int)SyntheticTable.Products]);
        p += WriteUInt(ref Unsafe.Add(ref d, p), (ulong)id);
        Separator(ref d, ref p);
        Quote(ref d, ref p);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), 0x2D554B53u); // "SKU-"
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p + 4), Digits8((uint)id));
        p += 12;
        Quote(ref d, ref p);
        Separator(ref d, ref p);
        Quote(ref d, ref p);
        Put(ref d, ref p, _adjectives, _adjectives.Pick(r1));
        Unsafe.Add(ref d, p++) = (byte)' ';
        Put(ref d, ref p, _nouns, _nouns.Pick(r1 >> 16));
        Quote(ref d, ref p);
        Separator(ref d, ref p);
        if (((r1 >> 32) & 0xFF) < 13)
        {
            Null(ref d, ref p);
        }
        else
        {
            Text(ref d, ref p, _descriptions, _descriptions.Pick(r1 >> 40));
        }
        Separator(ref d, ref p);
        Money(ref d, ref p, ProductPriceCents(id));
        RowEnd(ref d, ref p);
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    ulong ProductPriceCents(long id) => 99 + (Mix(RowKey(SyntheticTable.Products, (ulong)id) + Golden2) & 0xFFFF);

    int WriteOrder(ref byte d, int p, long id)
    {
        var key = RowKey(SyntheticTable.Orders, (ulong)id);
        var r1 = Mix(key + Golden);
        var r2 = Mix(key + Golden2);
        var r3 = Mix(key + Golden3);
        var r4 = Mix(key + Golden4);
        Put(ref d, ref p, _rowStarts[(int)SyntheticTable.Orders]);
        p += WriteUInt(ref Unsafe.Add(ref d, p), (ulong)id);
        Separator(ref d, ref p);
        p += WriteUInt(ref Unsafe.Add(ref d, p), 1 + Math.BigMul(r1, _customers, out _));
        Separator(ref d, ref p);
        Text(ref d, ref p, _statuses, _statuses.Pick(r2));
        Separator(ref d, ref p);
        Money(ref d, ref p, OrderTotalCents(r2));
        Separator(ref d, ref p);
        Timestamp(ref d, ref p, OrderDay(r2), OrderSecond(r3));
        Separator(ref d, ref p);
        if (((r3 >> 56) & 0xF) == 0)
        {
            Null(ref d, ref p);
        }
        else
        {
            var place = _cities.Pick(r3 >> 16);
            Quote(ref d, ref p);
            Put(ref d, ref p, _streets, _streets.Pick(r3 >> 32));
            Unsafe.Add(ref d, p++) = (byte)' ';
            p += WriteUInt(ref Unsafe.Add(ref d, p), 1 + ((r4 >> 32 & 0xFFFF) * 199 >> 16));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), (ushort)0x202C); // ", "
            p += 2;
            Put(ref d, ref p, _cities, place);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), (ushort)0x202C);
            p += 2;
            Put(ref d, ref p, _countries, place);
            Quote(ref d, ref p);
        }
        Separator(ref d, ref p);
        if (((r4 >> 16) & 0xFF) < 26)
        {
            Null(ref d, ref p);
        }
        else
        {
            Text(ref d, ref p, _notes, _notes.Pick(r4));
        }
        RowEnd(ref d, ref p);
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ulong OrderTotalCents(ulong r2) => 500 + ((r2 >> 16) & 0xFFFFF);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int OrderDay(ulong r2) => OrderedFirstDay + (int)(((r2 >> 36) & 0xFFFF) * OrderedDays >> 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int OrderSecond(ulong r3) => (int)((r3 & 0xFFFF) * 86400 >> 16);

    int WriteOrderItem(ref byte d, int p, long orderId, int lineNumber)
    {
        var r1 = Mix(RowKey(SyntheticTable.OrderItems, ((ulong)orderId << 3) + (ulong)lineNumber) + Golden);
        var productId = 1 + (long)Math.BigMul(r1, _products, out _);
        // The product's id and price as text, looked up: a line is mostly these two (see BuildProductTexts).
        ref var product = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_productTexts), (nint)(productId * 2));
        Put(ref d, ref p, _rowStarts[(int)SyntheticTable.OrderItems]);
        p += WriteUInt(ref Unsafe.Add(ref d, p), (ulong)orderId);
        Separator(ref d, ref p);
        Unsafe.Add(ref d, p++) = (byte)('0' + lineNumber);
        Separator(ref d, ref p);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), product);
        p += (int)(product >> 56);
        Separator(ref d, ref p);
        Unsafe.Add(ref d, p++) = (byte)('1' + (int)(r1 & 3));
        Separator(ref d, ref p);
        var price = Unsafe.Add(ref product, 1);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), price);
        p += (int)(price >> 56);
        RowEnd(ref d, ref p);
        return p;
    }

    /// <summary>
    /// Per product id (index 2·id): its digits, and 2·id+1: its price "123.45"; each up to 7 bytes in the low bytes of a
    /// ulong with the length in the top byte, so an order line writes either with one 8-byte store.
    /// </summary>
    ulong[] _productTexts = [];

    ulong[] BuildProductTexts()
    {
        var texts = new ulong[2 * (_products + 1)];
        Span<byte> scratch = stackalloc byte[32];
        for (var id = 1L; id <= (long)_products; id++)
        {
            var length = WriteUInt(ref scratch[0], (ulong)id);
            texts[2 * id] = Pack(scratch, length);
            var p = 0;
            Money(ref scratch[0], ref p, ProductPriceCents(id));
            texts[2 * id + 1] = Pack(scratch, p);
        }
        return texts;

        static ulong Pack(Span<byte> text, int length)
        {
            text[length..8].Clear();
            return MemoryMarshal.Read<ulong>(text) | (ulong)length << 56;
        }
    }

    int WritePayment(ref byte d, int p, long id)
    {
        // Payment n pays order n: its amount is the order's total, and it is paid on the order's day, a little later.
        var orderKey = RowKey(SyntheticTable.Orders, (ulong)id);
        var o2 = Mix(orderKey + Golden2);
        var o3 = Mix(orderKey + Golden3);
        var key = RowKey(SyntheticTable.Payments, (ulong)id);
        var r1 = Mix(key + Golden);
        var r2 = Mix(key + Golden2);
        Put(ref d, ref p, _rowStarts[(int)SyntheticTable.Payments]);
        p += WriteUInt(ref Unsafe.Add(ref d, p), (ulong)id);
        Separator(ref d, ref p);
        p += WriteUInt(ref Unsafe.Add(ref d, p), (ulong)id);
        Separator(ref d, ref p);

        // A 16-digit card number starting 4 (Visa-like) or 5 (Mastercard-like), then 7 random digit pairs, then the Luhn
        // check digit. Counted from the check digit, the doubled digits are the second of each pair and the first digit,
        // so each pair's share of the Luhn sum is looked up (s_luhnPairs) and no digit is read back.
        Quote(ref d, ref p);
        ref var card = ref Unsafe.Add(ref d, p);
        var first = (int)(r1 & 1);
        card = (byte)('4' + first);
        var sum = first == 0 ? 8 : 1;
        var bits = r1 >> 8;
        var pairs = 0UL;
        for (var i = 0; i < 4; i++, bits >>= 7)
        {
            var pair = (int)((bits & 0x7F) * 100 >> 7);
            sum += s_luhnPairs[pair];
            pairs |= (ulong)s_pairs[pair] << (16 * i);
        }
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref card, 1), pairs);
        pairs = 0;
        for (var i = 0; i < 3; i++, bits >>= 7)
        {
            var pair = (int)((bits & 0x7F) * 100 >> 7);
            sum += s_luhnPairs[pair];
            pairs |= (ulong)s_pairs[pair] << (16 * i);
        }
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref card, 9), pairs);
        Unsafe.Add(ref card, 15) = (byte)('0' + (10 - sum % 10) % 10);
        p += 16;
        Quote(ref d, ref p);
        Separator(ref d, ref p);

        // A German IBAN: DE, two check digits (ISO 13616 mod 97: BBAN, then "DE00" as 131400), an 18-digit BBAN written
        // as two independent runs of nine digits.
        Quote(ref d, ref p);
        var high = (uint)((r2 & 0xFFFFFFFF) * 1_000_000_000 >> 32);
        var low = (uint)((r2 >> 32) * 1_000_000_000 >> 32);
        var bban = high * 1_000_000_000UL + low;
        var check = 98 - (bban % 97 * 1_000_000 + 131_400) % 97;
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), (ushort)0x4544); // "DE"
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p + 2), s_pairs[check]);
        Digits9(ref Unsafe.Add(ref d, p + 4), high);
        Digits9(ref Unsafe.Add(ref d, p + 13), low);
        p += 22;
        Quote(ref d, ref p);
        Separator(ref d, ref p);
        Money(ref d, ref p, OrderTotalCents(o2));
        Separator(ref d, ref p);
        Timestamp(ref d, ref p, OrderDay(o2), Math.Min(86399, OrderSecond(o3) + (int)(r1 >> 52)));
        RowEnd(ref d, ref p);
        return p;
    }

    /// <summary>Lines of an order, 1 to 4: each run of four orders has one of each, in an order drawn per run, so the
    /// total of any prefix of orders is known without generating them (2.5 lines per order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    int LinesOf(long orderId)
    {
        var run = (ulong)(orderId - 1) >> 2;
        var permutation = (int)(Mix(_salts[(int)SyntheticTable.OrderItems] ^ (run * Golden)) % 24);
        return s_permutations[permutation * 4 + (int)((orderId - 1) & 3)];
    }

    static readonly byte[] s_permutations = BuildPermutations();

    static byte[] BuildPermutations()
    {
        var result = new List<byte>();
        for (byte a = 1; a <= 4; a++)
        {
            for (byte b = 1; b <= 4; b++)
            {
                for (byte c = 1; c <= 4; c++)
                {
                    var e = (byte)(10 - a - b - c);
                    if (a != b && a != c && b != c && e != a && e != b && e != c)
                    {
                        result.AddRange([a, b, c, e]);
                    }
                }
            }
        }
        return [.. result];
    }

    // --- Field pieces ---------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Separator(ref byte d, ref int p)
    {
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), _separator);
        p += _separatorLength;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void RowEnd(ref byte d, ref int p)
    {
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), _rowEnd);
        p += _rowEndLength;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Quote(ref byte d, ref int p)
    {
        Unsafe.Add(ref d, p) = (byte)'\'';
        p += _quoteLength;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Null(ref byte d, ref int p)
    {
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), _null);
        p += _nullLength;
    }

    /// <summary>A string value: quoted in an INSERT, bare in COPY.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Text(ref byte d, ref int p, SyntheticPool pool, int index)
    {
        Quote(ref d, ref p);
        Put(ref d, ref p, pool, index);
        Quote(ref d, ref p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put(ref byte d, ref int p, SyntheticPool pool, int index = 0)
    {
        ref var source = ref pool.Get(index, out var length);
        Copy(ref Unsafe.Add(ref d, p), ref source, length);
        p += length;
    }

    /// <summary>Copies up to 32 bytes with two 16-byte vector moves that may run past the value (into the pools' padding
    /// and the row's slack); longer values fall back to a block copy. Source and destination never overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Copy(ref byte destination, ref byte source, int length)
    {
        if (length <= 32)
        {
            Unsafe.WriteUnaligned(ref destination, Unsafe.ReadUnaligned<Vector128<byte>>(ref source));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, 16), Unsafe.ReadUnaligned<Vector128<byte>>(ref Unsafe.Add(ref source, 16)));
        }
        else
        {
            Unsafe.CopyBlockUnaligned(ref destination, ref source, (uint)length);
        }
    }

    /// <summary>cents as "123.45".</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Money(ref byte d, ref int p, ulong cents)
    {
        var units = cents / 100;
        p += WriteUInt(ref Unsafe.Add(ref d, p), units);
        Unsafe.Add(ref d, p) = (byte)'.';
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p + 1), s_pairs[cents - units * 100]);
        p += 3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Date(ref byte d, ref int p, int day)
    {
        ref var source = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s_dates), day * 10);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), Unsafe.ReadUnaligned<Vector128<byte>>(ref source));
        p += 10;
    }

    /// <summary>'2024-05-01 12:34:56+00' (PostgreSQL, UTC) or '2024-05-01 12:34:56' (MySQL datetime).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Timestamp(ref byte d, ref int p, int day, int second)
    {
        Quote(ref d, ref p);
        Date(ref d, ref p, day);
        var hours = (uint)second / 3600;
        var rest = (uint)second - hours * 3600;
        var minutes = rest / 60;
        var seconds = rest - minutes * 60;
        ref var t = ref Unsafe.Add(ref d, p);
        t = (byte)' ';
        // hh:mm:ss as one 8-byte store.
        var time = s_pairs[hours] | (ulong)':' << 16 | (ulong)s_pairs[minutes] << 24 | (ulong)':' << 40 | (ulong)s_pairs[seconds] << 48;
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref t, 1), time);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref t, 9), _timeZone);
        p += 9 + _timeZoneLength;
        Quote(ref d, ref p);
    }

    /// <summary>Writes the decimal digits of <paramref name="value"/> and returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int WriteUInt(ref byte d, ulong value)
    {
        if (value < 100_000_000)
        {
            // Eight digits zero-padded, shifted so the first significant digit lands first; one store.
            var digits = CountDigits(value);
            Unsafe.WriteUnaligned(ref d, Digits8((uint)value) >> ((8 - digits) << 3));
            return digits;
        }
        return WriteLongUInt(ref d, value);
    }

    static int WriteLongUInt(ref byte d, ulong value)
    {
        var digits = CountDigits(value);
        WriteFixed(ref d, value, digits);
        return digits;
    }

    /// <summary>
    /// The eight digits of <paramref name="value"/> (below 10^8, zero-padded) as the bytes of a little-endian ulong: two
    /// levels of division by constants, independent of each other, instead of a chain of four.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ulong Digits8(uint value)
    {
        var high = value / 10_000;
        var low = value - high * 10_000;
        var h1 = high / 100;
        var l1 = low / 100;
        return s_pairs[h1] | (ulong)s_pairs[high - h1 * 100] << 16 | (ulong)s_pairs[l1] << 32 | (ulong)s_pairs[low - l1 * 100] << 48;
    }

    /// <summary>Nine digits (zero-padded) of a value below 10^9.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Digits9(ref byte d, uint value)
    {
        var first = value / 100_000_000;
        d = (byte)('0' + first);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, 1), Digits8(value - first * 100_000_000));
    }

    /// <summary>Writes exactly <paramref name="digits"/> digits (zero-padded), two at a time from the right.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WriteFixed(ref byte d, ulong value, int digits)
    {
        var i = digits;
        while (i >= 2)
        {
            var quotient = value / 100;
            i -= 2;
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, i), s_pairs[value - quotient * 100]);
            value = quotient;
        }
        if (i == 1)
        {
            d = (byte)('0' + value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int CountDigits(ulong value)
    {
        // log10 estimate from the bit length (1233/4096 ≈ log10 2), corrected by one comparison.
        var estimate = (64 - BitOperations.LeadingZeroCount(value | 1)) * 1233 >> 12;
        return estimate + (value >= Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s_powersOf10), estimate) ? 1 : 0);
    }

    static ushort[] BuildPairs()
    {
        var pairs = new ushort[100];
        for (var i = 0; i < 100; i++)
        {
            pairs[i] = (ushort)(('0' + i / 10) | ('0' + i % 10) << 8);
        }
        return pairs;
    }

    /// <summary>A digit pair's share of the Luhn sum when its second digit is the doubled one.</summary>
    static byte[] BuildLuhnPairs()
    {
        var shares = new byte[100];
        for (var i = 0; i < 100; i++)
        {
            var doubled = i % 10 * 2;
            shares[i] = (byte)(i / 10 + (doubled > 9 ? doubled - 9 : doubled));
        }
        return shares;
    }

    static ulong[] BuildPowersOf10()
    {
        var powers = new ulong[20];
        powers[0] = 1;
        for (var i = 1; i < powers.Length; i++)
        {
            powers[i] = powers[i - 1] * 10;
        }
        return powers;
    }

    /// <summary>"yyyy-MM-dd" for every day from 1940-01-01 to 2026-12-31, ten bytes each, plus padding for 16-byte reads.</summary>
    static byte[] BuildDates()
    {
        var first = new DateOnly(1940, 1, 1);
        var days = new DateOnly(2026, 12, 31).DayNumber - first.DayNumber + 1;
        var dates = new byte[days * 10 + 16];
        for (var i = 0; i < days; i++)
        {
            var date = first.AddDays(i);
            date.TryFormat(dates.AsSpan(i * 10, 10), out _, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        }
        return dates;
    }
}
