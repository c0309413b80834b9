using System.Buffers;
using System.Text;
using Replica.Codecs;

namespace Replica.Core.Tests.Codecs;

/// <summary>Chunk contents for codec tests: SQL-like text (compressible, like a dump) and random bytes (incompressible).</summary>
internal static class CodecTestData
{
    public const int MaxSize = 16 << 20;

    static readonly Lazy<byte[]> s_sql = new(() => CreateSql(MaxSize));
    static readonly Lazy<byte[]> s_random = new(() =>
    {
        var bytes = new byte[MaxSize];
        new Random(4242).NextBytes(bytes);
        return bytes;
    });

    /// <summary>Sizes that cover empty, one byte, less than one zstd block, just over the 128 KiB streaming buffer, and big chunks.</summary>
    public static readonly int[] Sizes = [0, 1, 100, (128 << 10) + 1, 1 << 20, MaxSize];

    public static ReadOnlyMemory<byte> Get(string kind, int size) => kind switch
    {
        "sql" => s_sql.Value.AsMemory(0, size),
        "random" => s_random.Value.AsMemory(0, size),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "sql or random"),
    };

    public static byte[] Sql(int size) => s_sql.Value.AsSpan(0, size).ToArray();

    /// <summary>COPY rows like pg_dump writes them; deterministic.</summary>
    static byte[] CreateSql(int size)
    {
        var random = new Random(777);
        string[] names = ["Alice", "Bob", "Carol", "Dave", "Eve", "O'Neil", "Müller"];
        var sb = new StringBuilder(size + 256);
        sb.Append("COPY public.customers (id, name, email, phone, score, created_at, note) FROM stdin;\n");
        for (var id = 1; sb.Length < size; id++)
        {
            var name = names[random.Next(names.Length)];
            sb.Append(id).Append('\t').Append(name).Append('\t').Append(name.ToLowerInvariant()).Append('.').Append(id)
              .Append("@example.com\t+1-555-").Append(random.Next(1000000, 9999999)).Append('\t')
              .Append(random.Next(0, 100000) / 100.0).Append("\t2024-05-01 12:34:56.123456+00\t")
              .Append(random.Next(8) == 0 ? "line\\nbreak" : "\\N").Append('\n');
        }
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        return bytes.AsSpan(0, size).ToArray();
    }

    public static byte[] Encode(IChunkCodec codec, ReadOnlySpan<byte> plain, int chunkIndex = 0, bool isLast = false)
    {
        var output = new ArrayBufferWriter<byte>();
        codec.Encode(plain, chunkIndex, isLast, output);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Decode(IChunkCodec codec, ReadOnlySpan<byte> stored, int chunkIndex = 0, bool isLast = false)
    {
        var output = new ArrayBufferWriter<byte>();
        codec.Decode(stored, chunkIndex, isLast, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Compares without printing 16 MiB on failure.</summary>
    public static void AssertSameBytes(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var mismatch = expected.CommonPrefixLength(actual);
        Assert.True(mismatch == expected.Length, $"the bytes differ first at offset {mismatch}");
    }
}

/// <summary>
/// An output that hands out exactly the size asked for (at least 1 byte), never more, as a pipe writer may: the codecs
/// must then loop instead of getting one span that holds the whole result.
/// </summary>
internal sealed class ExactSpanWriter : IBufferWriter<byte>
{
    readonly ArrayBufferWriter<byte> _inner = new();

    public int SpanCount { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _inner.WrittenSpan;

    public void Advance(int count) => _inner.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        SpanCount++;
        var size = Math.Max(sizeHint, 1);
        return _inner.GetMemory(size)[..size];
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
