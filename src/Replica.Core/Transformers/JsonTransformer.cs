using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Replica.Transformers;

/// <summary>
/// json: applies other transformers to the values at paths inside a json/jsonb document. The document is scanned once
/// with Utf8JsonReader, whatever the number of paths (up to 64 at a time), and only the matched tokens are rewritten;
/// every other byte (spacing, key order, number spelling) is copied, and a document without the paths is kept unchanged.
/// </summary>
internal sealed class JsonTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("json",
            "Applies a transformer to the string (or number) at a path inside a json/jsonb value; leaves documents " +
            "without that path unchanged; an object or array at the path fails the dump (its strings would stay in clear). A path that no document of the dump has fails it, as a rule that matches nothing does (unmatched_rules).",
            [
                new TransformerOption("path", "Where: $.contact.email, contact.email, items[0].email, items[*].email.", null),
                new TransformerOption("transformer", "The transformer to apply there: a name, or {transformer: name, options: {...}}.", null),
                new TransformerOption("paths", "Instead of path and transformer, several places of one document: a map of path to transformer, "
                    + "e.g. {$.contact.email: email, $.contact.phone: phone-number}, applied in order.", null),
            ],
            "transformer: json\noptions:\n  path: $.contact.email\n  transformer: email"),
        Build);

    /// <summary>Paths one scan follows at once: the set of paths still alive at a depth is one <see cref="ulong"/>.</summary>
    internal const int PathsPerScan = 64;

    abstract record Segment;

    sealed record NameSegment(string Name, byte[] Utf8) : Segment;

    sealed record IndexSegment(int Index) : Segment;

    sealed record WildcardSegment : Segment;

    /// <summary>
    /// One place of the document: its path, its counters, the transformer applied there, and where that transformer's
    /// referenced columns are in <see cref="ReferencedColumns"/> (the row serves them by that index).
    /// </summary>
    sealed record PathRule(Segment[] Path, TransformerPlace Place, Transformer Inner, int[] References);

    /// <summary>
    /// A matched token: where it is in the document, where its unescaped text is in the scratch buffer, and the paths
    /// that reached it (bit i: rule i).
    /// </summary>
    readonly record struct Match(int Start, int End, JsonTokenType Type, int TextOffset, int TextLength, ulong Rules);

    readonly PathRule[] _rules;
    readonly string[] _references;
    readonly ReferenceMap _row = new();
    readonly List<Match> _matches = [];
    readonly ByteBuilder _texts = new();
    readonly ArrayBufferWriter<byte> _first = new(256);
    readonly ArrayBufferWriter<byte> _second = new(256);

    JsonTransformer(PathRule[] rules, string[] references)
    {
        _rules = rules;
        _references = references;
        Places = [.. rules.Select(r => r.Place)];
    }

    /// <summary>The columns every path's transformer reads, each once (shared by the scans of one column).</summary>
    public override IReadOnlyList<string> ReferencedColumns => _references;

    /// <summary>The paths: a path found in no document of a dump is a rule that matched nothing (a typo, $.contact.emial).</summary>
    public override IReadOnlyList<TransformerPlace> Places { get; }

    /// <summary>Unchanged: no path is in the document, so no value was transformed.</summary>
    public override bool UnchangedMeansNotFound => true;

    public override bool CanRunInParallel => _rules.All(r => r.Inner.CanRunInParallel);

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
        var inners = new List<Transformer>();
        try
        {
            foreach (var (_, _, innerSpec) in places)
            {
                inners.Add(TransformerRegistry.Create(innerSpec, innerColumn, setup.Env));
            }
        }
        catch
        {
            inners.ForEach(i => i.Dispose());
            throw;
        }

        string[] references = [.. inners.SelectMany(i => i.ReferencedColumns).Distinct(StringComparer.Ordinal)];
        var rules = places.Select((p, i) => new PathRule(p.Path, new TransformerPlace(p.Text.Trim()), inners[i],
            [.. inners[i].ReferencedColumns.Select(name => Array.IndexOf(references, name))])).ToArray();
        // More paths than one scan follows: scans of 64 paths each, one after another, each on the last one's document.
        return rules.Length <= PathsPerScan
            ? new JsonTransformer(rules, references)
            : new JsonPathsTransformer([.. rules.Chunk(PathsPerScan).Select(r => new JsonTransformer(r, references))]);
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

            Walk(ref reader, 0, ulong.MaxValue >> (PathsPerScan - _rules.Length));
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

        ulong found = 0;
        foreach (var match in _matches)
        {
            found |= match.Rules;
        }

        for (int i = 0; i < _rules.Length; i++)
        {
            _rules[i].Place.Searched++;
            if ((found & (1UL << i)) != 0)
            {
                _rules[i].Place.Found++;
            }
        }

        if (found == 0)
        {
            return TransformResult.Unchanged;
        }

        _row.Row = row;
        int copied = 0;
        foreach (var match in _matches)
        {
            output.Write(value[copied..match.Start]);
            WriteReplacement(value, match, output);
            copied = match.End;
        }

        output.Write(value[copied..]);
        return TransformResult.Value;
    }

    /// <summary>
    /// Follows the <paramref name="alive"/> paths (bit i: rule i) into the value at the reader, which has read its first
    /// token, recording the scalars where paths end; the reader is left on the value's last token.
    /// </summary>
    void Walk(ref Utf8JsonReader reader, int depth, ulong alive)
    {
        ulong ending = 0;
        for (ulong bits = alive; bits != 0; bits &= bits - 1)
        {
            int i = BitOperations.TrailingZeroCount(bits);
            if (_rules[i].Path.Length == depth)
            {
                ending |= 1UL << i;
            }
        }

        if (ending != 0)
        {
            Record(ref reader, ending);
        }

        ulong going = alive & ~ending;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            if (going == 0)
            {
                reader.Skip();
                return;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                ulong next = 0;
                for (ulong bits = going; bits != 0; bits &= bits - 1)
                {
                    int i = BitOperations.TrailingZeroCount(bits);
                    var segment = _rules[i].Path[depth];
                    if (segment is WildcardSegment || (segment is NameSegment name && NameEquals(ref reader, name.Utf8)))
                    {
                        next |= 1UL << i;
                    }
                }

                reader.Read();
                Descend(ref reader, depth, next);
            }
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            if (going == 0)
            {
                reader.Skip();
                return;
            }

            int index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                ulong next = 0;
                for (ulong bits = going; bits != 0; bits &= bits - 1)
                {
                    int i = BitOperations.TrailingZeroCount(bits);
                    var segment = _rules[i].Path[depth];
                    if (segment is WildcardSegment || (segment is IndexSegment wanted && wanted.Index == index))
                    {
                        next |= 1UL << i;
                    }
                }

                Descend(ref reader, depth, next);
                index++;
            }
        }
    }

    /// <summary>Into a member or item with the paths that go on there, or past it when none does.</summary>
    void Descend(ref Utf8JsonReader reader, int depth, ulong next)
    {
        if (next != 0)
        {
            Walk(ref reader, depth + 1, next);
        }
        else
        {
            reader.Skip();
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

    /// <summary>
    /// Records the string, number or null at the reader for the paths that end there; a boolean at a path is left
    /// alone. An object or array there fails the value: the strings inside it would otherwise stay in clear, though
    /// the config names them to be masked.
    /// </summary>
    void Record(ref Utf8JsonReader reader, ulong rules)
    {
        int start = (int)reader.TokenStartIndex;
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                TransformerThrow.JsonPathReachesContainer(_rules[BitOperations.TrailingZeroCount(rules)].Place.Path,
                    reader.TokenType == JsonTokenType.StartObject, start);
                break;
            case JsonTokenType.String:
                int offset = _texts.Length;
                var destination = _texts.GetSpan(reader.ValueSpan.Length);
                int length = CopyText(ref reader, destination, start);
                _texts.Advance(length);
                _matches.Add(new Match(start, start + reader.ValueSpan.Length + 2, JsonTokenType.String, offset, length, rules));
                break;
            case JsonTokenType.Number:
                int numberOffset = _texts.Length;
                _texts.Append(reader.ValueSpan);
                _matches.Add(new Match(start, start + reader.ValueSpan.Length, JsonTokenType.Number, numberOffset, reader.ValueSpan.Length, rules));
                break;
            case JsonTokenType.Null:
                _matches.Add(new Match(start, start + 4, JsonTokenType.Null, 0, 0, rules));
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

    /// <summary>
    /// Applies the transformers of the paths that reached the token, in the config's order, each to what the one
    /// before left there (as if each path were applied to the document the one before wrote): a number stays a number
    /// while what is written still reads as one, a null reaches the next one as NULL.
    /// </summary>
    void WriteReplacement(ReadOnlySpan<byte> document, Match match, IBufferWriter<byte> output)
    {
        ReadOnlySpan<byte> text = _texts.WrittenSpan.Slice(match.TextOffset, match.TextLength);
        var type = match.Type;
        bool changed = false;
        ArrayBufferWriter<byte>? holding = null; // which scratch buffer holds text, if one does
        for (ulong bits = match.Rules; bits != 0; bits &= bits - 1)
        {
            var rule = _rules[BitOperations.TrailingZeroCount(bits)];
            var next = holding == _first ? _second : _first;
            next.ResetWrittenCount();
            _row.Map = rule.References;
            switch (rule.Inner.Transform(text, type == JsonTokenType.Null, _row, next))
            {
                case TransformResult.Unchanged:
                    break;
                case TransformResult.Null:
                    type = JsonTokenType.Null;
                    text = default;
                    changed = true;
                    break;
                default:
                    text = next.WrittenSpan;
                    holding = next;
                    type = type == JsonTokenType.Number && IsJsonNumber(text) ? JsonTokenType.Number : JsonTokenType.String;
                    changed = true;
                    break;
            }
        }

        if (!changed)
        {
            output.Write(document[match.Start..match.End]);
        }
        else if (type == JsonTokenType.Null)
        {
            output.Write("null"u8);
        }
        else if (type == JsonTokenType.Number)
        {
            output.Write(text);
        }
        else
        {
            WriteJsonString(text, output);
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

    public override void Complete()
    {
        foreach (var rule in _rules)
        {
            rule.Inner.Complete();
        }
    }

    public override void Dispose()
    {
        foreach (var rule in _rules)
        {
            rule.Inner.Dispose();
        }

        base.Dispose();
    }

    /// <summary>The row as a path's transformer sees it: its referenced column i is this transformer's column Map[i].</summary>
    sealed class ReferenceMap : IRowContext
    {
        public IRowContext Row { get; set; } = EmptyRowContext.Instance;

        public int[] Map { get; set; } = [];

        public ReadOnlySpan<byte> GetReferenced(int referenceIndex, out bool isNull) => Row.GetReferenced(Map[referenceIndex], out isNull);
    }
}

/// <summary>
/// json with more paths than one scan follows: scans of <see cref="JsonTransformer.PathsPerScan"/> paths each, applied
/// in order, each to the previous one's document. A document none of them changes is kept as it was.
/// </summary>
internal sealed class JsonPathsTransformer(JsonTransformer[] scans) : Transformer
{
    readonly ArrayBufferWriter<byte> _first = new(256);
    readonly ArrayBufferWriter<byte> _second = new(256);

    /// <summary>Every scan's list: the same one (each maps its paths' columns into it).</summary>
    public override IReadOnlyList<string> ReferencedColumns => scans[0].ReferencedColumns;

    public override bool CanRunInParallel => scans.All(p => p.CanRunInParallel);

    public override IReadOnlyList<TransformerPlace> Places { get; } = [.. scans.SelectMany(p => p.Places)];

    /// <summary>Unchanged: none of the paths is in the document.</summary>
    public override bool UnchangedMeansNotFound => true;

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }
        ArrayBufferWriter<byte>? current = null;
        foreach (JsonTransformer scan in scans)
        {
            ArrayBufferWriter<byte> next = current == _first ? _second : _first;
            next.ResetWrittenCount();
            ReadOnlySpan<byte> input = current is null ? value : current.WrittenSpan;
            if (scan.Transform(input, isNull: false, row, next) == TransformResult.Value)
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
        foreach (JsonTransformer scan in scans)
        {
            scan.Complete();
        }
    }

    public override void Dispose()
    {
        foreach (JsonTransformer scan in scans)
        {
            scan.Dispose();
        }
        base.Dispose();
    }
}
