using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

/// <summary>How a field is written in the dump, which decides how it is decoded and encoded again.</summary>
internal enum FieldSyntax : byte
{
    CopyText,
    SqlString,
    SqlEString,
    SqlNull,
    /// <summary>A number, boolean or other bare token: the value is its text.</summary>
    SqlBare,
    /// <summary>MySQL '...' or "..." (maybe after an introducer such as _utf8mb4): backslash escapes.</summary>
    MyString,
    /// <summary>MySQL 0x4142, X'4142', 0b0100 or B'0100' (maybe after _binary): the value is the bytes.</summary>
    MyHex,
    /// <summary>MySQL _charset introducer, while its literal is not read yet.</summary>
    MyIntroducer,
}

/// <summary>
/// Runs a row's transformers in plan order, for COPY rows and INSERT tuples alike, with the per-row scratch it needs.
/// The rewriter owns one; with parallel masking each masking lane owns another, with transformers of its own
/// (<see cref="ParallelMasking"/>). Errors carry the position the caller gives in <see cref="Unit"/>, <see cref="CopyTable"/>
/// and <see cref="Row"/>.
/// </summary>
internal sealed class RowEvaluator : IRowContext, IDisposable
{
    readonly UnitBuffer _decoded = new();
    readonly UnitBuffer _outputs = new();
    readonly UnitBuffer _references = new();
    // Per-row scratch, indexed by column position; sized for every plan by Fit, before any row of it is split.
    internal int[] FieldStarts = new int[16];
    internal int[] FieldEnds = new int[16];
    internal FieldSyntax[] Syntaxes = new FieldSyntax[16];
    internal TransformResult[] Results = new TransformResult[16];
    int[] _outputStarts = new int[16];
    int[] _outputLengths = new int[16];
    int[] _referenceStarts = new int[4];
    int[] _referenceLengths = new int[4];
    bool[] _referenceNulls = new bool[4];

    /// <summary>The unit the row is in (its offset and line number point errors at it).</summary>
    internal DumpUnit Unit;

    /// <summary>The COPY statement's table as written (null for INSERT tuples).</summary>
    internal string? CopyTable;

    /// <summary>The row's number within its COPY block, or within its table for INSERT tuples.</summary>
    internal long Row;

    /// <summary>Where the values given to a transformer are counted (the rewriter's own, or a masking lane's).</summary>
    internal RewriteStatistics Counters = new();

    /// <summary>
    /// Grows the per-row scratch arrays to <paramref name="plan"/>'s width (and to its widest set of columns a transformer
    /// references). This is the one place they are sized: a row's fields are split into them and then evaluated, and
    /// nothing in between may reallocate them (a resize inside evaluation once dropped the INSERT field syntaxes of each
    /// new widest row).
    /// </summary>
    public void Fit(RowPlan plan)
    {
        var width = plan.Columns.Count + 1; // one spare: a row of a table without columns is still one (empty) field
        if (FieldStarts.Length < width)
        {
            FieldStarts = new int[width];
            FieldEnds = new int[width];
            Syntaxes = new FieldSyntax[width];
            Results = new TransformResult[width];
            _outputStarts = new int[width];
            _outputLengths = new int[width];
        }
        var references = 0;
        foreach (var r in plan.References)
        {
            references = Math.Max(references, r.Length);
        }
        if (_referenceStarts.Length < references)
        {
            _referenceStarts = new int[references];
            _referenceLengths = new int[references];
            _referenceNulls = new bool[references];
        }
    }

    /// <summary>The transformed value of column <paramref name="c"/> after <see cref="Evaluate"/>.</summary>
    public ReadOnlySpan<byte> Output(int c) => _outputs.Slice(_outputStarts[c], _outputLengths[c]);

    /// <summary>
    /// Transforms the planned fields of a row whose field bounds are in FieldStarts/FieldEnds, with
    /// <paramref name="transformers"/> (the plan's, or a masking lane's built from the same rules). Results land in
    /// Results, values in <see cref="Output"/>.
    /// </summary>
    public void Evaluate(RowPlan plan, Transformer?[] transformers, ReadOnlySpan<byte> row, FieldSyntax uniformSyntax)
    {
        _outputs.Clear();
        foreach (var c in plan.EvaluationOrder)
        {
            var transformer = transformers[c]!;
            var syntax = uniformSyntax == FieldSyntax.CopyText ? FieldSyntax.CopyText : Syntaxes[c];
            var raw = row[FieldStarts[c]..FieldEnds[c]];
            // Most COPY fields hold no escape at all: then the raw bytes are the value, and nothing is copied.
            var plain = syntax == FieldSyntax.CopyText && raw.IndexOf((byte)'\\') < 0;
            _decoded.Clear();
            var isNull = !plain && Decode(plan, raw, syntax, _decoded, c);
            var references = plan.References[c];
            if (references.Length > 0)
            {
                CollectReferences(plan, c, row, references, uniformSyntax);
            }
            var start = _outputs.Length;
            try
            {
                Results[c] = transformer.Transform(plain ? raw : _decoded.Span, isNull, this, _outputs);
            }
            catch (Exception e) when (e is TransformerException { Table: null } or not (ReplicaException or OperationCanceledException))
            {
                ThrowTransformFailed(plan, row, c, uniformSyntax, e);
            }
            _outputStarts[c] = start;
            _outputLengths[c] = _outputs.Length - start;
            // A json value without any of its paths was not transformed (the rule may be misspelt: RuleChecker).
            if (Results[c] != TransformResult.Unchanged || !transformer.UnchangedMeansNotFound)
            {
                Counters.TransformedValues++;
            }
        }
    }

