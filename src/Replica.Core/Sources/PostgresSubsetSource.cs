using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Npgsql;
using Replica.Subsetting;

namespace Replica.Sources;

/// <summary>
/// The subset closure's key rows from a live PostgreSQL database, on one connection inside one read-only transaction
/// (the caller's: an imported snapshot, so that keys and data come from the same instant). Every query is short and
/// reads key columns only: a root's rows by its where, or the rows whose key columns equal one of a batch of tuples,
/// passed as arrays and cast to the columns' types (<c>= ANY($1::text[]::bigint[])</c>, composite keys through unnest),
/// so the indexes behind the keys are used. Nothing is written: no temporary tables, no DDL.
/// </summary>
/// <remarks>
/// With more connections in the same snapshot (<paramref name="more"/>), questions the closure starts ahead
/// (<see cref="StartMatching"/>) run on a free one, each answer read into a bounded queue (<see cref="AnswerRows"/>), so
/// the server answers the next batch while the client records the one before.
/// </remarks>
public sealed class PostgresSubsetSource(NpgsqlConnection connection, IReadOnlyDictionary<SubsetTable, PostgresSubsetSource.TableInfo> tables,
    IReadOnlyList<NpgsqlConnection>? more = null) : ISubsetSource
{
    /// <summary>Rows of an answer read ahead of the closure before its connection waits (a few MiB of keys).</summary>
    internal const int AnswerRows = 20_000;

    // The connections no started question holds.
    readonly Channel<NpgsqlConnection> _free = Free([connection, .. more ?? []]);

    static Channel<NpgsqlConnection> Free(IEnumerable<NpgsqlConnection> connections)
    {
        var free = Channel.CreateUnbounded<NpgsqlConnection>();
        foreach (var c in connections)
        {
            free.Writer.TryWrite(c);
        }
        return free;
    }

    /// <summary>How to read one table: its quoted name, whether it is partitioned, each key column's type, and conditions.</summary>
    public sealed record TableInfo(string QuotedName, bool Partitioned, IReadOnlyList<string> KeyColumnTypes)
    {
        /// <summary>The planner's estimate of its rows (pg_class.reltuples; a partitioned table's is its partitions' sum).</summary>
        public long EstimatedRows { get; init; }

        /// <summary>
        /// The type a batch of key texts is cast to before it is compared with each key column (null: the column's
        /// own). A column a char(n) column references or is referenced by gets bpchar: its partner's text is
        /// blank-padded as COPY writes it, and bpchar compares with the column's type as the foreign key does. A column
        /// linked to one of another number type gets one that holds both's values (bigint, else numeric): a followed
        /// int column is asked for its bigint parents' keys, 3000000000 among them, which an int cast refuses.
        /// </summary>
        public IReadOnlyList<string?>? MatchTypes { get; init; }

        /// <summary>
        /// The collation each key column is compared by (null: its own): a column linked to one of a nondeterministic
        /// collation other than its own gets that one. A foreign key compares by the referenced column's collation, so a
        /// followed child 'ABC' (text COLLATE "C") references 'abc' of a case-insensitive parent, which its own collation
        /// would not find; as a parent, the coarser collation finds more rows, never fewer.
        /// </summary>
        public IReadOnlyList<string?>? MatchCollations { get; init; }

        /// <summary>SQL conditions whose truth fills the key columns at these positions with "t" (virtual links' where).</summary>
        public IReadOnlyDictionary<int, string> Conditions { get; init; } = new Dictionary<int, string>();
    }

    /// <remarks>
    /// The root's where runs on the table under its own name (a subquery, aliased t outside), so it may name its
    /// columns bare or as table.column, as in a query on that table; the planner flattens the subquery.
    /// </remarks>
    public IAsyncEnumerable<KeyRow> ReadRootAsync(SubsetStart root, CancellationToken cancellationToken) =>
        ReadAsync(connection, root.Table, "", [], root.Where, cancellationToken);

    public IAsyncEnumerable<KeyRow> ReadAllAsync(SubsetTable table, CancellationToken cancellationToken) =>
        ReadAsync(connection, table, "", [], null, cancellationToken);

    public IAsyncEnumerable<KeyRow> ReadMatchingAsync(SubsetTable table, int[] columns, IReadOnlyList<string[]> tuples, CancellationToken cancellationToken)
    {
        var (where, parameters) = Matching(table, columns, tuples);
        return ReadAsync(connection, table, where, parameters, null, cancellationToken);
    }

    public int Concurrency => 1 + (more?.Count ?? 0);

    public IAsyncEnumerable<KeyRow> StartMatching(SubsetTable table, int[] columns, IReadOnlyList<string[]> tuples, CancellationToken cancellationToken)
    {
        if (Concurrency == 1)
        {
            return ReadMatchingAsync(table, columns, tuples, cancellationToken);
        }
        var (where, parameters) = Matching(table, columns, tuples);
        return new Answer(this, table, where, parameters, cancellationToken);
    }

    (string Where, List<NpgsqlParameter> Parameters) Matching(SubsetTable table, int[] columns, IReadOnlyList<string[]> tuples)
    {
        var info = tables[table];
        var parameters = new List<NpgsqlParameter>();
        for (var i = 0; i < columns.Length; i++)
        {
            var values = new string[tuples.Count];
            for (var t = 0; t < tuples.Count; t++)
            {
                values[t] = tuples[t][i];
            }
            parameters.Add(new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        }
        string where;
        if (columns.Length == 1)
        {
            where = $" WHERE {Compared(table, info, columns[0])} = ANY($1::text[]::{MatchType(info, columns[0])}[])";
        }
        else
        {
            var names = string.Join(", ", columns.Select(c => Compared(table, info, c)));
            var arrays = string.Join(", ", columns.Select((c, i) => $"${i + 1}::text[]::{MatchType(info, c)}[]"));
            where = $" WHERE ({names}) IN (SELECT * FROM unnest({arrays}))";
        }
        return (where, parameters);
    }

    /// <summary>
    /// A question asked at once on a free connection, its rows read into a bounded queue that the closure reads later.
    /// Disposing its enumerator (read or not) stops the query and frees the connection.
    /// </summary>
    sealed class Answer : IAsyncEnumerable<KeyRow>
    {
        readonly Channel<KeyRow> _rows = Channel.CreateBounded<KeyRow>(
            new BoundedChannelOptions(AnswerRows) { SingleReader = true, SingleWriter = true });
        readonly CancellationTokenSource _stop;
        readonly Task _fill;

        public Answer(PostgresSubsetSource source, SubsetTable table, string where, List<NpgsqlParameter> parameters, CancellationToken cancellationToken)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _fill = Task.Run(() => FillAsync(source, table, where, parameters), CancellationToken.None);
        }

        async Task FillAsync(PostgresSubsetSource source, SubsetTable table, string where, List<NpgsqlParameter> parameters)
        {
            var token = _stop.Token;
            NpgsqlConnection? taken = null;
            try
            {
                taken = await source._free.Reader.ReadAsync(token).ConfigureAwait(false);
                await foreach (var row in source.ReadAsync(taken, table, where, parameters, null, token).ConfigureAwait(false))
                {
                    await _rows.Writer.WriteAsync(row, token).ConfigureAwait(false);
                }
                _rows.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _rows.Writer.TryComplete(e);
            }
            finally
            {
                if (taken is not null)
                {
                    source._free.Writer.TryWrite(taken);
                }
            }
        }

        public async IAsyncEnumerator<KeyRow> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            try
            {
                await foreach (var row in _rows.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return row;
                }
            }
            finally
            {
                await DisposeAsync().ConfigureAwait(false);
            }
        }

        bool _disposed;

        /// <summary>Read to its end, this only waits for the connection to be given back; else it stops the query first.</summary>
        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            if (!_fill.IsCompleted)
            {
                await _stop.CancelAsync().ConfigureAwait(false);
            }
            await _fill.ConfigureAwait(false);
            _stop.Dispose();
        }
    }

    static string MatchType(TableInfo info, int column) => info.MatchTypes?[column] ?? info.KeyColumnTypes[column];

    /// <summary>A key column as a lookup compares it: under its partner's nondeterministic collation, if it has one.</summary>
    static string Compared(SubsetTable table, TableInfo info, int column) =>
        "t." + Identifiers.Delimited(table.KeyColumns[column]) + (info.MatchCollations?[column] is { } collation ? " COLLATE " + collation : "");

    async IAsyncEnumerable<KeyRow> ReadAsync(NpgsqlConnection on, SubsetTable table, string where, List<NpgsqlParameter> parameters,
        string? rootWhere, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var info = tables[table];
        var select = new StringBuilder("SELECT ");
        // A table without a primary key: its rows are known by their content (nothing can reference them).
        select.Append(table.Identity.Count == 0 ? "md5(t::text)" : "NULL::text");
        for (var c = 0; c < table.KeyColumns.Count; c++)
        {
            select.Append(", ");
            if (info.Conditions.TryGetValue(c, out var condition))
            {
                select.Append("CASE WHEN (").Append(condition).Append(") THEN 't' END");
            }
            else
            {
                select.Append(KeyText("t." + Identifiers.Delimited(table.KeyColumns[c]), info.KeyColumnTypes[c]));
            }
        }
        // A partitioned table's rows are those of its partitions; a table with inheritance children keeps its own only.
        var only = info.Partitioned ? "" : "ONLY ";
        select.Append(rootWhere is null ? $" FROM {only}{info.QuotedName} t" : $" FROM (SELECT * FROM {only}{info.QuotedName} WHERE ({rootWhere})) t").Append(where);
        await using var command = new NpgsqlCommand(select.ToString(), on);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(parameter);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var identity = new string[table.Identity.Count];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var values = new string?[table.KeyColumns.Count];
            for (var c = 0; c < values.Length; c++)
            {
                // The row is in the reader's buffer (not CommandBehavior.SequentialAccess): no need to wait for it.
                values[c] = reader.IsDBNull(c + 1) ? null : reader.GetString(c + 1);
            }
            string id;
            if (identity.Length == 0)
            {
                id = reader.GetString(0);
            }
            else
            {
                for (var i = 0; i < identity.Length; i++)
                {
                    identity[i] = values[table.Identity[i]]!;
                }
                id = SubsetClosure.Identity(identity);
            }
            yield return new KeyRow(id, values);
        }
    }

    /// <summary>
    /// A key column's value as text exactly as COPY writes it (the type's output function), which is what a table
    /// copied whole is filtered by (Pipeline.KeptRows) and what a dump file's rows hold, so that live
    /// and file mode hash the same identities for percent and limit. A cast to text is not always that: char(n) loses
    /// its trailing blanks, inet gains its /32, boolean is spelled true. format('%s') calls the output function (and
    /// writes NULL as ''); types whose cast to text is their output function keep the cheaper cast. Either text casts
    /// back (<c>$1::text[]::type[]</c>) to the same value.
    /// </summary>
    internal static string KeyText(string column, string type) =>
        s_castIsOutput.Contains(type) || type.StartsWith("character varying", StringComparison.Ordinal) || type.StartsWith("numeric", StringComparison.Ordinal)
            ? column + "::text"
            : $"CASE WHEN num_nonnulls({column}) = 1 THEN format('%s', {column}) END";

    // format_type's names of common key types whose cast to text is their output function (pg_cast: castmethod 'i' or
    // binary coercible).
    static readonly HashSet<string> s_castIsOutput = new(StringComparer.Ordinal)
    {
        "smallint", "integer", "bigint", "text", "uuid", "date", "timestamp without time zone", "timestamp with time zone",
    };

    /// <summary>
    /// The subset graph of a database's tables (regular and partitioned; partitions are not tables of the graph, their
    /// rows are the partitioned table's): primary keys, declared foreign keys with their nullability (a key declared on a
    /// partition, or referencing one, as its partitioned table's; not the copies PostgreSQL makes of a partitioned
    /// table's keys), which tables each inherits from and each one's partitions. Virtual links and the plan's roles are
    /// added by the caller.
    /// </summary>
    public static async Task<(List<SubsetTable> Tables, List<SubsetLink> Links, Dictionary<SubsetTable, TableInfo> Infos)> ReadGraphAsync(
        NpgsqlConnection connection, IReadOnlyList<SchemaLink> virtualLinks, CancellationToken cancellationToken)
    {
        const string TablesSql = """
            SELECT c.oid, n.nspname, c.relname, c.relkind = 'p',
                   greatest(c.reltuples, 0)::bigint + coalesce((SELECT sum(greatest(p.reltuples, 0))::bigint FROM pg_inherits i
                       JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid AND c.relkind = 'p'), 0),
                   coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord)
                             FROM pg_constraint p CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY k(attnum, ord)
                             JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = k.attnum
                             WHERE p.conrelid = c.oid AND p.contype = 'p'), '{}'),
                   c.relispartition,
                   ARRAY(SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno)::oid[],
                   coalesce((SELECT array_agg(a.attname::text) FROM pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attnotnull AND NOT a.attisdropped), '{}')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            ORDER BY 2, 3
            """;
        const string LinksSql = """
            SELECT f.conname, f.conrelid, f.confrelid,
                   (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(f.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum),
                   (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(f.confkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum),
                   (SELECT bool_and(NOT a.attnotnull) FROM unnest(f.conkey) k(attnum)
                    JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum)
            FROM pg_constraint f
            WHERE f.contype = 'f' AND f.conparentid = 0
            ORDER BY 1, 2
            """;
        var names = new Dictionary<uint, (string Schema, string Name, bool Partitioned, string[] Key, bool Partition, uint[] Parents, string[] NotNull)>();
        var estimates = new Dictionary<uint, long>();
        await using (var command = new NpgsqlCommand(TablesSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names[reader.GetFieldValue<uint>(0)] = (reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.GetFieldValue<string[]>(5),
                    reader.GetBoolean(6), reader.GetFieldValue<uint[]>(7), reader.GetFieldValue<string[]>(8));
                estimates[reader.GetFieldValue<uint>(0)] = reader.GetInt64(4);
            }
        }
        var links = new List<(string Name, uint Child, uint Parent, string[] ChildColumns, string[] ParentColumns, bool Nullable)>();
        await using (var command = new NpgsqlCommand(LinksSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var child = reader.GetFieldValue<uint>(1);
                var parent = reader.GetFieldValue<uint>(2);
                if (names.ContainsKey(child) && names.ContainsKey(parent))
                {
                    links.Add((reader.GetString(0), child, parent, reader.GetFieldValue<string[]>(3), reader.GetFieldValue<string[]>(4), reader.GetBoolean(5)));
                }
            }
        }

        var oids = names.ToDictionary(n => $"{n.Value.Schema}.{n.Value.Name}", n => n.Key, StringComparer.Ordinal);
        var (tables, subsetLinks) = SubsetSchema.Build(
            [.. names.Values.Select(n => new SchemaTable($"{n.Schema}.{n.Name}", n.Key)
            {
                Parents = [.. n.Parents.Where(names.ContainsKey).Select(Qualified)],
                Partition = n.Partition,
                NotNullColumns = n.NotNull,
            })],
            [.. links.Select(l => new SchemaLink(l.Name, Qualified(l.Child), l.ChildColumns, Qualified(l.Parent), l.ParentColumns, l.Nullable)), .. virtualLinks]);
        string Qualified(uint oid) => $"{names[oid].Schema}.{names[oid].Name}";

        // Every column's type in one query, and the type under its domains (what it compares as: a domain over char(5)
        // pads as char(5) does); a virtual key's condition is a text pseudo-column the source computes.
        const string ColumnsSql = """
            SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod),
                   (WITH RECURSIVE d(oid, typmod, depth) AS (
                        SELECT a.atttypid, a.atttypmod, 0
                        UNION ALL
                        SELECT t.typbasetype, t.typtypmod, d.depth + 1 FROM d JOIN pg_type t ON t.oid = d.oid WHERE t.typtype = 'd')
                    SELECT format_type(d.oid, d.typmod) FROM d ORDER BY d.depth DESC LIMIT 1),
                   (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c
                    JOIN pg_namespace n ON n.oid = c.collnamespace WHERE c.oid = a.attcollation AND NOT {0})
            FROM pg_attribute a WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
            """;
        var columnTypes = new Dictionary<(uint, string), string>();
        var baseTypes = new Dictionary<(uint, string), string>();
        var nondeterministic = new Dictionary<(uint, string), string>();
        // Nondeterministic collations came in PostgreSQL 12.
        var deterministic = connection.PostgreSqlVersion.Major >= 12 ? "c.collisdeterministic" : "true";
        await using (var command = new NpgsqlCommand(string.Format(CultureInfo.InvariantCulture, ColumnsSql, deterministic), connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = names.Keys.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Oid });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                columnTypes[(reader.GetFieldValue<uint>(0), reader.GetString(1))] = reader.GetString(2);
                baseTypes[(reader.GetFieldValue<uint>(0), reader.GetString(1))] = reader.GetString(3);
                if (!reader.IsDBNull(4))
                {
                    nondeterministic[(reader.GetFieldValue<uint>(0), reader.GetString(1))] = reader.GetString(4);
                }
            }
        }
        var infos = new Dictionary<SubsetTable, TableInfo>();
        string? BaseType(SubsetTable table, int column) => baseTypes.GetValueOrDefault((oids[table.Name], table.KeyColumns[column]));
        string? Nondeterministic(SubsetTable table, int column) => nondeterministic.GetValueOrDefault((oids[table.Name], table.KeyColumns[column]));
        var partnerCollations = new Dictionary<(SubsetTable, int), SortedSet<string>>();
        void AddCollation((SubsetTable Table, int Column) to, string? collation)
        {
            if (collation is not null && collation != Nondeterministic(to.Table, to.Column))
            {
                (partnerCollations.TryGetValue(to, out var set) ? set : partnerCollations[to] = new(StringComparer.Ordinal)).Add(collation);
            }
        }
        // Each key column's partners' types (the columns a link pairs it with, either way).
        var partners = new Dictionary<(SubsetTable, int), HashSet<string?>>();
        foreach (var link in subsetLinks)
        {
            for (var i = 0; i < link.ChildColumns.Length; i++)
            {
                var child = (link.Child, link.ChildColumns[i]);
                var parent = (link.Parent, link.ParentColumns[i]);
                (partners.TryGetValue(child, out var p) ? p : partners[child] = []).Add(BaseType(link.Parent, link.ParentColumns[i]));
                (partners.TryGetValue(parent, out var c) ? c : partners[parent] = []).Add(BaseType(link.Child, link.ChildColumns[i]));
                AddCollation(child, Nondeterministic(link.Parent, link.ParentColumns[i]));
                AddCollation(parent, Nondeterministic(link.Child, link.ChildColumns[i]));
            }
        }
        string? MatchTypeOf(SubsetTable table, int column)
        {
            if (!partners.TryGetValue((table, column), out var others) || BaseType(table, column) is not { } own)
            {
                return null;
            }
            if (!IsChar(own) && others.Any(IsChar))
            {
                return "bpchar";
            }
            if (others.All(o => o == own))
            {
                return null;
            }
            string?[] all = [own, .. others];
            return all.All(IsInteger) ? "bigint" : all.All(t => IsInteger(t) || IsNumeric(t)) ? "numeric" : null;
        }
        foreach (var table in tables)
        {
            var oid = oids[table.Name];
            var (schema, name, partitioned, _, _, _, _) = names[oid];
            var conditions = subsetLinks.Where(l => l.Child == table && l.Condition is not null).ToDictionary(l => l.Condition!.Value, l => l.Where!);
            var types = table.KeyColumns.Select((column, position) => conditions.ContainsKey(position) ? "text"
                : columnTypes.TryGetValue((oid, column), out var type) ? type
                : throw new ConfigException($"subset: {table.Name} has no column {column} (named by a virtual foreign key)")).ToList();
            infos[table] = new TableInfo($"{Identifiers.Delimited(schema)}.{Identifiers.Delimited(name)}", partitioned, types)
            {
                Conditions = conditions,
                EstimatedRows = estimates[oid],
                MatchTypes = [.. table.KeyColumns.Select((_, position) => conditions.ContainsKey(position) ? null : MatchTypeOf(table, position))],
                MatchCollations = [.. table.KeyColumns.Select((_, position) =>
                    conditions.ContainsKey(position) ? null : partnerCollations.GetValueOrDefault((table, position))?.Min)],
            };
        }
        return (tables, subsetLinks, infos);
    }

    static bool IsChar(string? type) => type?.StartsWith("character(", StringComparison.Ordinal) == true;

    static bool IsInteger(string? type) => type is "smallint" or "integer" or "bigint";

    static bool IsNumeric(string? type) => type?.StartsWith("numeric", StringComparison.Ordinal) == true;
}
