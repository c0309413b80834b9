using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

/// <summary>What the rewriter knows of one table of the dump: its CREATE TABLE columns, parents, action and transformers.</summary>
internal sealed class TableState : IDisposable
{
    readonly Dictionary<string, Transformer?> _transformers = new(StringComparer.Ordinal);
    TableAction? _action;

    public TableState(TableName name, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        Name = name;
        Dialect = dialect;
    }

    public TableName Name { get; }
    public SqlDialect Dialect { get; }

    /// <summary>The name as error messages show it: "schema"."table", or `db`.`table` / `table` for MySQL.</summary>
    public string DisplayName => Dialect == SqlDialect.MySql ? MySqlDisplayName(Name) : Name.ToString();

    public static string MySqlDisplayName(TableName name) =>
        name.Schema.Length == 0 ? Backtick(name.Table) : $"{Backtick(name.Schema)}.{Backtick(name.Table)}";

    static string Backtick(string name) => "`" + name.Replace("`", "``") + "`";
    readonly List<TableState> _parents = [];
    readonly List<TableState> _children = [];

    /// <summary>
    /// The tables this one inherits from, in the order INHERITS (a, b) names them; for a partition, the one table it is a
    /// partition of. Every rule, action and definition of each of them (and of theirs) applies to this table too.
    /// </summary>
    public IReadOnlyList<TableState> Parents => _parents;

    /// <summary>Whether <see cref="Parents"/> holds the partitioned table this one is a partition of (not inheritance parents).</summary>
    public bool IsPartition { get; private set; }

    /// <summary>Where the table's full column list comes from, as its CREATE TABLE says.</summary>
    public ColumnSource ColumnSource { get; private set; }

    /// <summary>
    /// An ALTER TABLE added, dropped or renamed a column of this table after its CREATE TABLE: the CREATE TABLE's list no
    /// longer tells the order of its columns (nor of its children's).
    /// </summary>
    public bool ColumnsAltered { get; set; }

    /// <summary>
    /// A CREATE TABLE of this table: its columns and the tables it inherits from (or is a partition of), replacing what an
    /// earlier CREATE TABLE of the same name said (two dumps one after the other). What was built from the old
    /// definition (transformers, the action) is built again, here and in every table that inherits from this one.
    /// </summary>
    public void Define(List<ColumnDefinition>? columns, IReadOnlyList<TableState> parents, bool partitionOf)
    {
        // PARTITION OF parent (a WITH OPTIONS NOT NULL, ...) only adds options to the parent's columns.
        Columns = partitionOf ? null : columns;
        ColumnsAltered = false;
        SetParents(parents, partitionOf);
        ColumnSource = parents.Count == 0 ? ColumnSource.Own : partitionOf ? ColumnSource.Parent : ColumnSource.InheritedThenOwn;
        Created = true;
        Forget();
    }

    /// <summary>The columns, where they come from and whether they changed, as another rewriter's table has them (a part of a dump in parts).</summary>
    public void CopyDefinition(TableState known)
    {
        Columns = known.Columns;
        Created = known.Created;
        ColumnSource = known.ColumnSource;
        ColumnsAltered = known.ColumnsAltered;
    }

    /// <summary>Replaces the parents (ALTER TABLE ... ATTACH PARTITION, or a copy of another rewriter's table); the columns stay.</summary>
    public void SetParents(IReadOnlyList<TableState> parents, bool partition)
    {
        foreach (var old in _parents)
        {
            old._children.Remove(this);
        }
        _parents.Clear();
        foreach (var parent in parents)
        {
            if (!_parents.Contains(parent))
            {
                _parents.Add(parent);
                parent._children.Add(this);
            }
        }
        IsPartition = partition && _parents.Count > 0;
        Forget();
    }

    /// <summary>ALTER TABLE child INHERIT parent: one more parent, whose rules apply from now on; the columns stay as they are.</summary>
    public void AddParent(TableState parent)
    {
        if (!_parents.Contains(parent))
        {
            _parents.Add(parent);
            parent._children.Add(this);
        }
        Forget();
    }

