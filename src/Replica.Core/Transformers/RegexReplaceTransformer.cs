using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace Replica.Transformers;

/// <summary>
/// regex-replace: .NET Regex.Replace with the configured pattern and replacement ($1, ${name} substitutions), compiled
/// once per column, with a match timeout so a pathological pattern cannot hang a dump.
/// </summary>
internal sealed class RegexReplaceTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("regex-replace",
            "Replaces every match of a .NET regular expression ($1, ${name} refer to groups).",
            [
                new TransformerOption("pattern", ".NET regular expression.", null),
                new TransformerOption("replacement", "Replacement text, with $1 or ${name} substitutions.", "empty"),
            ],
            "transformer: regex-replace\noptions:\n  pattern: '\\d{4}$'\n  replacement: '0000'"),
        Build);

    static readonly TimeSpan s_matchTimeout = TimeSpan.FromSeconds(1);

    readonly Regex _regex;
    readonly string _replacement;
    readonly TextShaper? _shaper;
    readonly ByteBuilder _builder = new();

    RegexReplaceTransformer(Regex regex, string replacement, TextShaper? shaper)
    {
        _regex = regex;
        _replacement = replacement;
        _shaper = shaper;
    }

    static RegexReplaceTransformer? Build(TransformerSetup setup)
    {
        var pattern = setup.GetRequiredString("pattern", "the .NET regular expression to replace");
        var replacement = setup.GetString("replacement") ?? "";
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant | (setup.ValidateOnly ? RegexOptions.None : RegexOptions.Compiled), s_matchTimeout);
        }
        catch (ArgumentException e)
        {
            throw setup.OptionError("pattern", $"is not a valid .NET regular expression: {e.Message}");
        }

        if (setup.ValidateOnly)
        {
            return null;
        }

        // The result could be anything, so any column type is allowed; only text columns can take a unique suffix.
        var column = setup.ColumnOrThrow;
        var shaper = TextShaper.ForFreeFormOutput(setup, "a replaced value can repeat");

        return new RegexReplaceTransformer(regex, replacement, shaper);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        // Regex works on UTF-16 strings; this transformer allocates per value (fine for a configured, targeted rule).
        var input = Encoding.UTF8.GetString(value);
        string result;
        try
        {
            result = _regex.Replace(input, _replacement);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new TransformerException(
                $"regex-replace took longer than {s_matchTimeout.TotalSeconds:0} s on one value; simplify the pattern.");
        }

        if (ReferenceEquals(result, input) && (_shaper is null || _shaper.KeepsUnchanged(value)))
        {
            return TransformResult.Unchanged; // no match: keep the original bytes (even invalid UTF-8)
        }

        _builder.Clear();
        if (ReferenceEquals(result, input))
        {
            _builder.Append(value);
        }
        else
        {
            _builder.Append(result);
        }

        if (_shaper is null)
        {
            _builder.CopyTo(output);
            return TransformResult.Value;
        }

        return _shaper.Write(_builder.WrittenSpan, value, output);
    }
}
