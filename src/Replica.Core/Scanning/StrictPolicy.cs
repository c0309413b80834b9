using Replica.Config;
using System.Text;
using Replica.Catalog;
using Replica.Clients;

namespace Replica.Scanning;

/// <summary>
/// Strict mode ('policy: strict' or --strict): before a dump writes anything, every column that looks like personal data
/// must have a rule. "Looks like" is decided by name and type only (<see cref="PersonalData.ByName"/>), not by sampling
/// values: the check must be quick, repeatable and must not read production rows. A column is covered by a column rule
/// of a 'transformers:' entry (transient counts: it records a review), by its table's 'data: skip' or 'drop: true', by
/// only_tables leaving the table out, or by the source's tables/schemas filters (pg_dump patterns) leaving its data out.
/// Partitions follow their partitioned table, as the dump does; a partitioned table's column is also covered when every
/// partition's is.
/// </summary>
public static class StrictPolicy
{
    /// <summary>Columns that look like personal data and have no rule, with the transformer a rule could use.</summary>
    public static List<PersonalDataFinding> Uncovered(DatabaseCatalog catalog, ReplicaConfig config) =>
        MarkCovered(catalog, PersonalDataScanner.Scan(catalog), config).FindAll(f => !f.Covered);

    /// <summary>
    /// Sets <see cref="PersonalDataFinding.Covered"/> on each of <paramref name="findings"/> (from a scan of
    /// <paramref name="catalog"/>) whose column the config has a rule for (<see cref="IsCovered"/>); returns the list.
    /// </summary>
    public static List<PersonalDataFinding> MarkCovered(DatabaseCatalog catalog, List<PersonalDataFinding> findings, ReplicaConfig config)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(findings);
        for (var i = 0; i < findings.Count; i++)
        {
            var table = catalog.Find(findings[i].Schema, findings[i].Table)!;
            findings[i] = findings[i] with { Covered = IsCovered(catalog, table, findings[i].Column, config) };
        }
        return findings;
    }

    /// <summary>Throws a <see cref="ConfigException"/> naming every column <see cref="Uncovered"/> finds.</summary>
    public static void Check(DatabaseCatalog catalog, ReplicaConfig config)
    {
        var uncovered = Uncovered(catalog, config);
        if (uncovered.Count > 0)
        {
            throw Failure(uncovered, config.File, "nothing was dumped");
        }
    }

    /// <summary>The error strict mode fails with, naming each column and the transformer a rule could use.</summary>
    public static ConfigException Failure(IReadOnlyList<PersonalDataFinding> uncovered, string? configFile, string outcome)
    {
        var message = new StringBuilder()
            .Append("strict mode: ").Append(uncovered.Count).Append(uncovered.Count == 1 ? " column looks" : " columns look")
            .Append(" like personal data and ").Append(uncovered.Count == 1 ? "has" : "have").Append(" no rule in 'transformers:'; ").Append(outcome).Append(':');
        foreach (var f in uncovered)
        {
            message.Append("\n  ").Append(f.QualifiedName).Append(" (").Append(f.Type).Append(") → ")
                .Append(f.Transformer?.Name ?? "no built-in transformer fits; choose one").Append("  [").Append(f.Reason).Append(']');
        }
        message.Append("\n`replica scan` prints rules to paste; a column reviewed and kept as is takes 'transformer: transient'.");
        return new ConfigException(message.ToString(), configFile, key: "policy");
    }

    /// <summary>Whether the config has a rule for this column of this table, or leaves the table's rows out of the dump.</summary>
    public static bool IsCovered(DatabaseCatalog catalog, CatalogTable table, string column, ReplicaConfig config)
    {
        for (var t = table; ; )
        {
            if (CoveredHere(t.Schema, t.Name, column, config))
            {
                return true;
            }
            if (t.PartitionOf is not { } parent || catalog.Find(parent.Schema, parent.Name) is not { } p)
            {
                break;
            }
            t = p;
        }
        return AllPartitionsCovered(catalog, table, column, config);
    }

    static bool AllPartitionsCovered(DatabaseCatalog catalog, CatalogTable table, string column, ReplicaConfig config)
    {
        if (table.Kind != TableKind.Partitioned)
        {
            return false;
        }
        var any = false;
        foreach (var partition in catalog.PartitionsOf(table))
        {
            any = true;
            if (!CoveredHere(partition.Schema, partition.Name, column, config) && !AllPartitionsCovered(catalog, partition, column, config))
            {
                return false;
            }
        }
        return any;
    }

    static bool CoveredHere(string schema, string table, string column, ReplicaConfig config)
    {
        if (!SourceDumpsData(config.Source, schema, table))
        {
            return true;
        }
        if (config.OnlyTables.Count > 0)
        {
            var listed = false;
            foreach (var pattern in config.OnlyTables)
            {
                listed |= pattern.Matches(schema, table);
            }
            if (!listed)
            {
                return true;
            }
        }
        foreach (var rule in config.Tables)
        {
            if (!rule.Table.Matches(schema, table))
            {
                continue;
            }
            if (rule.Action != TableAction.Transform)
            {
                return true;
            }
            foreach (var c in rule.Columns)
            {
                if (c.Column.Matches(column))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>
    /// Whether pg_dump, given the source's filters, dumps this table's rows. As in pg_dump, --table selects tables
    /// regardless of --schema/--exclude-schema (https://www.postgresql.org/docs/current/app-pgdump.html).
    /// </summary>
    internal static bool SourceDumpsData(SourceConfig source, string schema, string table)
    {
        bool included;
        if (source.Tables.Count > 0)
        {
            included = AnyTable(source.Tables, schema, table);
        }
        else
        {
            included = source.Schemas.Count == 0 || AnySchema(source.Schemas, schema);
            included &= !AnySchema(source.ExcludeSchemas, schema);
        }
        return included && !AnyTable(source.ExcludeTables, schema, table) && !AnyTable(source.ExcludeTableData, schema, table);
    }

    /// <summary>Whether exclude_tables or exclude_table_data name this table (and so its partitions and children too).</summary>
    internal static bool SourceExcludes(SourceConfig source, string schema, string table) =>
        AnyTable(source.ExcludeTables, schema, table) || AnyTable(source.ExcludeTableData, schema, table);

    static bool AnyTable(IReadOnlyList<string> patterns, string schema, string table)
    {
        foreach (var pattern in patterns)
        {
            if (PgDumpPattern.Table(pattern).Matches(schema, table))
            {
                return true;
            }
        }
        return false;
    }

    static bool AnySchema(IReadOnlyList<string> patterns, string schema)
    {
        foreach (var pattern in patterns)
        {
            if (PgDumpPattern.Schema(pattern).MatchesSchema(schema))
            {
                return true;
            }
        }
        return false;
    }
}