    /// <summary>Gives a transformer's failure the field's position (<see cref="RewriteThrow.TransformFailed"/>).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    void ThrowTransformFailed(RowPlan plan, ReadOnlySpan<byte> row, int column, FieldSyntax uniformSyntax, Exception e)
    {
        var copy = uniformSyntax == FieldSyntax.CopyText;
        var start = FieldStarts[column];
        RewriteThrow.TransformFailed(e, Unit.Offset + start, copy ? Unit.LineNumber : DumpThrow.LineOf(Unit.LineNumber, row, start),
            plan.Table.DisplayName, plan.Columns[column], Row);
    }

    void CollectReferences(RowPlan plan, int c, ReadOnlySpan<byte> row, int[] references, FieldSyntax uniformSyntax)
    {
        _references.Clear();
        for (var r = 0; r < references.Length; r++)
        {
            var column = references[r];
            var start = _references.Length;
            var isNull = false;
            // The plan's order evaluated that column before this one (RowPlan.OrderReferencing).
            if (plan.ReadsOutput(c, r) && Results[column] != TransformResult.Unchanged)
            {
                isNull = Results[column] == TransformResult.Null;
                _references.Append(Output(column));
            }
            else
            {
                var syntax = uniformSyntax == FieldSyntax.CopyText ? FieldSyntax.CopyText : Syntaxes[column];
                isNull = Decode(plan, row[FieldStarts[column]..FieldEnds[column]], syntax, _references, column);
            }
            _referenceStarts[r] = start;
            _referenceLengths[r] = _references.Length - start;
            _referenceNulls[r] = isNull;
        }
    }

    ReadOnlySpan<byte> IRowContext.GetReferenced(int referenceIndex, out bool isNull)
    {
        isNull = _referenceNulls[referenceIndex];
        return _references.Slice(_referenceStarts[referenceIndex], _referenceLengths[referenceIndex]);
    }

    /// <summary>Decodes one field into <paramref name="output"/>; returns whether it is NULL.</summary>
    bool Decode(RowPlan plan, ReadOnlySpan<byte> raw, FieldSyntax syntax, UnitBuffer output, int column)
    {
        switch (syntax)
        {
            case FieldSyntax.CopyText:
                if (CopyText.IsNull(raw))
                {
                    return true;
                }
                var bad = CopyText.Decode(raw, output);
                if (bad >= 0)
                {
                    RewriteThrow.EscapeDecodesToZero(plan.Columns[column], Unit.Offset + (FieldStarts[column] + bad), Unit.LineNumber, CopyTable, Row);
                }
                return false;
            case FieldSyntax.SqlNull:
                return true;
            case FieldSyntax.SqlString:
            case FieldSyntax.SqlEString:
            {
                // A cast may follow the literal ('...'::type): decode the literal token only.
                var t = new SqlTokenizer(raw, Unit.NonStandardStrings);
                t.Next();
                SqlLiteral.Decode(t.Span, t.Kind == TokenKind.EString, output);
                return false;
            }
            case FieldSyntax.MyString:
            case FieldSyntax.MyHex:
            {
                var t = new SqlTokenizer(raw, mySql: true);
                t.Next();
                if (t.IsIntroducer)
                {
                    t.Next();
                }
                if (syntax == FieldSyntax.MyHex)
                {
                    MySqlLiteral.DecodeHex(t.Span, output);
                }
                else
                {
                    MySqlLiteral.Decode(t.Span, output);
                }
                return false;
            }
            default:
                output.Append(raw);
                return false;
        }
    }

    /// <summary>
    /// One COPY row (without its terminator, which is <paramref name="terminatorLength"/> bytes): splits it into fields,
    /// transforms the planned ones, and writes the row back.
    /// </summary>
    public void TransformCopyRow(RowPlan plan, Transformer?[] transformers, ReadOnlySpan<byte> row, int terminatorLength, IBufferWriter<byte> output)
    {
        var content = SplitCopyRow(plan, row);
        Evaluate(plan, transformers, content, FieldSyntax.CopyText);

        // Write the row in one piece: the untouched stretches between transformed fields are copied as they are.
        var size = row.Length + terminatorLength;
        foreach (var c in plan.EvaluationOrder)
        {
            size += 2 * _outputLengths[c] + 2;
        }
        var destination = output.GetSpan(size);
        var written = 0;
        var copied = 0;
        for (var c = 0; c < plan.Columns.Count; c++)
        {
            if (transformers[c] is null || Results[c] == TransformResult.Unchanged)
            {
                continue;
            }
            var untouched = content[copied..FieldStarts[c]];
            untouched.CopyTo(destination[written..]);
            written += untouched.Length;
            if (Results[c] == TransformResult.Null)
            {
                destination[written++] = (byte)'\\';
                destination[written++] = (byte)'N';
            }
            else
            {
                written += CopyText.EncodeInto(Output(c), destination[written..]);
            }
            copied = FieldEnds[c];
        }
        var rest = row[copied..];
        rest.CopyTo(destination[written..]);
        written += rest.Length;
        if (terminatorLength == 1)
        {
            destination[written++] = (byte)'\n';
        }
        output.Advance(written);
    }