    /// <summary>
    /// Drops what was worked out from this table's definition and ancestry (its action, its transformers: a new
    /// ancestor may bring a rule for a column that had none), here and in every table below it. A transformer that was in
    /// use is completed and kept until the end, when it is disposed.
    /// </summary>
    void Forget()
    {
        var seen = new HashSet<TableState>();
        var pending = new Stack<TableState>();
        pending.Push(this);
        while (pending.Count > 0)
        {
            var table = pending.Pop();
            if (!seen.Add(table))
            {
                continue;
            }
            table._action = null;
            if (table._transformers.Count > 0)
            {
                table.CompleteTransformers();
                foreach (var transformer in table._transformers.Values)
                {
                    if (transformer is not null)
                    {
                        (table._retired ??= []).Add(transformer);
                    }
                }
                table._transformers.Clear();
            }
            foreach (var child in table._children)
            {
                pending.Push(child);
            }
        }
    }

    List<Transformer>? _retired;

    /// <summary>
    /// This table, then every table it inherits from or is a partition of, each once: nearest first (its parents in the
    /// order INHERITS names them, then theirs), so a nearer table's rule comes before a farther one's.
    /// </summary>
    public List<TableState> Lineage()
    {
        var lineage = new List<TableState> { this };
        for (var i = 0; i < lineage.Count; i++)
        {
            foreach (var parent in lineage[i]._parents)
            {
                // A dump may name a table as its own ancestor (CREATE TABLE a ... INHERITS (b), then b ... INHERITS (a)):
                // each table once, so that does not loop.
                if (!lineage.Contains(parent))
                {
                    lineage.Add(parent);
                }
            }
        }
        return lineage;
    }

    /// <summary>The generation of each table of <see cref="Lineage"/>: 0 for this one, 1 for its parents, and so on (the shortest way up).</summary>
    List<(TableState Table, int Generation)> Generations()
    {
        var lineage = new List<(TableState Table, int Generation)> { (this, 0) };
        for (var i = 0; i < lineage.Count; i++)
        {
            foreach (var parent in lineage[i].Table._parents)
            {
                if (!lineage.Exists(l => l.Table == parent))
                {
                    lineage.Add((parent, lineage[i].Generation + 1));
                }
            }
        }
        return lineage;
    }

    /// <summary>The primary and foreign keys the dump declares (learned when the rewriter has a row filter).</summary>
    public List<TableKey> Keys { get; } = [];
    public List<ColumnDefinition>? Columns { get; set; }
    public bool Created { get; set; }
    public long Rows { get; set; }

    List<string>? _seenColumns;

    /// <summary>Every column this table was seen with: in its CREATE TABLE, COPY headers and INSERT column lists.</summary>
    public IReadOnlyList<string> SeenColumns => _seenColumns ?? [];

    /// <summary>Strict mode looked at this table's columns already.</summary>
    public bool StrictChecked { get; set; }

    public void NoteColumns(IEnumerable<string> columns)
    {
        _seenColumns ??= [];
        foreach (var column in columns)
        {
            if (!_seenColumns.Exists(c => SameColumn(c, column)))
            {
                _seenColumns.Add(column);
            }
        }
    }

