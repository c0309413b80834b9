using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Replica.Lexing;

namespace Replica.Sources;

/// <summary>
/// Writes a synthetic dump as a sequence of <see cref="SyntheticSegment"/>s: fixed text copied (possibly across reads)
/// and rows generated whole, one after another, into whatever span the reader offers.
/// </summary>
internal sealed partial class SyntheticGenerator
{
    readonly SyntheticOptions _options;
    readonly bool _mySql;
    readonly ulong[] _salts = new ulong[SyntheticTables.Count];

    // Format: separators, quotes and NULL as fixed-width stores plus the length to advance (the rest is over-written).
    readonly ushort _separator;
    readonly int _separatorLength;
    readonly int _quoteLength;
    readonly uint _null;
    readonly int _nullLength;
    readonly uint _timeZone;
    readonly int _timeZoneLength;
    readonly SyntheticPool[] _rowStarts = new SyntheticPool[SyntheticTables.Count];
    // The end of a row ("\n", ")" or ");\n") as one store.
    readonly uint _rowEnd;
    readonly int _rowEndLength;
    readonly SyntheticPool[] _statementStarts = new SyntheticPool[SyntheticTables.Count];

    // Pools, encoded for this format.
    readonly SyntheticPool _firstNames, _lastNames, _firstSlugs, _lastSlugs, _cities, _countries, _phones, _streets, _domains;
    readonly SyntheticPool _tiers, _tags, _statuses, _notes, _adjectives, _nouns, _descriptions;
    readonly SyntheticPool _jsonEmail, _jsonPhone, _jsonPhoneEnd, _jsonNullPhone, _jsonTier, _jsonTags, _jsonTagSeparator, _jsonEnd;

    readonly SyntheticSegment[] _segments;
    int _segment;
    int _textOffset;
    // The row cursor of the current rows segment: the next row id (order id for order_items) and its line.
    long _nextId;
    int _nextLine;
    // MySQL order_items: the lines of order _nextId.
    int _lines;
    long _rowsLeft;
    // MySQL: bytes of the extended INSERT being written, 0 when none is open.
    long _statementBytes;

    /// <summary>mysqldump's default net_buffer_length (1 MiB − 1 KiB): an extended INSERT ends before it would grow past it.</summary>
    internal const int MySqlStatementBytes = 1_046_528;

    public SyntheticGenerator(SyntheticOptions options)
    {
        _options = options;
        _mySql = options.Dialect == SqlDialect.MySql;
        var copy = options.Format == SyntheticFormat.Copy;
        var escape = copy ? SyntheticEscape.CopyText : _mySql ? SyntheticEscape.MySqlLiteral : SyntheticEscape.PostgresLiteral;
        for (var t = 0; t < _salts.Length; t++)
        {
            _salts[t] = Mix(options.Seed * Golden + (ulong)(t + 1) * 0xA0761D6478BD642F);
        }

        _separator = copy ? (ushort)'\t' : _mySql ? (ushort)',' : (ushort)(',' | ' ' << 8);
        _separatorLength = copy || _mySql ? 1 : 2;
        _quoteLength = copy ? 0 : 1;
        _null = copy ? (uint)('\\' | 'N' << 8) : 0x4C4C554E; // "\N" or "NULL"
        _nullLength = copy ? 2 : 4;
        _timeZone = _mySql ? 0u : '+' | '0' << 8 | '0' << 16;
        _timeZoneLength = _mySql ? 0 : 3;
        for (var t = 0; t < SyntheticTables.Count; t++)
        {
            var name = SyntheticTables.Name((SyntheticTable)t);
            _rowStarts[t] = Fixed(copy ? "" : _mySql ? "(" : $"INSERT INTO public.{name} VALUES (");
            _statementStarts[t] = Fixed($"INSERT INTO `{name}` VALUES ");
        }
        _rowEnd = copy ? '\n' : _mySql ? ')' : ')' | (uint)';' << 8 | (uint)'\n' << 16;
        _rowEndLength = copy || _mySql ? 1 : 3;

        _firstNames = Pool(SyntheticData.FirstNames.Select(n => n.Name), escape);
        _lastNames = Pool(SyntheticData.LastNames.Select(n => n.Name), escape);
        _firstSlugs = Pool(SyntheticData.FirstNames.Select(n => n.Slug), escape);
        _lastSlugs = Pool(SyntheticData.LastNames.Select(n => n.Slug), escape);
        _cities = Pool(SyntheticData.Places.Select(p => p.City), escape);
        _countries = Pool(SyntheticData.Places.Select(p => p.Country), escape);
        _phones = Pool(SyntheticData.Places.Select(p => p.Phone), escape);
        _streets = Pool(SyntheticData.Streets, escape);
        _domains = Pool(SyntheticData.Domains, escape);
        _tiers = Pool(SyntheticData.Tiers, escape);
        _tags = Pool(SyntheticData.Tags, escape);
        _statuses = Pool(SyntheticData.Statuses, escape);
        _notes = Pool(SyntheticData.Notes, escape);
        _adjectives = Pool(SyntheticData.Adjectives, escape);
        _nouns = Pool(SyntheticData.Nouns, escape);
        _descriptions = Pool(SyntheticData.Descriptions, escape);
        // The profile: {"contact": {"email": "…", "phone": "…"}, "tier": "gold", "tags": ["vip", "gift"]}; its quotes
        // are escaped as the format escapes any text (MySQL writes \").
        _jsonEmail = Piece("{\"contact\": {\"email\": \"", escape);
        _jsonPhone = Piece("\", \"phone\": \"", escape);
        _jsonPhoneEnd = Piece("\"", escape);
        _jsonNullPhone = Piece("\", \"phone\": null", escape);
        _jsonTier = Piece("}, \"tier\": \"", escape);
        _jsonTags = Piece("\", \"tags\": [\"", escape);
        _jsonTagSeparator = Piece("\", \"", escape);
        _jsonEnd = Piece("\"]}", escape);

        Counts = SolveCounts(options.Size);
        _customers = (ulong)Counts.Customers;
        _products = (ulong)Counts.Products;
        _productTexts = BuildProductTexts();
        _segments = BuildSegments();
        EnterSegment();
    }

