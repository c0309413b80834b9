using System.Buffers;
using Replica.Lexing;

namespace Replica.Rewriting;

// Rows written in a form the rewriter does not read value by value: INSERT ... SELECT, INSERT ... AS alias, INSERT ... SET
// (MySQL), UPDATE, MERGE, a data-modifying WITH, a DO block, and whatever follows an INSERT's tuples (ON CONFLICT ... DO
// UPDATE, ON DUPLICATE KEY UPDATE, UNION ...). pg_dump and mysqldump never write them, but psql and mysql run them: passed
// through, their values would reach the stored dump unmasked. For a table whose rows the config changes (a column rule, a
// skip, a row filter) they are refused; into a dropped table they go with it; a write whose table cannot be told is refused
// whenever there are rules. Definitions of code (CREATE FUNCTION, PROCEDURE, RULE, TRIGGER) are not looked into: a body
// is code the dump defines, run only if something calls it, and not data of a table (its literals, like a view's or a
// default's, are not masked).
public sealed partial class DumpRewriter
{
    readonly List<WriteTarget> _writes = [];
    /// <summary>
    /// Where psql ends the statements that a CREATE unit begins: a multi-action rule's DO ( ...; ... ) and a BEGIN ATOMIC
    /// body go on over several units, which psql sends with the CREATE as one statement. Their INSERT, UPDATE ... are the
    /// rule's actions or the routine's body, stored, not run, so they are not refused (pg_dump writes them).
    /// </summary>
    PsqlStatementTracker _create;
    /// <summary>A word of the CREATE statement being followed that psql may read otherwise (<see cref="PsqlStatementTracker.UnclearAt"/>).</summary>
    bool _createUnclear;
    /// <summary>The PostgreSQL statement being handled continues one that a CREATE unit began (see <see cref="_create"/>).</summary>
    bool _inCreate;
    /// <summary>Whether the config changes the rows of the table the last INSERTs went into (<see cref="EnterInsertTable"/>).</summary>
    bool _insertTableChanges;

    /// <summary>
    /// Refuses a statement that writes rows of a table the config changes, or of a table it cannot name, in a form the
    /// rewriter does not rewrite (<see cref="StatementParser.FindWriteTargets"/>). True: it writes into dropped tables only
    /// and goes with them.
    /// </summary>
    bool CheckWrites(ReadOnlySpan<byte> statement)
    {
        _writes.Clear();
        StatementParser.FindWriteTargets(statement, _lexer.MySql, _unit.NonStandardStrings, _database, _writes);
        var dropped = false;
        foreach (var write in _writes)
        {
            if (write.Table is not { } name)
            {
                RewriteThrow.UnreadWrite(write.Verb, null, _unit, statement, write.At);
                return false;
            }
            CheckNotView(name, write.Verb, statement, write.At);
            _written.Add(name);
            if (TryGetTable(name, out var state) ? state.Action(_rules) == TableAction.Drop : _rules.ActionFor(name, Dialect) == TableAction.Drop)
            {
                dropped = true;
            }
            else if (state is null ? ChangesRows(name) : ChangesRows(state))
            {
                RewriteThrow.UnreadWrite(write.Verb, state?.DisplayName ?? Display(name), _unit, statement, write.At);
            }
        }
        return dropped;
    }

    /// <summary>Views the dump created (CREATE VIEW), which a later CREATE TABLE of the same name replaces.</summary>
    readonly HashSet<TableName> _views = [];

    /// <summary>
    /// Refuses rows written into a view the dump created (called only when the config has rules): an updatable view
    /// writes them into the table it reads, whose rules the rewriter finds by the name written, the view's, so a masked
    /// table's values would pass in clear. <paramref name="at"/>: the deciding word's offset, or -1 for the first word.
    /// </summary>
    void CheckNotView(TableName name, string verb, ReadOnlySpan<byte> statement, int at)
    {
        if (_views.Count > 0 && _views.Contains(name))
        {
            if (at < 0)
            {
                // The statement's first word (INSERT, COPY), past the line break and comments its unit begins with.
                var first = new SqlTokenizer(statement, _unit.NonStandardStrings, mySql: _lexer.MySql);
                at = first.Next() ? first.Start : 0;
            }
            RewriteThrow.WriteIntoView(verb, Display(name), _unit, statement, at);
        }
    }

