using System.Buffers;

namespace Replica.Transformers;

/// <summary>
/// uuid: a version-4-shaped UUID made of 122 bits of the value's 128-bit keyed SipHash, so the same value maps to the
/// same UUID everywhere (foreign keys keep matching) and distinct values collide with probability below n^2 / 2^123.
/// </summary>
internal sealed class UuidTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("uuid",
            "A UUID derived from the value (same value, same UUID, in every table; unique for distinct values).", [],
            "transformer: uuid"),
        Build);

    const int UuidLength = 36;

    readonly SipKey _key;

    UuidTransformer(SipKey key) => _key = key;

    static UuidTransformer? Build(TransformerSetup setup)
    {
        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        setup.RequireCategory("a UUID", TypeCategory.Uuid);
        if (column.MaxLength is int max && max < UuidLength)
        {
            throw setup.ColumnError($"writes {UuidLength}-character UUIDs but the column holds {max} characters");
        }

        return new UuidTransformer(setup.Keys.Unique);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        Span<byte> bytes = stackalloc byte[16];
        SipHash.Hash128(_key, value, bytes);
        bytes[6] = (byte)(0x40 | (bytes[6] & 0x0f)); // version 4
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3f)); // RFC 4122 variant

        Span<byte> hex = stackalloc byte[32];
        HashTransformer.WriteHex(bytes, hex);
        var span = output.GetSpan(UuidLength);
        hex[..8].CopyTo(span);
        span[8] = (byte)'-';
        hex[8..12].CopyTo(span[9..]);
        span[13] = (byte)'-';
        hex[12..16].CopyTo(span[14..]);
        span[18] = (byte)'-';
        hex[16..20].CopyTo(span[19..]);
        span[23] = (byte)'-';
        hex[20..32].CopyTo(span[24..]);
        output.Advance(UuidLength);
        return TransformResult.Value;
    }
}