    // The id ranges that foreign keys draw from (set to a first guess while the counts are solved).
    ulong _customers;
    ulong _products;

    public SyntheticCounts Counts { get; private set; } = new(0, 0, 0, 0, 0);

    static SyntheticPool Pool(IEnumerable<string> values, SyntheticEscape escape) => new([.. values], escape);

    static SyntheticPool Piece(string value, SyntheticEscape escape) => new([value], escape);

    /// <summary>Fixed syntax (row starts and ends): never escaped.</summary>
    static SyntheticPool Fixed(string value) => new([value], SyntheticEscape.PostgresLiteral);

    /// <summary>
    /// Writes the next part of the dump into <paramref name="destination"/> and returns how many bytes; 0 only at the end.
    /// A destination of at least <see cref="MaxRowBytes"/> always makes progress.
    /// </summary>
    public int Fill(Span<byte> destination)
    {
        ref var d = ref MemoryMarshal.GetReference(destination);
        var p = 0;
        var rowLimit = destination.Length - MaxRowBytes;
        while (_segment < _segments.Length)
        {
            var segment = _segments[_segment];
            if (segment.Text is { } text)
            {
                var count = Math.Min(text.Length - _textOffset, destination.Length - p);
                text.AsSpan(_textOffset, count).CopyTo(destination[p..]);
                p += count;
                _textOffset += count;
                if (_textOffset < text.Length)
                {
                    return p;
                }
            }
            else
            {
                p = WriteRows(ref d, p, rowLimit, segment.Table);
                if (_rowsLeft > 0)
                {
                    return p;
                }
            }
            _segment++;
            EnterSegment();
        }
        return p;
    }

    void EnterSegment()
    {
        _textOffset = 0;
        if (_segment < _segments.Length && _segments[_segment].Text is null)
        {
            _rowsLeft = _segments[_segment].Rows;
            _nextId = 1;
            _nextLine = 1;
            _lines = LinesOf(1);
            _statementBytes = 0;
        }
    }

    /// <summary>Writes rows of <paramref name="table"/> while a whole row surely fits (p ≤ rowLimit) and rows are left.</summary>
    int WriteRows(ref byte d, int p, int rowLimit, SyntheticTable table)
    {
        if (_mySql)
        {
            return WriteMySqlRows(ref d, p, rowLimit, table);
        }
        var id = _nextId;
        var left = _rowsLeft;
        switch (table)
        {
            case SyntheticTable.Customers:
                for (; left > 0 && p <= rowLimit; left--, id++)
                {
                    p = WriteCustomer(ref d, p, id);
                }
                break;
            case SyntheticTable.Orders:
                for (; left > 0 && p <= rowLimit; left--, id++)
                {
                    p = WriteOrder(ref d, p, id);
                }
                break;
            case SyntheticTable.Payments:
                for (; left > 0 && p <= rowLimit; left--, id++)
                {
                    p = WritePayment(ref d, p, id);
                }
                break;
            case SyntheticTable.Products:
                for (; left > 0 && p <= rowLimit; left--, id++)
                {
                    p = WriteProduct(ref d, p, id);
                }
                break;
            default:
                {
                    var line = _nextLine;
                    var lines = LinesOf(id);
                    for (; left > 0 && p <= rowLimit; left--)
                    {
                        p = WriteOrderItem(ref d, p, id, line);
                        if (++line > lines)
                        {
                            id++;
                            line = 1;
                            lines = LinesOf(id);
                        }
                    }
                    _nextLine = line;
                    break;
                }
        }
        _nextId = id;
        _rowsLeft = left;
        return p;
    }

