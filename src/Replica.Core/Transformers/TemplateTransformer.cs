using System.Buffers;
using System.Text;

namespace Replica.Transformers;

/// <summary>
/// template: builds the value from text and other columns of the same row, e.g.
/// "{{first_name|lower}}.{{last_name|lower}}@example.com". A referenced column is read as the row context serves it
/// (its transformed value when it has a plain transformer), so derived columns stay consistent with masked ones.
/// </summary>
internal sealed class TemplateTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("template",
            "Builds the value from other columns of the row: {{column}}, {{column|lower}}, {{column|upper}}. " +
            "A column with a transformer reads as masked (a template of a template too). A NULL column reads as empty; a NULL value stays NULL.",
            [new TransformerOption("template", "Text with {{column}} placeholders.", null)],
            "transformer: template\noptions:\n  template: '{{first_name|lower}}.{{last_name|lower}}@example.com'"),
        Build);

    enum Filter
    {
        None,
        Lower,
        Upper,
    }

    readonly record struct Part(byte[]? Literal, int ReferenceIndex, Filter Filter);

    readonly Part[] _parts;
    readonly string[] _references;
    readonly TextShaper? _shaper;
    readonly ByteBuilder _builder = new();

    TemplateTransformer(Part[] parts, string[] references, TextShaper? shaper)
    {
        _parts = parts;
        _references = references;
        _shaper = shaper;
    }

    public override IReadOnlyList<string> ReferencedColumns => _references;

    static TemplateTransformer? Build(TransformerSetup setup)
    {
        var template = setup.GetRequiredString("template", "text with {{column}} placeholders");
        var (parts, references) = Parse(template, setup);
        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        var shaper = TextShaper.ForFreeFormOutput(setup, "a template can give two rows the same value");

        return new TemplateTransformer(parts, references, shaper);
    }

    static (Part[] Parts, string[] References) Parse(string template, TransformerSetup setup)
    {
        var parts = new List<Part>();
        var references = new List<string>();
        var literal = new StringBuilder();
        int position = 0;
        while (position < template.Length)
        {
            int open = template.IndexOf("{{", position, StringComparison.Ordinal);
            int strayClose = template.IndexOf("}}", position, StringComparison.Ordinal);
            if (strayClose >= 0 && (open < 0 || strayClose < open))
            {
                throw setup.OptionError("template", $"has '}}}}' without a matching '{{{{' at character {strayClose + 1}");
            }

            if (open < 0)
            {
                literal.Append(template, position, template.Length - position);
                break;
            }

            literal.Append(template, position, open - position);
            int close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw setup.OptionError("template", $"has '{{{{' without a closing '}}}}' at character {open + 1}");
            }

            var inner = template.Substring(open + 2, close - open - 2);
            var pieces = inner.Split('|');
            var name = pieces[0].Trim();
            if (name.Length == 0 || name.Contains('{') || name.Contains('}'))
            {
                throw setup.OptionError("template", $"has a placeholder without a column name at character {open + 1}: '{{{{{inner}}}}}'");
            }

            var filter = Filter.None;
            for (int i = 1; i < pieces.Length; i++)
            {
                filter = pieces[i].Trim() switch
                {
                    "lower" => Filter.Lower,
                    "upper" => Filter.Upper,
                    var other => throw setup.OptionError("template",
                        $"uses the unknown filter '{other}' on '{name}'; filters are lower and upper"),
                };
            }

            if (literal.Length > 0)
            {
                parts.Add(new Part(Encoding.UTF8.GetBytes(literal.ToString()), -1, Filter.None));
                literal.Clear();
            }

            int index = references.IndexOf(name);
            if (index < 0)
            {
                index = references.Count;
                references.Add(name);
            }

            parts.Add(new Part(null, index, filter));
            position = close + 2;
        }

        if (literal.Length > 0)
        {
            parts.Add(new Part(Encoding.UTF8.GetBytes(literal.ToString()), -1, Filter.None));
        }

        return ([.. parts], [.. references]);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        _builder.Clear();
        foreach (var part in _parts)
        {
            if (part.Literal is not null)
            {
                _builder.Append(part.Literal);
                continue;
            }

            var referenced = row.GetReferenced(part.ReferenceIndex, out bool referencedIsNull);
            if (referencedIsNull)
            {
                continue;
            }

            if (part.Filter == Filter.None)
            {
                _builder.Append(referenced);
            }
            else
            {
                Utf8Text.AppendCased(_builder, referenced, upper: part.Filter == Filter.Upper);
            }
        }

        if (_shaper is null)
        {
            _builder.CopyTo(output);
            return TransformResult.Value;
        }

        return _shaper.Write(_builder.WrittenSpan, value, output);
    }
}
