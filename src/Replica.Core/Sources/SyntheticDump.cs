using System.Globalization;
using System.Runtime.InteropServices;
using Replica.Lexing;

namespace Replica.Sources;

/// <summary>How a synthetic dump writes its rows: pg_dump's COPY blocks, or INSERT statements.</summary>
public enum SyntheticFormat
{
    /// <summary>pg_dump's default: <c>COPY ... FROM stdin;</c> blocks in COPY text format.</summary>
    Copy,

    /// <summary>PostgreSQL: one <c>INSERT</c> per row (<c>pg_dump --inserts</c>). MySQL: mysqldump's extended INSERTs.</summary>
    Inserts,
}

/// <summary>What a synthetic dump looks like. The same options always give the same bytes.</summary>
/// <param name="Size">
/// The target size of the dump in bytes: the output is within ±2 % of it from 10 MiB up; a tiny size still gives a
/// complete, valid dump with at least one row in every table.
/// </param>
public sealed record SyntheticOptions(long Size)
{
    public SqlDialect Dialect { get; init; } = SqlDialect.PostgreSql;

    /// <summary>MySQL supports <see cref="SyntheticFormat.Inserts"/> only (mysqldump has no COPY).</summary>
    public SyntheticFormat Format { get; init; } = SyntheticFormat.Copy;

    public ulong Seed { get; init; } = 1;
}

/// <summary>Rows per table that a synthetic dump holds; known before the first byte is generated.</summary>
public sealed record SyntheticCounts(long Customers, long Products, long Orders, long OrderItems, long Payments)
{
    public long Rows => Customers + Products + Orders + OrderItems + Payments;
}

/// <summary>
/// A generated shop dump as a source (benchmarks, restore tests, demos): no database, no file, any size, bounded memory.
/// </summary>
public sealed class SyntheticSource(SyntheticOptions options) : IDumpSource
{
    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"synthetic shop dump ({ByteSizes.Format(options.Size)}, {options.Dialect} {(options.Format == SyntheticFormat.Copy ? "COPY" : "INSERT")}, seed {options.Seed})");

    public long? Length => options.Size;

    public int? TableCount => SyntheticTables.Count;

    public Stream Open() => new SyntheticDumpStream(options);
}

/// <summary>
/// The bytes of a synthetic shop dump (customers, products, orders, order_items, payments with personal data, foreign
/// keys, NULLs, escapes, multi-line and non-ASCII text), generated as they are read: pg_dump plain output or mysqldump
/// output that psql / the mariadb client restore. Every row is a pure function of (seed, table, row id), so the output
/// does not depend on how the reader slices it, and memory stays bounded (one internal block) whatever the size.
/// </summary>
/// <remarks>
/// Per customer: 4 orders (customer_id drawn uniformly), 10 order lines (1 to 4 per order), 4 payments (payment n pays
/// order n, for its total); products: min(10,000, max(10, customers / 20)). NULLs: phone, street and
/// shipping_address 1/16, note and profile ~10 %, product description ~5 %. An order's total is not the sum of its lines.
/// </remarks>
public sealed class SyntheticDumpStream : Stream
{
    /// <summary>
    /// A read into a span at least this large is generated straight into it; a smaller one is served from the internal
    /// block. Either way rows are whole units of the same sequence, so the bytes are the same.
    /// </summary>
    const int DirectMinBytes = 64 << 10;

    const int BlockBytes = 256 << 10;

    readonly SyntheticGenerator _generator;
    readonly byte[] _block = new byte[BlockBytes];
    int _blockStart;
    int _blockEnd;
    bool _finished;
    long _position;

    public SyntheticDumpStream(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Dialect == SqlDialect.MySql && options.Format == SyntheticFormat.Copy)
        {
            throw new ArgumentException(
                "a synthetic MySQL dump is written as mysqldump's extended INSERTs only: use SyntheticFormat.Inserts (MySQL has no COPY)",
                nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(options.Size);
        _generator = new SyntheticGenerator(options);
    }

    /// <summary>Rows per table that this dump holds.</summary>
    public SyntheticCounts Counts => _generator.Counts;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        if (_blockStart == _blockEnd)
        {
            if (_finished)
            {
                return 0;
            }
            if (buffer.Length >= DirectMinBytes)
            {
                var written = _generator.Fill(buffer);
                _finished = written == 0;
                _position += written;
                return written;
            }
            _blockStart = 0;
            _blockEnd = _generator.Fill(_block);
            if (_blockEnd == 0)
            {
                _finished = true;
                return 0;
            }
        }
        var count = Math.Min(buffer.Length, _blockEnd - _blockStart);
        _block.AsSpan(_blockStart, count).CopyTo(buffer);
        _blockStart += count;
        _position += count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    // Generation is CPU work with nothing to wait for: the async overloads run it synchronously.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        return new ValueTask<int>(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<int>(cancellationToken);
        }
        return Task.FromResult(Read(buffer.AsSpan(offset, count)));
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The five tables, in the order pg_dump and mysqldump write their data (by name).</summary>
internal enum SyntheticTable
{
    Customers,
    OrderItems,
    Orders,
    Payments,
    Products,
}

internal static class SyntheticTables
{
    public const int Count = 5;

    public static string Name(SyntheticTable table) => table switch
    {
        SyntheticTable.Customers => "customers",
        SyntheticTable.OrderItems => "order_items",
        SyntheticTable.Orders => "orders",
        SyntheticTable.Payments => "payments",
        _ => "products",
    };

    public static long Rows(SyntheticCounts counts, SyntheticTable table) => table switch
    {
        SyntheticTable.Customers => counts.Customers,
        SyntheticTable.OrderItems => counts.OrderItems,
        SyntheticTable.Orders => counts.Orders,
        SyntheticTable.Payments => counts.Payments,
        _ => counts.Products,
    };
}

/// <summary>One piece of the dump: fixed text (header, DDL, a COPY line, the footer) or the rows of one table.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct SyntheticSegment(byte[]? Text, SyntheticTable Table, long Rows);