    /// <summary>
    /// mysqldump's extended INSERTs: rows as (…),(…) after one INSERT INTO `t` VALUES, the statement ended before the next
    /// row could take it past <see cref="MySqlStatementBytes"/> (its --net-buffer-length), and at the table's end.
    /// </summary>
    int WriteMySqlRows(ref byte d, int p, int rowLimit, SyntheticTable table)
    {
        // The cursor lives in locals while rows are written (fields would be stored back on every row).
        var id = _nextId;
        var line = _nextLine;
        var lines = _lines;
        var left = _rowsLeft;
        var statement = _statementBytes;
        var items = table == SyntheticTable.OrderItems;
        var statementStart = _statementStarts[(int)table];
        while (left > 0 && p <= rowLimit)
        {
            var rowStart = p;
            if (statement == 0)
            {
                Put(ref d, ref p, statementStart);
            }
            else
            {
                Unsafe.Add(ref d, p++) = (byte)',';
            }
            p = WriteRow(ref d, p, table, id, line);
            statement += p - rowStart;
            left--;
            if (!items || ++line > lines)
            {
                id++;
                line = 1;
                if (items)
                {
                    lines = LinesOf(id);
                }
            }
            if (left == 0 || statement + MaxRowBytes > MySqlStatementBytes)
            {
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, p), (ushort)(';' | '\n' << 8));
                p += 2;
                statement = 0;
            }
        }
        _nextId = id;
        _nextLine = line;
        _lines = lines;
        _rowsLeft = left;
        _statementBytes = statement;
        return p;
    }

    int WriteRow(ref byte d, int p, SyntheticTable table, long id, int line) => table switch
    {
        SyntheticTable.Customers => WriteCustomer(ref d, p, id),
        SyntheticTable.Orders => WriteOrder(ref d, p, id),
        SyntheticTable.Payments => WritePayment(ref d, p, id),
        SyntheticTable.Products => WriteProduct(ref d, p, id),
        _ => WriteOrderItem(ref d, p, id, line),
    };

    SyntheticSegment[] BuildSegments()
    {
        var segments = new List<SyntheticSegment>();
        var text = new StringBuilder();
        void Flush()
        {
            if (text.Length > 0)
            {
                segments.Add(new SyntheticSegment(Encoding.UTF8.GetBytes(text.ToString()), default, 0));
                text.Clear();
            }
        }
        if (_mySql)
        {
            text.Append(SyntheticSchema.MySqlHeader);
            for (var t = 0; t < SyntheticTables.Count; t++)
            {
                var table = (SyntheticTable)t;
                text.Append(SyntheticSchema.MySqlTable(table));
                Flush();
                segments.Add(new SyntheticSegment(null, table, SyntheticTables.Rows(Counts, table)));
                text.Append(SyntheticSchema.MySqlTableEnd(table));
            }
            text.Append(SyntheticSchema.MySqlFooter);
        }
        else
        {
            var copy = _options.Format == SyntheticFormat.Copy;
            text.Append(SyntheticSchema.PostgresHeader);
            for (var t = 0; t < SyntheticTables.Count; t++)
            {
                text.Append(SyntheticSchema.PostgresCreateTable((SyntheticTable)t));
            }
            for (var t = 0; t < SyntheticTables.Count; t++)
            {
                var table = (SyntheticTable)t;
                text.Append(SyntheticSchema.PostgresDataStart(table, copy));
                Flush();
                segments.Add(new SyntheticSegment(null, table, SyntheticTables.Rows(Counts, table)));
                text.Append(copy ? "\\.\n\n\n" : "\n\n");
            }
            text.Append(SyntheticSchema.PostgresPostData);
        }
        Flush();
        return [.. segments];
    }
}
