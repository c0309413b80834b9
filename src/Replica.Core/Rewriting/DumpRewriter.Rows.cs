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
    /// <summary>MySQL 0x4142 or X'4142' (maybe after _binary): the value is the bytes.</summary>
    MyHex,
    /// <summary>MySQL _charset introducer, while its literal is not read yet.</summary>
    MyIntroducer,
}

// Runs a row's transformers in plan order; shared by COPY rows and INSERT tuples.
public sealed partial class DumpRewriter : IRowContext
{
    readonly UnitBuffer _decoded = new();
    readonly UnitBuffer _outputs = new();
    readonly UnitBuffer _references = new();
    // Per-row scratch, indexed by column position; sized for every plan by NewPlan, before any row of it is split.
    int[] _fieldStarts = new int[16];
    int[] _fieldEnds = new int[16];
    FieldSyntax[] _syntaxes = new FieldSyntax[16];
    TransformResult[] _results = new TransformResult[16];
    int[] _outputStarts = new int[16];
    int[] _outputLengths = new int[16];
    int[] _referenceStarts = new int[4];
    int[] _referenceLengths = new int[4];
    bool[] _referenceNulls = new bool[4];

    /// <summary>
    /// The plan of a COPY header or INSERT column list, with the per-row scratch arrays grown to its width (and to its
    /// widest set of columns a transformer references). This is the one
    /// place they are sized: a row's fields are split into them and then evaluated, and nothing in between may reallocate
    /// them (a resize inside evaluation once dropped the INSERT field syntaxes of each new widest row).
    /// </summary>
    RowPlan NewPlan(TableState table, List<string> columns, TableAction action)
    {
        var plan = new RowPlan(table, columns, action, _rules);
        var width = columns.Count + 1; // one spare: a row of a table without columns is still one (empty) field
        if (_fieldStarts.Length < width)
        {
            _fieldStarts = new int[width];
            _fieldEnds = new int[width];
            _syntaxes = new FieldSyntax[width];
            _results = new TransformResult[width];
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
        return plan;
    }

    /// <summary>
    /// Transforms the planned fields of a row whose field bounds are in _fieldStarts/_fieldEnds. Results land in
    /// _results/_outputStarts/_outputLengths, values in _outputs.
    /// </summary>
    void EvaluateRow(RowPlan plan, ReadOnlySpan<byte> row, FieldSyntax uniformSyntax)
    {
        _outputs.Clear();
        foreach (var c in plan.EvaluationOrder)
        {
            var transformer = plan.Transformers[c]!;
            var syntax = uniformSyntax == FieldSyntax.CopyText ? FieldSyntax.CopyText : _syntaxes[c];
            var raw = row[_fieldStarts[c].._fieldEnds[c]];
            // Most COPY fields hold no escape at all: then the raw bytes are the value, and nothing is copied.
            var plain = syntax == FieldSyntax.CopyText && raw.IndexOf((byte)'\\') < 0;
            _decoded.Clear();
            var isNull = !plain && Decode(raw, syntax, _decoded, c);
            var references = plan.References[c];
            if (references.Length > 0)
            {
                CollectReferences(plan, row, references, uniformSyntax);
            }
            var start = _outputs.Length;
            try
            {
                _results[c] = transformer.Transform(plain ? raw : _decoded.Span, isNull, this, _outputs);
            }
            catch (Exception e) when (e is TransformerException { Table: null } or not (ReplicaException or OperationCanceledException))
            {
                ThrowTransformFailed(plan, row, c, uniformSyntax, e);
            }
            _outputStarts[c] = start;
            _outputLengths[c] = _outputs.Length - start;
            _statistics.TransformedValues++;
        }
    }

    /// <summary>Gives a transformer's failure the field's position (<see cref="RewriteThrow.TransformFailed"/>).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    void ThrowTransformFailed(RowPlan plan, ReadOnlySpan<byte> row, int column, FieldSyntax uniformSyntax, Exception e)
    {
        var copy = uniformSyntax == FieldSyntax.CopyText;
        var start = _fieldStarts[column];
        RewriteThrow.TransformFailed(e, _unit.Offset + start, copy ? _unit.LineNumber : DumpThrow.LineOf(_unit.LineNumber, row, start),
            plan.Table.DisplayName, plan.Columns[column], copy ? _copyRow : plan.Table.Rows + 1);
    }

    void CollectReferences(RowPlan plan, ReadOnlySpan<byte> row, int[] references, FieldSyntax uniformSyntax)
    {
        _references.Clear();
        for (var r = 0; r < references.Length; r++)
        {
            var column = references[r];
            var start = _references.Length;
            var other = plan.Transformers[column];
            var isNull = false;
            if (other is not null && plan.References[column].Length == 0 && _results[column] != TransformResult.Unchanged)
            {
                isNull = _results[column] == TransformResult.Null;
                _references.Append(_outputs.Slice(_outputStarts[column], _outputLengths[column]));
            }
            else
            {
                var syntax = uniformSyntax == FieldSyntax.CopyText ? FieldSyntax.CopyText : _syntaxes[column];
                isNull = Decode(row[_fieldStarts[column].._fieldEnds[column]], syntax, _references, column);
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
    bool Decode(ReadOnlySpan<byte> raw, FieldSyntax syntax, UnitBuffer output, int column)
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
                    RewriteThrow.EscapeDecodesToZero(_copy!.Columns[column], _unit.Offset + (_fieldStarts[column] + bad), _unit.LineNumber, _copyTable, _copyRow);
                }
                return false;
            case FieldSyntax.SqlNull:
                return true;
            case FieldSyntax.SqlString:
            case FieldSyntax.SqlEString:
            {
                // A cast may follow the literal ('...'::type): decode the literal token only.
                var t = new SqlTokenizer(raw, _unit.NonStandardStrings);
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
}
