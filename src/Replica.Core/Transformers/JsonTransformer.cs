using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Replica.Transformers;

/// <summary>
/// json: applies another transformer to the value at a path inside a json/jsonb document. The document is scanned
/// with Utf8JsonReader and only the matched tokens are rewritten; every other byte (spacing, key order, number
/// spelling) is copied, and a document without the path is kept unchanged.
/// </summary>
internal sealed class JsonTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("json",
            "Applies a transformer to the string (or number) at a path inside a json/jsonb value; leaves documents " +
            "without that path unchanged. A path that no document of the dump has fails it, as a rule that matches nothing does (unmatched_rules).",
            [
                new TransformerOption("path", "Where: $.contact.email, contact.email, items[0].email, items[*].email.", null),
                new TransformerOption("transformer", "The transformer to apply there: a name, or {transformer: name, options: {...}}.", null),
                new TransformerOption("paths", "Instead of path and transformer, several places of one document: a map of path to transformer, "
                    + "e.g. {$.contact.email: email, $.contact.phone: phone-number}, applied in order.", null),
            ],
            "transformer: json\noptions:\n  path: $.contact.email\n  transformer: email"),
        Build);

    abstract record Segment;

    sealed record NameSegment(string Name, byte[] Utf8) : Segment;

    sealed record IndexSegment(int Index) : Segment;

    sealed record WildcardSegment : Segment;

    /// <summary>A matched token: where it is in the document and where its unescaped text is in the scratch buffer.</summary>
    readonly record struct Match(int Start, int End, JsonTokenType Type, int TextOffset, int TextLength);

    readonly Segment[] _path;
    readonly TransformerPlace _place;
    readonly Transformer _inner;
    readonly List<Match> _matches = [];
    readonly ByteBuilder _texts = new();
    readonly ArrayBufferWriter<byte> _innerOutput = new(256);

    JsonTransformer(string pathText, Segment[] path, Transformer inner)
    {
        _path = path;
        _place = new TransformerPlace(pathText.Trim());
        Places = [_place];
        _inner = inner;
    }

    public override IReadOnlyList<string> ReferencedColumns => _inner.ReferencedColumns;

    /// <summary>The path: a path found in no document of a dump is a rule that matched nothing (a typo, $.contact.emial).</summary>
    public override IReadOnlyList<TransformerPlace> Places { get; }

    /// <summary>Unchanged: the path is not in the document, so no value was transformed.</summary>
    public override bool UnchangedMeansNotFound => true;

    public override bool CanRunInParallel => _inner.CanRunInParallel;

    static Transformer? Build(TransformerSetup setup)
    {
        var places = new List<(string Text, Segment[] Path, TransformerSpec Inner)>();
        if (setup.Has("paths"))
        {
            if (setup.Has("path") || setup.Has("transformer"))
            {
                throw setup.OptionError("paths", "replaces path and transformer: give paths alone, or path with transformer");
            }
            var map = ToOptions(setup.GetRaw("paths"), setup, "paths", "is not a map of path to transformer, e.g. {$.contact.email: email, $.contact.phone: phone-number}");
            if (map.Count == 0)
            {
                throw setup.OptionError("paths", "is empty: give at least one path with its transformer, e.g. {$.contact.email: email}");
            }
            foreach (var (pathText, raw) in map)
            {
                places.Add((pathText, ParsePath(pathText, setup), ParseInnerSpec(raw, "paths", setup)));
            }
        }
        else
        {
            var pathText = setup.GetRequiredString("path", "where in the document, e.g. $.contact.email (or paths: several places)");
            places.Add((pathText, ParsePath(pathText, setup), ParseInnerSpec(setup.GetRaw("transformer"), "transformer", setup)));
        }
        if (setup.ValidateOnly)
        {
            foreach (var (_, _, innerSpec) in places)
            {
                TransformerRegistry.Validate(innerSpec, setup.Env);
            }
            return null;
        }

        var column = setup.ColumnOrThrow;
        setup.RequireCategory("JSON", TypeCategory.Json);
        // Inside the document the value is a JSON string: text without a length limit.
        var innerColumn = column with { Category = TypeCategory.Text, TypeName = null, MaxLength = null };
        var transformers = places.Select(p => new JsonTransformer(p.Text, p.Path, TransformerRegistry.Create(p.Inner, innerColumn, setup.Env))).ToArray();
        return transformers.Length == 1 ? transformers[0] : new JsonPathsTransformer(transformers);
    }

    static TransformerSpec ParseInnerSpec(object? raw, string option, TransformerSetup setup)
    {
        string? name;
        IReadOnlyDictionary<string, object?> options = new Dictionary<string, object?>();
        switch (raw)
        {
            case string s:
                name = s;
                break;
            case IReadOnlyDictionary<string, object?> map:
                name = Get(map, "transformer") as string ?? Get(map, "name") as string;
                options = ToOptions(Get(map, "options"), setup, option);
                break;
            case IDictionary dictionary:
                var converted = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                foreach (DictionaryEntry entry in dictionary)
                {
                    converted[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = entry.Value;
                }

                name = Get(converted, "transformer") as string ?? Get(converted, "name") as string;
                options = ToOptions(Get(converted, "options"), setup, option);
                break;
            default:
                name = null;
                break;
        }

        if (string.IsNullOrWhiteSpace(name))
        {
            throw setup.OptionError(option, "is required: a transformer name, or a map {transformer: name, options: {...}}");
        }

        if (!TransformerRegistry.IsKnown(name))
        {
            throw setup.OptionError(option, $"names the unknown transformer {setup.Shown(option, name)}; known: {string.Join(", ", TransformerRegistry.All.Select(d => d.Name))}");
        }

        // The inner transformer's options sit inside this option: one of them from a variable hides them all.
        return new TransformerSpec(name, options)
        {
            Location = setup.Spec.Location,
            Unique = setup.Spec.Unique,
            OptionsFromEnvironment = setup.Spec.OptionsFromEnvironment.Contains(option) ? new HashSet<string>(options.Keys, StringComparer.OrdinalIgnoreCase) : new HashSet<string>(),
        };
    }

    static object? Get(IReadOnlyDictionary<string, object?> map, string key)
    {
        foreach (var pair in map)
        {
            if (string.Equals(pair.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return pair.Value;
            }
        }

        return null;
    }

    static IReadOnlyDictionary<string, object?> ToOptions(object? raw, TransformerSetup setup, string option, string notAMap = "has 'options' that are not a map")
    {
        switch (raw)
        {
            case null:
                return new Dictionary<string, object?>();
            case IReadOnlyDictionary<string, object?> map:
                return map;
            case IDictionary dictionary:
                var options = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                foreach (DictionaryEntry entry in dictionary)
                {
                    options[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = entry.Value;
                }

                return options;
            default:
                throw setup.OptionError(option, notAMap);
        }
    }

    static Segment[] ParsePath(string text, TransformerSetup setup)
    {
        var segments = new List<Segment>();
        int i = 0;
        var path = text.Trim();
        if (path.StartsWith('$'))
        {
            i = 1;
        }

        Exception Bad(string why) => setup.OptionError("path", $"'{text}' {why}; write it like $.contact.email or items[0].email");

        bool expectName = i == 0;
        while (i < path.Length)
        {
            char c = path[i];
            if (c == '.')
            {
                if (expectName && i > 0)
                {
                    throw Bad($"has an empty name at character {i + 1}");
                }

                expectName = true;
                i++;
                continue;
            }

            if (c == '[')
            {
                int close = path.IndexOf(']', i);
                if (close < 0)
                {
                    throw Bad($"has '[' without ']' at character {i + 1}");
                }

                var inside = path.Substring(i + 1, close - i - 1).Trim();
                if (inside == "*")
                {
                    segments.Add(new WildcardSegment());
                }
                else if (inside.Length >= 2 && (inside[0] == '\'' || inside[0] == '"') && inside[^1] == inside[0])
                {
                    var name = inside[1..^1];
                    segments.Add(new NameSegment(name, Encoding.UTF8.GetBytes(name)));
                }
                else if (int.TryParse(inside, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                {
                    segments.Add(new IndexSegment(index));
                }
                else
                {
                    throw Bad($"has '[{inside}]', which is neither an index, * nor a quoted name");
                }

                expectName = false;
                i = close + 1;
                continue;
            }

            if (!expectName)
            {
                throw Bad($"needs '.' or '[' before character {i + 1}");
            }

            int end = path.IndexOfAny(['.', '['], i);
            if (end < 0)
            {
                end = path.Length;
            }

            var segmentName = path[i..end];
            segments.Add(segmentName == "*" ? new WildcardSegment() : new NameSegment(segmentName, Encoding.UTF8.GetBytes(segmentName)));
            expectName = false;
            i = end;
        }

        if (expectName && path.Length > 0 && path[^1] == '.')
        {
            throw Bad("ends with '.'");
        }

        return [.. segments];
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        _matches.Clear();
        _texts.Clear();
        try
        {
            var reader = new Utf8JsonReader(value, new JsonReaderOptions { MaxDepth = 1024 });
            if (!reader.Read())
            {
                throw new JsonException("The value is empty.");
            }

            Walk(ref reader, 0);
            if (reader.Read())
            {
                throw new JsonException("More than one JSON value.");
            }
        }
        catch (JsonException e)
        {
            // The reader's own message quotes a character of the value, so it is not passed on.
            throw new TransformerException(
                $"the json transformer got a value that is not valid JSON (near byte {e.BytePositionInLine ?? 0} of line {(e.LineNumber ?? 0) + 1} of the value)");
        }

        _place.Searched++;
        if (_matches.Count == 0)
        {
            return TransformResult.Unchanged;
        }
        _place.Found++;

        int copied = 0;
        foreach (var match in _matches)
        {
            output.Write(value[copied..match.Start]);
            WriteReplacement(value, match, row, output);
            copied = match.End;
        }

        output.Write(value[copied..]);
        return TransformResult.Value;
    }

    void Walk(ref Utf8JsonReader reader, int depth)
    {
        if (depth == _path.Length)
        {
            Record(ref reader);
            return;
        }

        var segment = _path[depth];
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                bool matches = segment is WildcardSegment
                               || (segment is NameSegment name && NameEquals(ref reader, name.Utf8));
                reader.Read();
                if (matches)
                {
                    Walk(ref reader, depth + 1);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            int index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (segment is WildcardSegment || (segment is IndexSegment wanted && wanted.Index == index))
                {
                    Walk(ref reader, depth + 1);
                }
                else
                {
                    reader.Skip();
                }

                index++;
            }
        }
    }

    /// <summary>
    /// Whether the property name at the reader is the path's name. Utf8JsonReader reads names without checking their
    /// UTF-8 or \u escapes; unescaping a lone surrogate (\ud800, which a json column keeps) throws, and such a name is
    /// none of the path's, which are valid UTF-8.
    /// </summary>
    static bool NameEquals(ref Utf8JsonReader reader, byte[] name)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.SequenceEqual(name);
        }

        try
        {
            return reader.ValueTextEquals(name);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    void Record(ref Utf8JsonReader reader)
    {
        int start = (int)reader.TokenStartIndex;
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                int offset = _texts.Length;
                var destination = _texts.GetSpan(reader.ValueSpan.Length);
                int length = CopyText(ref reader, destination, start);
                _texts.Advance(length);
                _matches.Add(new Match(start, start + reader.ValueSpan.Length + 2, JsonTokenType.String, offset, length));
                break;
            case JsonTokenType.Number:
                int numberOffset = _texts.Length;
                _texts.Append(reader.ValueSpan);
                _matches.Add(new Match(start, start + reader.ValueSpan.Length, JsonTokenType.Number, numberOffset, reader.ValueSpan.Length));
                break;
            case JsonTokenType.Null:
                _matches.Add(new Match(start, start + 4, JsonTokenType.Null, 0, 0));
                break;
            default:
                reader.Skip(); // objects, arrays and booleans at the path are left alone
                break;
        }
    }

    /// <summary>
    /// The unescaped text of the string at the path, for the inner transformer. Invalid UTF-8 or a lone surrogate escape
    /// is no text it could read: a transformer failure that says where in the value, never an unhandled exception.
    /// </summary>
    static int CopyText(ref Utf8JsonReader reader, Span<byte> destination, int start)
    {
        try
        {
            return reader.CopyString(destination);
        }
        catch (InvalidOperationException)
        {
            TransformerThrow.InvalidJsonText(start);
            return 0;
        }
    }

    void WriteReplacement(ReadOnlySpan<byte> document, Match match, IRowContext row, IBufferWriter<byte> output)
    {
        var text = _texts.WrittenSpan.Slice(match.TextOffset, match.TextLength);
        _innerOutput.ResetWrittenCount();
        var result = _inner.Transform(text, match.Type == JsonTokenType.Null, row, _innerOutput);
        switch (result)
        {
            case TransformResult.Unchanged:
                output.Write(document[match.Start..match.End]);
                break;
            case TransformResult.Null:
                output.Write("null"u8);
                break;
            default:
                var written = _innerOutput.WrittenSpan;
                if (match.Type == JsonTokenType.Number && IsJsonNumber(written))
                {
                    output.Write(written);
                }
                else
                {
                    WriteJsonString(written, output);
                }

                break;
        }
    }

    /// <summary>Writes a JSON string literal; bytes other than quote, backslash and controls are copied as they are.</summary>
    static void WriteJsonString(ReadOnlySpan<byte> text, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(text.Length * 6 + 2);
        int offset = 0;
        span[offset++] = (byte)'"';
        foreach (byte b in text)
        {
            switch (b)
            {
                case (byte)'"':
                case (byte)'\\':
                    span[offset++] = (byte)'\\';
                    span[offset++] = b;
                    break;
                case (byte)'\n':
                    span[offset++] = (byte)'\\';
                    span[offset++] = (byte)'n';
                    break;
                case (byte)'\r':
                    span[offset++] = (byte)'\\';
                    span[offset++] = (byte)'r';
                    break;
                case (byte)'\t':
                    span[offset++] = (byte)'\\';
                    span[offset++] = (byte)'t';
                    break;
                case < 0x20:
                    "\\u00"u8.CopyTo(span[offset..]);
                    offset += 4;
                    span[offset++] = (byte)"0123456789abcdef"[b >> 4];
                    span[offset++] = (byte)"0123456789abcdef"[b & 15];
                    break;
                default:
                    span[offset++] = b;
                    break;
            }
        }

        span[offset++] = (byte)'"';
        output.Advance(offset);
    }

    /// <summary>RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</summary>
    static bool IsJsonNumber(ReadOnlySpan<byte> text)
    {
        int i = 0;
        if (i < text.Length && text[i] == '-')
        {
            i++;
        }

        if (i >= text.Length || !Utf8Text.IsAsciiDigit(text[i]))
        {
            return false;
        }

        if (text[i] == '0')
        {
            i++;
        }
        else
        {
            while (i < text.Length && Utf8Text.IsAsciiDigit(text[i]))
            {
                i++;
            }
        }

        if (i < text.Length && text[i] == '.')
        {
            i++;
            int digits = i;
            while (i < text.Length && Utf8Text.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == digits)
            {
                return false;
            }
        }

        if (i < text.Length && text[i] is (byte)'e' or (byte)'E')
        {
            i++;
            if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            int digits = i;
            while (i < text.Length && Utf8Text.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == digits)
            {
                return false;
            }
        }

        return i == text.Length;
    }

    public override void Complete() => _inner.Complete();

    public override void Dispose()
    {
        _inner.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// json with paths: several places of one document, each with its own transformer (<see cref="JsonTransformer"/>s
/// applied in order, each to the previous one's document). A document none of them changes is kept as it was.
/// </summary>
internal sealed class JsonPathsTransformer(JsonTransformer[] places) : Transformer
{
    readonly ArrayBufferWriter<byte> _first = new(256);
    readonly ArrayBufferWriter<byte> _second = new(256);

    public override IReadOnlyList<string> ReferencedColumns => [.. places.SelectMany(p => p.ReferencedColumns).Distinct(StringComparer.Ordinal)];

    public override bool CanRunInParallel => places.All(p => p.CanRunInParallel);

    public override IReadOnlyList<TransformerPlace> Places { get; } = [.. places.SelectMany(p => p.Places)];

    /// <summary>Unchanged: none of the paths is in the document.</summary>
    public override bool UnchangedMeansNotFound => true;

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }
        ArrayBufferWriter<byte>? current = null;
        foreach (JsonTransformer place in places)
        {
            ArrayBufferWriter<byte> next = current == _first ? _second : _first;
            next.ResetWrittenCount();
            ReadOnlySpan<byte> input = current is null ? value : current.WrittenSpan;
            if (place.Transform(input, isNull: false, row, next) == TransformResult.Value)
            {
                current = next;
            }
        }
        if (current is null)
        {
            return TransformResult.Unchanged;
        }
        output.Write(current.WrittenSpan);
        return TransformResult.Value;
    }

    public override void Complete()
    {
        foreach (JsonTransformer place in places)
        {
            place.Complete();
        }
    }

    public override void Dispose()
    {
        foreach (JsonTransformer place in places)
        {
            place.Dispose();
        }
        base.Dispose();
    }
}