    bool SameColumn(string a, string b) =>
        string.Equals(a, b, Dialect == SqlDialect.MySql ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>Whether the table, or a table it is a partition or child of, has a column the pattern matches.</summary>
    public bool HasColumn(NamePattern pattern)
    {
        foreach (var t in Lineage())
        {
            foreach (var column in t.SeenColumns)
            {
                if (Dialect == SqlDialect.MySql ? RewriteRules.MySqlNameMatches(pattern, column) : pattern.Matches(column))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>The column's CREATE TABLE definition, from this table or the nearest one it is a partition or child of.</summary>
    public ColumnDefinition? Definition(string column)
    {
        foreach (var t in Lineage())
        {
            if (t.Columns?.Find(c => SameColumn(c.Name, column)) is { } definition)
            {
                return definition;
            }
        }
        return null;
    }

    public TableAction Action(RewriteRules rules)
    {
        if (_action is { } known)
        {
            return known;
        }
        var action = ActionOf(rules);
        _action = action;
        return action;
    }

    /// <summary>
    /// The action as far as the table's ancestry is known now, not cached: a partition or child table follows the rules of
    /// every table it inherits from, so masking a partitioned table masks every partition, and a table dropped or
    /// skipped takes its children's rows along, whichever of their parents it is.
    /// </summary>
    public TableAction ActionOf(RewriteRules rules)
    {
        var action = TableAction.Transform;
        foreach (var t in Lineage())
        {
            var own = rules.ActionFor(t.Name, Dialect);
            if (own == TableAction.Drop)
            {
                return TableAction.Drop;
            }
            if (own == TableAction.SkipData)
            {
                action = TableAction.SkipData;
            }
        }
        return action;
    }

    /// <summary>Whether a column rule could apply to this table or to a table it inherits from (before its columns are known).</summary>
    public bool HasColumnRules(RewriteRules rules)
    {
        foreach (var t in Lineage())
        {
            if (rules.HasColumnRules(t.Name, Dialect))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The transformer of a column, created once per table and column; null when no rule matches it.</summary>
    public Transformer? TransformerFor(string column, RewriteRules rules)
    {
        if (_transformers.TryGetValue(column, out var existing))
        {
            return existing;
        }
        var transformer = NewTransformer(column, rules);
        _transformers[column] = transformer;
        return transformer;
    }

    /// <summary>A new transformer for a column (the caller disposes it), as <see cref="TransformerFor"/> builds: a masking lane's own.</summary>
    public Transformer? NewTransformer(string column, RewriteRules rules)
    {
        var spec = SpecFor(column, rules);
        if (spec is null)
        {
            return null;
        }
        var transformer = rules.Factory(spec, DescribeColumn(column, rules));
        foreach (var place in transformer.Places)
        {
            (_places ??= []).Add((spec, place));
        }
        return transformer;
    }

    List<(TransformerConfig Rule, TransformerPlace Place)>? _places;

    /// <summary>
    /// The places (json paths) of every transformer built for this table, the rewriter's and its masking lanes', with the
    /// configured transformer they came from: RuleChecker sums them over the dump once every value has been given.
    /// </summary>
    public IReadOnlyList<(TransformerConfig Rule, TransformerPlace Place)> Places => _places ?? [];

    /// <summary>A dump in parts: takes in the places of a part's copy of this table (<see cref="DumpRewriter.CompleteParts"/>).</summary>
    public void AddPlaces(TableState part)
    {
        if (part._places is { } places)
        {
            (_places ??= []).AddRange(places);
        }
    }

    /// <summary>
    /// The rule for a column: this table's own, else the nearest ancestor's (a parent's before a grandparent's). With
    /// several parents (INHERITS (a, b)) a column may have a rule in more than one of them at the same distance: if they
    /// agree, that one; if they differ (email in a, hash or transient in b), neither is more right than the other and
    /// taking the first named could keep what the other meant to mask, so it is a config error that asks for a rule on
    /// the child itself, which then wins.
    /// </summary>
    public TransformerConfig? SpecFor(string column, RewriteRules rules)
    {
        if (rules.SpecFor(Name, column, Dialect) is { } own)
        {
            return own;
        }
        if (_parents.Count == 0)
        {
            return null;
        }
        TransformerConfig? found = null;
        TableState? foundIn = null;
        var foundGeneration = 0;
        foreach (var (t, generation) in Generations())
        {
            if (found is not null && generation > foundGeneration)
            {
                break;
            }
            if (rules.SpecFor(t.Name, column, Dialect) is not { } spec)
            {
                continue;
            }
            if (found is null)
            {
                (found, foundIn, foundGeneration) = (spec, t, generation);
            }
            else if (!SameSpec(found, spec))
            {
                RewriteThrow.AmbiguousInheritedRule(DisplayName, column, foundIn!.DisplayName, found.Name, t.DisplayName, spec.Name);
            }
        }
        return found;
    }

    static bool SameSpec(TransformerConfig a, TransformerConfig b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }
        if (a.Name != b.Name || a.Options.Count != b.Options.Count)
        {
            return false;
        }
        foreach (var (key, value) in a.Options)
        {
            if (!b.Options.TryGetValue(key, out var other) || !Equals(value?.ToString(), other?.ToString()))
            {
                return false;
            }
        }
        return true;
    }

    ColumnInfo DescribeColumn(string column, RewriteRules rules)
    {
        var definition = Definition(column);
        var markedUnique = Lineage().Exists(t => rules.IsMarkedUnique(t.Name, column));
        return new ColumnInfo(Name.Schema, Name.Table, column)
        {
            TypeName = definition?.TypeName,
            Category = definition?.Category ?? TypeCategory.Unknown,
            MaxLength = definition?.MaxLength,
            Unique = (definition?.Unique ?? false) || markedUnique,
        };
    }

    /// <summary>
    /// The table's columns in the order PostgreSQL gives them when the dump's CREATE TABLEs are run: its own list; for a
    /// partition written PARTITION OF without one, its partitioned table's; for an inheritance child, each parent's
    /// columns in INHERITS order, a name met again merged into the first (as PostgreSQL merges them), then its own
    /// columns not inherited. Null when a list it depends on is unknown (a parent without a CREATE TABLE in the dump).
    /// </summary>
    public List<string>? ColumnNames() => ColumnNames([]);

    List<string>? ColumnNames(HashSet<TableState> visiting)
    {
        if (!visiting.Add(this))
        {
            return null; // a table among its own ancestors: no list
        }
        try
        {
            switch (ColumnSource)
            {
                case ColumnSource.Parent:
                    return _parents.Count == 1 ? _parents[0].ColumnNames(visiting) : null;
                case ColumnSource.InheritedThenOwn:
                {
                    var names = new List<string>();
                    foreach (var parent in _parents)
                    {
                        if (parent.ColumnNames(visiting) is not { } inherited)
                        {
                            return null;
                        }
                        AddMerged(names, inherited);
                    }
                    AddMerged(names, Columns?.ConvertAll(c => c.Name) ?? []);
                    return names;
                }
                default:
                    return Columns?.ConvertAll(c => c.Name);
            }
        }
        finally
        {
            visiting.Remove(this);
        }
    }

    void AddMerged(List<string> names, List<string> more)
    {
        foreach (var name in more)
        {
            if (!names.Exists(n => SameColumn(n, name)))
            {
                names.Add(name);
            }
        }
    }

    /// <summary>
    /// Null when <see cref="ColumnNames"/> is surely the order in which the table's rows give their values (an INSERT or
    /// COPY without a column list); else why not. Not for an inheritance child with columns of its own or several
    /// parents: PostgreSQL appends a column added to a parent later (ALTER TABLE parent ADD COLUMN) after the child's
    /// own ones and after what came from the other parents, while pg_dump's CREATE TABLE child (own) INHERITS (a, b) puts
    /// every inherited column first, and pg_dump --inserts writes the values in the source table's order (its
    /// documentation warns that "the restore might fail altogether if you have rearranged column order"; a masked column
    /// would be the wrong one). A child with no columns of its own and one parent, or a partition, has its parent's
    /// order. Not either once an ALTER TABLE changed the columns of the table or of a table above it.
    /// </summary>
    public string? WhyColumnOrderUnknown()
    {
        foreach (var t in Lineage())
        {
            if (t.ColumnsAltered)
            {
                return $"an ALTER TABLE added, dropped or renamed columns of {t.DisplayName} after its CREATE TABLE";
            }
            if (t.ColumnSource == ColumnSource.InheritedThenOwn && t._parents.Count > 1)
            {
                return $"{t.DisplayName} inherits from several tables, and PostgreSQL puts a column added later to one of them after the others' columns, not where CREATE TABLE ... INHERITS would";
            }
            if (t.ColumnSource == ColumnSource.InheritedThenOwn && t.Columns is { Count: > 0 })
            {
                return $"{t.DisplayName} inherits from {t._parents[0].DisplayName} and has columns of its own, and PostgreSQL puts a column added later to a parent after them, not before them as CREATE TABLE ... INHERITS does";
            }
        }
        return null;
    }

    /// <summary>The dump ended: each transformer checks its column (<see cref="Transformer.Complete"/>).</summary>
    public void CompleteTransformers()
    {
        foreach (var transformer in _transformers.Values)
        {
            transformer?.Complete();
        }
    }

    public void Dispose()
    {
        foreach (var transformer in _transformers.Values)
        {
            transformer?.Dispose();
        }
        _transformers.Clear();
        foreach (var transformer in _retired ?? [])
        {
            transformer.Dispose();
        }
        _retired = null;
    }
}

/// <summary>Where a table's full column list comes from.</summary>
internal enum ColumnSource
{
    /// <summary>Its own CREATE TABLE list (also a partition attached later with ALTER TABLE ... ATTACH PARTITION).</summary>
    Own,
    /// <summary>CREATE TABLE ... PARTITION OF parent: the partitioned table's columns.</summary>
    Parent,
    /// <summary>CREATE TABLE ... (own) INHERITS (a, b): the parents' columns, then its own.</summary>
    InheritedThenOwn,
}