    /// <summary>
    /// Splits a COPY row (without its '\n') into FieldStarts/FieldEnds, checking its field count; returns the row
    /// without a trailing '\r'.
    /// </summary>
    public ReadOnlySpan<byte> SplitCopyRow(RowPlan plan, ReadOnlySpan<byte> row)
    {
        var content = row;
        if (content.Length > 0 && content[^1] == (byte)'\r')
        {
            content = content[..^1];
        }
        var columns = plan.Columns.Count;
        if (columns == 0)
        {
            return content;
        }
        var tabs = CopyRowScanner.SplitFields(content, FieldEnds.AsSpan(0, columns - 1));
        if (tabs < 0)
        {
            SplitFieldsWithEscapes(plan, content, columns);
            return content;
        }
        if (tabs != columns - 1)
        {
            ThrowFieldCount(plan, tabs + 1);
        }
        // FieldEnds now holds the tab positions: field c runs from the tab before it to the tab after it.
        FieldEnds[columns - 1] = content.Length;
        FieldStarts[0] = 0;
        for (var c = 1; c < columns; c++)
        {
            FieldStarts[c] = FieldEnds[c - 1] + 1;
        }
        return content;
    }

    /// <summary>The decoded values (NULL as null) of the split fields at <paramref name="positions"/>, as strings.</summary>
    public string?[] Values(RowPlan plan, IReadOnlyList<int> positions, ReadOnlySpan<byte> row, FieldSyntax uniformSyntax)
    {
        Span<int> lengths = positions.Count <= 64 ? stackalloc int[positions.Count] : new int[positions.Count];
        var bytes = DecodedValues(plan, positions, row, uniformSyntax, lengths);
        var values = new string?[positions.Count];
        var at = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (lengths[i] >= 0)
            {
                values[i] = System.Text.Encoding.UTF8.GetString(bytes.Slice(at, lengths[i]));
                at += lengths[i];
            }
        }
        return values;
    }

    /// <summary>
    /// The decoded bytes (UTF-8) of the split fields at <paramref name="positions"/>, one after another; their lengths
    /// go to <paramref name="lengths"/> (-1 for NULL). Nothing is allocated: the bytes live until the next row.
    /// </summary>
    public ReadOnlySpan<byte> DecodedValues(RowPlan plan, IReadOnlyList<int> positions, ReadOnlySpan<byte> row, FieldSyntax uniformSyntax, Span<int> lengths)
    {
        _decoded.Clear();
        for (var i = 0; i < positions.Count; i++)
        {
            var c = positions[i];
            var syntax = uniformSyntax == FieldSyntax.CopyText ? FieldSyntax.CopyText : Syntaxes[c];
            var start = _decoded.Length;
            lengths[i] = Decode(plan, row[FieldStarts[c]..FieldEnds[c]], syntax, _decoded, c) ? -1 : _decoded.Length - start;
        }
        return _decoded.Span;
    }

    /// <summary>The split for rows where a tab follows a backslash: escapes decide which tabs delimit.</summary>
    void SplitFieldsWithEscapes(RowPlan plan, ReadOnlySpan<byte> content, int columns)
    {
        var field = 0;
        var fieldStart = 0;
        var i = 0;
        while (true)
        {
            var k = content[i..].IndexOfAny((byte)'\t', (byte)'\\');
            if (k < 0)
            {
                break;
            }
            i += k;
            if (content[i] == (byte)'\\')
            {
                if (i + 1 >= content.Length)
                {
                    RewriteThrow.RowEndsInBackslash(Unit.Offset + i, Unit.LineNumber, CopyTable, Row);
                }
                i += 2;
                continue;
            }
            if (field + 1 >= columns)
            {
                ThrowFieldCount(plan, field + 2);
            }
            FieldStarts[field] = fieldStart;
            FieldEnds[field] = i;
            field++;
            i++;
            fieldStart = i;
        }
        FieldStarts[field] = fieldStart;
        FieldEnds[field] = content.Length;
        if (field + 1 != columns)
        {
            ThrowFieldCount(plan, field + 1);
        }
    }

    void ThrowFieldCount(RowPlan plan, int found) => RewriteThrow.SplitFieldCount(found, plan.Columns, Unit.Offset, Unit.LineNumber, CopyTable, Row);

    public void Dispose()
    {
        _decoded.Dispose();
        _outputs.Dispose();
        _references.Dispose();
    }
}
