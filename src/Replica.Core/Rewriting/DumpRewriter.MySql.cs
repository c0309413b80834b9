using System.Buffers;
using Replica.Lexing;

namespace Replica.Rewriting;

// mysqldump / mariadb-dump output: extended INSERT / REPLACE statements with MySQL literals, CREATE TABLE with backticks,
// USE `db`; and the client's DELIMITER command around triggers and routines.
// https://dev.mysql.com/doc/refman/8.0/en/mysqldump.html
public sealed partial class DumpRewriter
{
    /// <summary>The current database (USE `db`; or the dump header); "" when the dump does not name one.</summary>
    string _database = "";
    bool _headerRead;

    void HandleDelimiterCommand(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        var at = (int)Math.Clamp(_unit.OpenedAt - _unit.Offset, 0, unit.Length);
        if (_unit.Kind == UnitKind.BadDelimiter)
        {
            RewriteThrow.BadDelimiter(_unit, unit, at);
        }
        if (_unit.Kind == UnitKind.MisplacedDelimiter)
        {
            // The restore's client would take it otherwise than the lexer did: such a dump is never stored.
            RewriteThrow.Refused(UnitScanner.MisplacedDelimiterReason, _unit, unit, at);
        }
        Write(output, unit);
    }

    void HandleMySqlStatement(ReadOnlySpan<byte> statement, IBufferWriter<byte> output)
    {
        if (_rules.IsEmpty && Filter is null)
        {
            Write(output, statement);
            return;
        }
        var t = new SqlTokenizer(statement, mySql: true);
        t.Next();
        // The header of a single-database dump names its database; a later one, in the comments before a statement, starts
        // another dump (mysqldump db1; mysqldump db2), whose tables are another database's.
        if (StatementParser.TryReadDumpHeaderDatabase(_headerRead ? statement[..t.Start] : statement, out var named))
        {
            _database = named;
        }
        _headerRead = true;
        if (t.IsWord("insert"u8) || t.IsWord("replace"u8))
        {
            HandleMySqlInsert(statement, output);
            return;
        }
        if ((t.IsWord("update"u8) || t.IsWord("with"u8) || t.IsWord("prepare"u8)) && CheckWrites(statement))
        {
            return;
        }
        if (t.IsWord("alter"u8) || t.IsWord("rename"u8))
        {
            CheckRenames(statement);
        }
        if (t.IsWord("create"u8))
        {
            CheckTableFilledByQuery(statement);
        }
        if (t.IsWord("create"u8) && StatementParser.TryParseMySqlCreateTable(statement, _database, out var created, out var columns, out var keys))
        {
            var state = Table(created);
            state.Define(columns, [], partitionOf: false);
            ForgetPlans();
            if (Filter is not null)
            {
                // mysqldump declares keys inside CREATE TABLE.
                state.Keys.Clear();
                state.Keys.AddRange(keys);
            }
            _checker.OnCreateTable(state, hasParent: false);
            FollowViews(statement, created);
        }
        else if (t.IsWord("create"u8))
        {
            FollowViews(statement, null);
        }
        else if (t.IsWord("use"u8) && StatementParser.TryParseUse(statement, out var database))
        {
            _database = database;
        }
        if (_rules.DropsTables && NamesDroppedMySqlTable(statement))
        {
            return;
        }
        Write(output, statement);
    }

    void HandleMySqlInsert(ReadOnlySpan<byte> statement, IBufferWriter<byte> output)
    {
        if (!TryRepeatInsert(statement, out var table, out var plan, out var valuesEnd))
        {
            if (!StatementParser.TryParseMySqlInsert(statement, _database, out var name, out var columns, out valuesEnd))
            {
                // INSERT ... SELECT, ... SET a = 1: into a dropped table it goes, for a table whose rows the config changes it is refused.
                if (!CheckWrites(statement))
                {
                    Write(output, statement);
                }
                return;
            }
            CheckNotView(name, "INSERT", statement, -1);
            table = Table(name);
            EnterInsertTable(table);
            plan = table.Action(_rules) == TableAction.Transform ? InsertPlan(table, columns, statement, "mysqldump --complete-insert") : null;
            _repeat.Remember(statement[..valuesEnd], _unit.NonStandardStrings, table, plan, _statistics.Statements);
        }
        WriteInsert(statement, plan, valuesEnd, output);
    }

    bool NamesDroppedMySqlTable(ReadOnlySpan<byte> statement)
    {
        _named.Clear();
        StatementParser.CollectMySqlTables(statement, _database, _named);
        foreach (var name in _named)
        {
            // mysqldump writes DROP TABLE before CREATE TABLE, so a table counts before the dump has created it; the
            // collector only takes names in table positions, so a word such as ON DELETE is not read as a table.
            if (Table(name).Action(_rules) == TableAction.Drop)
            {
                return true;
            }
        }
        return false;
    }

    static FieldSyntax ClassifyMySqlValue(in SqlTokenizer t)
    {
        switch (t.Kind)
        {
            case TokenKind.EString:
                return FieldSyntax.MyString;
            case TokenKind.String:
            case TokenKind.Number:
                // X'..' or 0x..; B'..' or 0b.. are bytes too (written back as hex), not a bare value the transformer reads as text.
                return MySqlLiteral.IsHex(t.Span) || MySqlLiteral.IsBits(t.Span) ? FieldSyntax.MyHex : FieldSyntax.SqlBare;
            case TokenKind.Word:
                if (t.IsWord("null"u8))
                {
                    return FieldSyntax.SqlNull;
                }
                return t.IsIntroducer ? FieldSyntax.MyIntroducer : FieldSyntax.SqlBare;
            default:
                return FieldSyntax.SqlBare;
        }
    }

    /// <summary>
    /// Writes a transformed value as a MySQL literal where the original stood: a string stays a string and hex stays hex
    /// (with their introducer, if any); a bare number stays bare if the result still is one, else it becomes a string.
    /// </summary>
    static void WriteMySqlValue(ReadOnlySpan<byte> raw, FieldSyntax syntax, ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        switch (syntax)
        {
            case FieldSyntax.MyString:
            case FieldSyntax.MyHex:
            {
                var t = new SqlTokenizer(raw, mySql: true);
                t.Next();
                if (t.IsIntroducer)
                {
                    t.Next();
                    output.Write(raw[..t.Start]); // _binary, _utf8mb4 ... and the space after it
                }
                if (syntax == FieldSyntax.MyHex)
                {
                    MySqlLiteral.EncodeHex(value, output);
                }
                else
                {
                    MySqlLiteral.Encode(value, output);
                }
                break;
            }
            default:
                if (IsBareLiteral(value))
                {
                    output.Write(value);
                }
                else
                {
                    MySqlLiteral.Encode(value, output);
                }
                break;
        }
    }
}