    /// <summary>Follows CREATE VIEW and CREATE TABLE for <see cref="_views"/>.</summary>
    void FollowViews(ReadOnlySpan<byte> statement, TableName? createdTable)
    {
        if (createdTable is { } table)
        {
            _views.Remove(table);
        }
        else if (StatementParser.TryParseCreateView(statement, _lexer.MySql, _database, out var view))
        {
            _views.Add(view);
        }
    }

    /// <summary>PostgreSQL: the tables whose rows the dump has written so far (COPY, INSERT, or a write it let pass).</summary>
    readonly HashSet<TableName> _written = [];

    /// <summary>
    /// Refuses making <paramref name="child"/> a partition or child of <paramref name="parent"/> (ATTACH PARTITION,
    /// INHERIT) when the config changes the parent's rows and rows of the child, or of a table under it, were written
    /// before: the parent's rules reach the child's rows, but those passed as they were. pg_dump attaches partitions and
    /// sets inheritance before any data.
    /// </summary>
    void CheckJoinAfterData(TableState child, TableState parent, ReadOnlySpan<byte> statement, int at)
    {
        if (_written.Count == 0 || !ChangesRows(parent))
        {
            return;
        }
        foreach (var name in _written)
        {
            if (TryGetTable(name, out var written) && written.Lineage().Contains(child))
            {
                RewriteThrow.JoinedAfterData(child.DisplayName, parent.DisplayName, written.DisplayName, _unit, statement, at);
            }
        }
    }

    /// <summary>
    /// Refuses CREATE TABLE ... AS (MySQL's ... SELECT) or SELECT ... INTO that fills a table whose rows the config
    /// changes with the rows of a query (<see cref="StatementParser.TryFindTableFilledByQuery"/>): its literals are
    /// values the rewriter does not read. pg_dump and mysqldump never write one.
    /// </summary>
    void CheckTableFilledByQuery(ReadOnlySpan<byte> statement)
    {
        if (StatementParser.TryFindTableFilledByQuery(statement, _lexer.MySql, _unit.NonStandardStrings, _database, out var name, out var at)
            && (TryGetTable(name, out var state) ? ChangesRows(state) : ChangesRows(name)))
        {
            RewriteThrow.UnreadWrite(StatementParser.FirstWord(statement[at..]).ToUpperInvariant(), state?.DisplayName ?? Display(name), _unit, statement, at);
        }
    }

    readonly List<Rename> _renames = [];

    /// <summary>
    /// Refuses a rename (<see cref="StatementParser.FindRenames"/>) of a table or of its column where the config changes
    /// the rows of the table, of a table under it (a column renamed in a parent is renamed in its children) or, for a
    /// table, of its new name: rules are found by the names rows are written under, so a rule would miss the values
    /// written under the new name, leaving them in clear. MySQL's ADD, DROP, MODIFY and CHANGE of columns make the
    /// table's column order unknown, as PostgreSQL's do (<see cref="StatementParser.TryParseAlterTableColumns"/>).
    /// </summary>
    void CheckRenames(ReadOnlySpan<byte> statement)
    {
        _renames.Clear();
        StatementParser.FindRenames(statement, _lexer.MySql, _database, _renames);
        foreach (var rename in _renames)
        {
            if (rename.Kind != RenameKind.Table)
            {
                Table(rename.Table).ColumnsAltered = true;
                ForgetPlans();
            }
            if (rename.Kind == RenameKind.ColumnOrder || (rename.Kind == RenameKind.Table && rename.NewTable == rename.Table))
            {
                continue;
            }
            var column = rename.Kind == RenameKind.Column;
            if (ChangesRowsOfOrUnder(rename.Table) || (!column && ChangesRowsOfOrUnder(rename.NewTable)))
            {
                RewriteThrow.Renamed(column, DisplayOf(rename.Table), column ? null : DisplayOf(rename.NewTable), _unit, statement, rename.At);
            }
        }
    }

