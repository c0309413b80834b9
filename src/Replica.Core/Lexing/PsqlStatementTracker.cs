namespace Replica.Lexing;

/// <summary>
/// Where psql itself ends a statement, which is not always at a ';' the <see cref="UnitScanner"/> ends a unit at: psql sends
/// nothing while parentheses are open, and inside CREATE [OR REPLACE] FUNCTION|PROCEDURE it counts BEGIN ... END (SQL-standard
/// bodies, BEGIN ATOMIC ... END, which pg_dump writes from PostgreSQL 14 on) and reads on past the semicolons in between.
/// This follows psql's own heuristic (src/fe_utils/psqlscan.l: paren_depth, begin_depth, identifiers), so a restore knows
/// which of its units psql runs as a statement of their own: "END;" closing a function body is not a COMMIT, and a COPY
/// that psql does not send on its own is not followed by data.
/// </summary>
internal struct PsqlStatementTracker
{
    int _parenDepth;
    int _beginDepth;
    int _identifierCount;
    // The first letters of the first four words when they are create, function, procedure, or, replace (else 0).
    uint _identifiers;

    /// <summary>True while a psql statement is open across units (after a unit that psql did not end).</summary>
    public readonly bool InStatement => _parenDepth > 0 || _beginDepth > 0 || _identifierCount > 0;

    public readonly int ParenDepth => _parenDepth;

    /// <summary>Reads one unit (a statement up to and including its ';'); returns whether psql ends its statement there.</summary>
    public bool Track(ReadOnlySpan<byte> unit, bool nonStandardStrings)
    {
        var t = new SqlTokenizer(unit, nonStandardStrings);
        while (t.Next())
        {
            if (t.Kind == TokenKind.Punct && t.End - t.Start == 1)
            {
                switch (unit[t.Start])
                {
                    case (byte)'(':
                        _parenDepth++;
                        break;
                    case (byte)')':
                        if (_parenDepth > 0)
                        {
                            _parenDepth--;
                        }
                        break;
                }
            }
            else if (t.Kind == TokenKind.Word)
            {
                Word(ref t);
            }
        }
        if (_parenDepth == 0 && _beginDepth == 0)
        {
            _identifierCount = 0;
            _identifiers = 0;
            return true;
        }
        return false;
    }

    void Word(ref SqlTokenizer t)
    {
        if (_identifierCount < 4 && (t.IsWord("create"u8) || t.IsWord("function"u8) || t.IsWord("procedure"u8) || t.IsWord("or"u8) || t.IsWord("replace"u8)))
        {
            _identifiers |= (uint)(t.Span[0] | 0x20) << (8 * _identifierCount);
        }
        _identifierCount++;
        var first = (byte)_identifiers;
        var second = (byte)(_identifiers >> 8);
        var routine = first == (byte)'c'
            && (second is (byte)'f' or (byte)'p'
                || (second == (byte)'o' && (byte)(_identifiers >> 16) == (byte)'r' && (byte)(_identifiers >> 24) is (byte)'f' or (byte)'p'));
        if (!routine || _parenDepth != 0)
        {
            return;
        }
        if (t.IsWord("begin"u8))
        {
            _beginDepth++;
        }
        else if (t.IsWord("case"u8))
        {
            // CASE also ends with END; it only matters inside a BEGIN.
            if (_beginDepth >= 1)
            {
                _beginDepth++;
            }
        }
        else if (t.IsWord("end"u8) && _beginDepth > 0)
        {
            _beginDepth--;
        }
    }
}
