using System.Buffers;

namespace Replica.Transformers;

/// <summary>
/// ip-address: a public-looking IPv4 address, or an IPv6 one when the input is IPv6; a "/n" prefix length is kept, and
/// on cidr columns the host bits are zeroed as cidr requires.
/// </summary>
internal sealed class IpAddressTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("ip-address",
            "A fake IPv4 address (IPv6 when the input is IPv6), keeping a /prefix; valid for inet and cidr columns.", [],
            "transformer: ip-address"),
        Build);

    const int MaxV4Length = 15; // 255.255.255.255

    readonly SipKey _key;
    readonly bool _cidr;
    readonly int _maxLength;

    IpAddressTransformer(SipKey key, bool cidr, int maxLength)
    {
        _key = key;
        _cidr = cidr;
        _maxLength = maxLength;
    }

    static IpAddressTransformer? Build(TransformerSetup setup)
    {
        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        setup.RequireCategory("an IP address", TypeCategory.Inet);
        if (column.MaxLength is int max && max < MaxV4Length)
        {
            throw setup.ColumnError($"writes IPv4 addresses of up to {MaxV4Length} characters but the column holds {max}");
        }

        setup.RejectUnique("an IPv4 address holds 32 bits");
        bool cidr = column.TypeName?.Trim() == "cidr";
        return new IpAddressTransformer(setup.Keys.Pick, cidr, column.MaxLength ?? int.MaxValue);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        int slash = value.IndexOf((byte)'/');
        var prefix = slash < 0 ? default : value[slash..];
        bool v6 = value.IndexOf((byte)':') >= 0;
        int prefixBits = ParsePrefix(prefix, v6 ? 128 : 32);

        var random = new HashStream(SipHash.Hash64(_key, value));
        Span<byte> address = stackalloc byte[16];
        int length = v6 ? 16 : 4;
        ulong bits = random.Next();
        for (int i = 0; i < length; i++)
        {
            if (i % 8 == 0 && i > 0)
            {
                bits = random.Next();
            }

            address[i] = (byte)(bits >> (8 * (i % 8)));
        }

        if (v6)
        {
            address[0] = (byte)(0x20 | (address[0] & 0x1f)); // 2000::/3, global unicast
        }
        else
        {
            address[0] = (byte)(1 + random.NextBelow(223)); // 1..223: no 0/8, multicast or reserved
            if (address[0] == 127)
            {
                address[0] = 128; // not loopback
            }

            if (slash < 0)
            {
                address[3] = (byte)(1 + random.NextBelow(254)); // neither network nor broadcast address
            }
        }

        if (_cidr && prefixBits < length * 8)
        {
            ZeroHostBits(address[..length], prefixBits);
        }

        Span<byte> text = stackalloc byte[64];
        int written = v6 ? FormatV6(address, text) : FormatV4(address, text);
        if (prefix.Length > 0 && prefix.Length <= 4)
        {
            prefix.CopyTo(text[written..]);
            written += prefix.Length;
        }

        if (written > _maxLength)
        {
            throw new TransformerException(
                $"an IPv6 address of {written} characters does not fit the column's limit of {_maxLength}.");
        }

        output.Write(text[..written]);
        return TransformResult.Value;
    }

    static int ParsePrefix(ReadOnlySpan<byte> prefix, int fullBits)
    {
        if (prefix.Length < 2 || !int.TryParse(prefix[1..], out int bits) || bits < 0 || bits > fullBits)
        {
            return fullBits;
        }

        return bits;
    }

    static void ZeroHostBits(Span<byte> address, int prefixBits)
    {
        for (int i = 0; i < address.Length; i++)
        {
            int keep = Math.Clamp(prefixBits - 8 * i, 0, 8);
            address[i] &= (byte)(0xff << (8 - keep));
        }
    }

    static int FormatV4(ReadOnlySpan<byte> address, Span<byte> text)
    {
        int offset = 0;
        for (int i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                text[offset++] = (byte)'.';
            }

            address[i].TryFormat(text[offset..], out int count);
            offset += count;
        }

        return offset;
    }

    // Eight groups without leading zeros and without "::" compression: valid input for inet and every parser.
    static int FormatV6(ReadOnlySpan<byte> address, Span<byte> text)
    {
        int offset = 0;
        for (int i = 0; i < 8; i++)
        {
            if (i > 0)
            {
                text[offset++] = (byte)':';
            }

            int group = (address[2 * i] << 8) | address[2 * i + 1];
            group.TryFormat(text[offset..], out int count, "x");
            offset += count;
        }

        return offset;
    }
}
