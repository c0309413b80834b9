using System.Buffers;
using System.Buffers.Text;

namespace Replica.Transformers;

/// <summary>
/// hash: HMAC-SHA256 of the value keyed by the run's secret, so the same value hashes alike in every table (joins on
/// hashed columns keep working) and nobody without the secret can test guesses. The key's padded blocks are hashed
/// once per instance (<see cref="HmacSha256"/>).
/// </summary>
internal sealed class HashTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("hash",
            "Replaces the value with its HMAC-SHA256 keyed by the secret (same value, same hash, in every table). " +
            "Writes \\x-hex on bytea columns.",
            [
                new TransformerOption("encoding", "hex or base64.", "hex"),
                new TransformerOption("length", "Keep only this many output characters.", "all (64 hex, 44 base64)"),
            ],
            "transformer: hash\noptions:\n  encoding: hex\n  length: 32"),
        Build);

    const int HexLength = 64;
    const int Base64Length = 44;

    // 80 bits, as for unique suffixes: 20 hex or 14 base64 characters.
    const int MinUniqueHexLength = 20;
    const int MinUniqueBase64Length = 14;

    readonly HmacSha256 _hmac;
    readonly bool _base64;
    readonly int _length;
    readonly bool _bytea;

    HashTransformer(ReadOnlySpan<byte> secret, bool base64, int length, bool bytea)
    {
        _hmac = new HmacSha256(secret);
        _base64 = base64;
        _length = length;
        _bytea = bytea;
    }

    static HashTransformer? Build(TransformerSetup setup)
    {
        bool base64 = setup.GetChoice("encoding", "hex", "hex", "base64") == "base64";
        int fullLength = base64 ? Base64Length : HexLength;
        int length = setup.GetInt("length", fullLength, 1, fullLength);
        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        setup.RequireCategory("text", TypeCategory.Bytea);
        bool bytea = column.Category == TypeCategory.Bytea;
        if (bytea && base64)
        {
            throw setup.ColumnError("cannot write base64 into a bytea column; use encoding: hex");
        }

        if (column.MaxLength is int max && max < length)
        {
            length = max;
        }

        if (setup.IsUnique(byDefault: false) && length < (base64 ? MinUniqueBase64Length : MinUniqueHexLength))
        {
            throw setup.ColumnError(
                $"keeps only {length} characters ({length * (base64 ? 6 : 4)} bits), too few to keep a unique column " +
                $"unique; it needs at least {(base64 ? MinUniqueBase64Length : MinUniqueHexLength)} (80 bits)");
        }

        return new HashTransformer(setup.Env.Secret.Span, base64, length, bytea);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        Span<byte> mac = stackalloc byte[HmacSha256.Length];
        _hmac.Compute(value, mac);

        Span<byte> text = stackalloc byte[HexLength];
        if (_base64)
        {
            Base64.EncodeToUtf8(mac, text, out _, out _);
        }
        else
        {
            WriteHex(mac, text);
        }

        if (_bytea)
        {
            // bytea's hex input format: \x followed by an even number of hex digits.
            int evenLength = _length & ~1;
            var span = output.GetSpan(evenLength + 2);
            span[0] = (byte)'\\';
            span[1] = (byte)'x';
            text[..evenLength].CopyTo(span[2..]);
            output.Advance(evenLength + 2);
            return TransformResult.Value;
        }

        output.Write(text[.._length]);
        return TransformResult.Value;
    }

    /// <summary>Lower-case hex of <paramref name="bytes"/> into <paramref name="destination"/> (twice as long).</summary>
    internal static void WriteHex(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        var digits = "0123456789abcdef"u8;
        for (int i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = digits[bytes[i] >> 4];
            destination[2 * i + 1] = digits[bytes[i] & 15];
        }
    }

    public override void Dispose()
    {
        _hmac.Dispose();
        base.Dispose();
    }
}
