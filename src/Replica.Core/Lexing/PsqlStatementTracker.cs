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

    /// <summary>
    /// After <see cref="Track"/>: the offset in the unit of a word psql may count otherwise than this tracker, or -1. The
    /// restore refuses such a unit: where psql ends a statement would be a guess (pg_dump writes none of them).
    /// </summary>
    public int UnclearAt { get; private set; }

    /// <summary>
    /// Variables psql sets itself (https://www.postgresql.org/docs/current/app-psql.html, "Variables"): psql replaces
    /// <c>:NAME</c> outside quotes by the value, which it then reads as SQL this tracker cannot see. Any other
    /// <c>:name</c> has no value in a restore's psql and stays as written, read as no word at all.
    /// </summary>
    static readonly System.Collections.Frozen.FrozenSet<string> s_psqlVariables = System.Collections.Frozen.FrozenSet.Create(StringComparer.Ordinal,
        "AUTOCOMMIT", "COMP_KEYWORD_CASE", "DBNAME", "ECHO", "ECHO_HIDDEN", "ENCODING", "ERROR", "FETCH_COUNT", "HIDE_TABLEAM",
        "HIDE_TOAST_COMPRESSION", "HISTCONTROL", "HISTFILE", "HISTSIZE", "HOST", "IGNOREEOF", "LASTOID", "LAST_ERROR_MESSAGE",
        "LAST_ERROR_SQLSTATE", "ON_ERROR_ROLLBACK", "ON_ERROR_STOP", "PORT", "PROMPT1", "PROMPT2", "PROMPT3", "QUIET", "ROW_COUNT",
        "SERVER_VERSION_NAME", "SERVER_VERSION_NUM", "SHELL_ERROR", "SHELL_EXIT_CODE", "SHOW_ALL_RESULTS", "SHOW_CONTEXT",
        "SINGLELINE", "SINGLESTEP", "SQLSTATE", "USER", "VERBOSITY", "VERSION", "VERSION_NAME", "VERSION_NUM", "WATCH_INTERVAL");

    /// <summary>Reads one unit (a statement up to and including its ';'); returns whether psql ends its statement there.</summary>
    public bool Track(ReadOnlySpan<byte> unit, bool nonStandardStrings)
    {
        var t = new SqlTokenizer(unit, nonStandardStrings);
        UnclearAt = -1;
        var previousEnd = -1;
        var afterNumber = false;
        while (t.Next())
        {
            var adjacentToNumber = afterNumber && t.Start == previousEnd;
            previousEnd = t.End;
            // A number, or a $n parameter (psql 16 and later: param_junk).
            afterNumber = t.Kind == TokenKind.Number || (t.Kind == TokenKind.Other && t.End - t.Start > 1 && unit[t.Start] == (byte)'$');
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
                if (adjacentToNumber)
                {
                    // psql 15 and later read "1begin" as a number with trailing junk and more (psqlscan.l: integer_junk),
                    // older ones as a number and a word.
                    Unclear(t.Start);
                }
                else if (t.Start >= 3 && unit[(t.Start - 3)..t.Start].SequenceEqual("\uFEFF"u8))
                {
                    // The tokenizer skips a byte order mark as blank; psql reads its bytes as part of the name.
                    Unclear(t.Start);
                }
                else if (t.Start >= 3 && unit[t.Start - 1] == (byte)'?' && unit[t.Start - 2] == (byte)'{' && IsVariable(unit, t.Start - 2))
                {
                    // :{?name} (psql 14 and later): psql writes TRUE or FALSE in its place, no word.
                    Unclear(t.Start - 3);
                }
                else if (IsVariable(unit, t.Start))
                {
                    // :name (psqlscan.l: variable substitution); a variable psql sets is read as its value.
                    if (IsSetByPsql(t.Span))
                    {
                        Unclear(t.Start - 1);
                    }
                    continue;
                }
                else if (t.End - t.Start == 1 && (t.Span[0] | 0x20) == 'u' && t.End < unit.Length && unit[t.End] == (byte)'&')
                {
                    // U& without a quote after it (psqlscan.l: xufailed) is no word to psql.
                    continue;
                }
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

    /// <summary>Keeps the first unclear offset of the unit.</summary>
    void Unclear(int at)
    {
        if (UnclearAt < 0)
        {
            UnclearAt = at;
        }
    }

    /// <summary>Whether the word at <paramref name="start"/> follows a ':' that is not part of a '::' cast (a psql variable).</summary>
    internal static bool IsVariable(ReadOnlySpan<byte> unit, int start)
    {
        var colons = 0;
        while (start - colons > 0 && unit[start - colons - 1] == (byte)':')
        {
            colons++;
        }
        return colons % 2 == 1;
    }

    // Rare (a ':' before a word outside quotes, which pg_dump writes only inside an array slice): a string is fine.
    static bool IsSetByPsql(ReadOnlySpan<byte> name) => s_psqlVariables.Contains(System.Text.Encoding.Latin1.GetString(name));

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
            // psql opens a body at any BEGIN of a routine's statement; the server only at BEGIN ATOMIC, the one body
            // pg_dump writes. Anywhere else (a SET value, an alias, a nested BEGIN) psql would send statements the
            // server runs on their own as one string, where the guard took them for a body: refused.
            var next = t;
            if (_beginDepth > 0 || !next.Next() || !next.IsWord("atomic"u8))
            {
                Unclear(t.Start);
            }
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
