namespace Replica.Catalog;

// The catalog queries, against pg_catalog (https://www.postgresql.org/docs/current/catalogs.html), for PostgreSQL 12+.
public static partial class PostgresCatalog
{
    /// <summary>Ordinary and partitioned tables outside the system schemas (pg_catalog, information_schema, toast, temp).</summary>
    const string UserTables = """
        WITH user_tables AS (
            SELECT c.oid
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\_toast%'
              AND n.nspname NOT LIKE 'pg\_temp%'
        )

        """;

    const string SchemasSql = """
        SELECT nspname::text FROM pg_catalog.pg_namespace
        WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%'
        ORDER BY nspname COLLATE "C"
        """;

    /// <summary>Relations other than tables that pg_dump's --exclude-table patterns match (views, sequences, foreign tables).</summary>
    const string OtherRelationsSql = """
        SELECT n.nspname::text, c.relname::text, c.relkind = 'v'
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm', 'S', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"
        """;

    const string TablesSql = UserTables + """
        SELECT c.oid, n.nspname::text, c.relname::text, c.relkind, c.reltuples,
               pg_catalog.pg_total_relation_size(c.oid), pg_catalog.pg_table_size(c.oid),
               pn.nspname::text, pc.relname::text
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
        LEFT JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
        LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE c.oid IN (SELECT oid FROM user_tables)
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"
        """;

    const string ColumnsSql = UserTables + """
        SELECT a.attrelid, a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid IN (SELECT oid FROM user_tables) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum
        """;

    /// <summary>
    /// Primary keys, unique constraints and foreign keys with their column lists in key order. A foreign key that
    /// references a partitioned table also has one hidden clone per referenced partition (conparentid pointing at a
    /// constraint of the same table); those are left out. A partition's own clone of its parent's key is kept.
    /// </summary>
    const string ConstraintsSql = UserTables + """
        SELECT con.conrelid, con.contype, con.conname::text,
               ARRAY(SELECT a.attname::text
                     FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                     ORDER BY k.ord),
               rn.nspname::text, rc.relname::text,
               ARRAY(SELECT a.attname::text
                     FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                     ORDER BY k.ord),
               con.confdeltype, con.confupdtype
        FROM pg_catalog.pg_constraint con
        LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
        LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE con.contype IN ('p', 'u', 'f')
          AND con.conrelid IN (SELECT oid FROM user_tables)
          AND NOT (con.contype = 'f' AND EXISTS (
                SELECT 1 FROM pg_catalog.pg_constraint parent
                WHERE parent.oid = con.conparentid AND parent.conrelid = con.conrelid))
        ORDER BY con.conrelid, con.conname COLLATE "C"
        """;

    /// <summary>
    /// Unique indexes that back no constraint (CREATE UNIQUE INDEX), with their key columns (not INCLUDE columns);
    /// the definition when the index has expressions.
    /// </summary>
    const string UniqueIndexesSql = UserTables + """
        SELECT i.indrelid, ic.relname::text,
               ARRAY(SELECT a.attname::text
                     FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     WHERE k.ord <= i.indnkeyatts
                     ORDER BY k.ord),
               i.indpred IS NOT NULL,
               CASE WHEN i.indexprs IS NOT NULL THEN pg_catalog.pg_get_indexdef(i.indexrelid) END
        FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indisunique
          AND i.indrelid IN (SELECT oid FROM user_tables)
          AND NOT EXISTS (
                SELECT 1 FROM pg_catalog.pg_constraint con
                WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
        ORDER BY i.indrelid, ic.relname COLLATE "C"
        """;
}
