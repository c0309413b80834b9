using System.Buffers;

namespace Replica.Transformers;

/// <summary>
/// The last step of every transformer that writes free text: cut the value to the column's varchar(n)/char(n) limit
/// (in characters) and, for a unique column, append the <see cref="UniqueSuffix"/> after a separator, cutting the
/// value instead of the suffix.
/// </summary>
internal sealed class TextShaper
{
    readonly int _maxChars;
    readonly bool _unique;
    readonly SipKey _uniqueKey;

    TextShaper(int maxChars, bool unique, SipKey uniqueKey)
    {
        _maxChars = maxChars;
        _unique = unique;
        _uniqueKey = uniqueKey;
    }

    public bool Unique => _unique;

    /// <summary>
    /// For transformers whose output can be anything (template, regex-replace, custom): a text column gets a shaper
    /// (length limit, unique suffix when asked); any other type is left alone and must not be asked to stay unique.
    /// </summary>
    public static TextShaper? ForFreeFormOutput(TransformerSetup setup, string whyNotUnique)
    {
        if (TransformerSetup.IsTextLike(setup.ColumnOrThrow.Category))
        {
            return Create(setup, setup.IsUnique(byDefault: false));
        }
        setup.RejectUnique(whyNotUnique);
        return null;
    }

    /// <summary>
    /// Checks the column can hold a unique value (n of varchar(n) at least suffix plus separator) and builds the shaper.
    /// </summary>
    public static TextShaper Create(TransformerSetup setup, bool unique)
    {
        var column = setup.ColumnOrThrow;
        int max = column.MaxLength ?? int.MaxValue;
        if (unique)
        {
            if (!TransformerSetup.IsTextLike(column.Category))
            {
                throw setup.ColumnError("cannot keep a unique column of this type unique; only text columns take the unique suffix");
            }

            if (max < UniqueSuffix.LengthWithSeparator)
            {
                throw setup.ColumnError(
                    $"cannot keep the column unique: a unique value needs {UniqueSuffix.LengthWithSeparator} characters " +
                    $"(a {UniqueSuffix.Length}-character keyed suffix and a separator) but the column holds {max}");
            }

            max -= UniqueSuffix.LengthWithSeparator;
        }

        return new TextShaper(max, unique, setup.Keys.Unique);
    }

    /// <summary>Writes <paramref name="produced"/>, shaped, for the original <paramref name="input"/>.</summary>
    public TransformResult Write(ReadOnlySpan<byte> produced, ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        int length = produced.Length <= _maxChars ? produced.Length : Utf8Text.PrefixLength(produced, _maxChars);
        if (!_unique)
        {
            output.Write(produced[..length]);
            return TransformResult.Value;
        }

        var span = output.GetSpan(length + UniqueSuffix.LengthWithSeparator);
        produced[..length].CopyTo(span);
        span[length] = UniqueSuffix.Separator;
        UniqueSuffix.Write(_uniqueKey, input, span.Slice(length + 1, UniqueSuffix.Length));
        output.Advance(length + UniqueSuffix.LengthWithSeparator);
        return TransformResult.Value;
    }

    /// <summary>True when an unchanged input may be kept as is (nothing to add or cut).</summary>
    public bool KeepsUnchanged(ReadOnlySpan<byte> input) => !_unique && input.Length <= _maxChars;
}