    string DisplayOf(TableName name) => TryGetTable(name, out var state) ? state.DisplayName : Display(name);

    /// <summary>Whether the config changes the rows of the table or of a table that is its partition or child, at any depth.</summary>
    bool ChangesRowsOfOrUnder(TableName name)
    {
        if (!TryGetTable(name, out var state))
        {
            return ChangesRows(name);
        }
        foreach (var table in _tables.Values)
        {
            if (table.Lineage().Contains(state) && ChangesRows(table))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Follows a PostgreSQL statement that a CREATE unit begins over the units after it (<see cref="_create"/>); sets
    /// <see cref="_inCreate"/> for the unit being handled. A word psql may count otherwise (a BEGIN that is not BEGIN
    /// ATOMIC: psql would send the units as one string of several statements, which the server runs) ends the exemption.
    /// </summary>
    void FollowCreate(ReadOnlySpan<byte> statement, bool startsWithCreate)
    {
        var inside = _create.InStatement;
        _inCreate = inside && !_createUnclear;
        if (!inside && !startsWithCreate)
        {
            return;
        }
        if (!inside)
        {
            _createUnclear = false;
        }
        _create.Track(statement, _unit.NonStandardStrings);
        _createUnclear |= _create.UnclearAt >= 0;
    }

    /// <summary>
    /// pg_dump 18's statistics (pg_restore_attribute_stats and pg_restore_relation_stats): when the config has rules,
    /// every such statement is left out, its line breaks kept (later lines keep their numbers). Attribute statistics hold
    /// samples of the real values (most_common_vals, histogram_bounds), also of an index's expression columns, which
    /// name the index, not the table; relation statistics count the source's rows, not those a filter or skip keeps.
    /// ANALYZE after the restore rebuilds both from the stored data. A call in a statement of another shape cannot be
    /// left out alone: refused. True: the statement was handled.
    /// </summary>
    bool LeaveOutStatistics(ReadOnlySpan<byte> statement, IBufferWriter<byte> output)
    {
        switch (StatementParser.FindStatisticsCall(statement, out var at))
        {
            case StatisticsCall.Whole:
                foreach (var b in statement)
                {
                    if (b is (byte)'\n')
                    {
                        Write(output, "\n"u8);
                    }
                    else if (b is (byte)'\r')
                    {
                        Write(output, "\r"u8);
                    }
                }
                return true;
            case StatisticsCall.Inside:
                RewriteThrow.Refused("a call of a pg_restore_..._stats function inside another statement: statistics hold samples of the real values, and pg_dump writes them as SELECT * FROM pg_catalog.pg_restore_..._stats(...); alone, which Replica leaves out",
                    _unit, statement, at);
                return true;
            default:
                return false;
        }
    }

    string Display(TableName name) => Dialect == SqlDialect.MySql ? TableState.MySqlDisplayName(name) : name.ToString();

    /// <summary>Whether the config changes the table's rows: it skips or drops them, filters them, or masks a column of it or of a table it follows.</summary>
    bool ChangesRows(TableState table)
    {
        return table.Action(_rules) != TableAction.Transform || (Filter ?? _schema?.Filter) is not null || table.HasColumnRules(_rules);
    }

    /// <summary><see cref="ChangesRows(TableState)"/> for a table the dump has not named before (no parent known).</summary>
    bool ChangesRows(TableName name) =>
        _rules.ActionFor(name, Dialect) != TableAction.Transform || (Filter ?? _schema?.Filter) is not null || _rules.HasColumnRules(name, Dialect);
}
