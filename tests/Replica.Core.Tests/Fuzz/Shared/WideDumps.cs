using System.Text;

namespace Replica.Core.Tests.Fuzz;

/// <summary>
/// Dumps of wide tables (17, 33, 65 and 1,600 columns: past the rewriter's first scratch arrays, and PostgreSQL's column
/// limit) in each form pg_dump and mysqldump write, every value the same: fuzz seeds, and the fixtures of WideRowTests.
/// </summary>
public static class WideDumps
{
    public static readonly int[] Widths = [17, 33, 65, 1600];
    public const int Rows = 3;
    /// <summary>Stands for each value in <see cref="Dump"/>'s output.</summary>
    public const string Placeholder = "\u0001";

    public enum Form
    {
        PgCopy,
        PgInserts,
        PgColumnInserts,
        PgRowsPerInsert,
        MySqlExtendedInsert,
        MySqlCompleteInsert,
    }

    public static bool IsMySql(Form form) => form is Form.MySqlExtendedInsert or Form.MySqlCompleteInsert;

    /// <summary>The value as it stands in a row of the form: as it is in COPY, quoted in an INSERT.</summary>
    public static string Literal(Form form, string value) => form == Form.PgCopy ? value : $"'{value}'";

    /// <summary>A dump of one table per width, ascending, each with <see cref="Rows"/> rows of <see cref="Placeholder"/> values.</summary>
    public static string Dump(Form form, string type)
    {
        var sb = new StringBuilder();
        var mySql = IsMySql(form);
        sb.Append(mySql ? "-- MariaDB dump\n\n" : "SET standard_conforming_strings = on;\n\n");
        foreach (var width in Widths)
        {
            var names = Enumerable.Range(1, width).Select(i => mySql ? $"`c{i}`" : $"c{i}").ToList();
            var table = mySql ? $"`t{width}`" : $"public.t{width}";
            sb.Append($"CREATE TABLE {table} (\n    {string.Join($" {type},\n    ", names)} {type}\n){(mySql ? " ENGINE=InnoDB" : "")};\n\n");
            var tuple = "(" + string.Join(mySql ? "," : ", ", Enumerable.Repeat(Placeholder, width)) + ")";
            var columnList = string.Join(", ", names);
            switch (form)
            {
                case Form.PgCopy:
                    sb.Append($"COPY {table} ({columnList}) FROM stdin;\n");
                    for (var r = 0; r < Rows; r++)
                    {
                        sb.Append(string.Join('\t', Enumerable.Repeat(Placeholder, width))).Append('\n');
                    }
                    sb.Append("\\.\n\n");
                    break;
                case Form.PgInserts:
                    for (var r = 0; r < Rows; r++)
                    {
                        sb.Append($"INSERT INTO {table} VALUES {tuple};\n");
                    }
                    break;
                case Form.PgColumnInserts:
                    for (var r = 0; r < Rows; r++)
                    {
                        sb.Append($"INSERT INTO {table} ({columnList}) VALUES {tuple};\n");
                    }
                    break;
                case Form.PgRowsPerInsert:
                    sb.Append($"INSERT INTO {table} VALUES\n\t{string.Join(",\n\t", Enumerable.Repeat(tuple, Rows))};\n");
                    break;
                case Form.MySqlExtendedInsert:
                    sb.Append($"INSERT INTO {table} VALUES {string.Join(',', Enumerable.Repeat(tuple, Rows))};\n");
                    break;
                case Form.MySqlCompleteInsert:
                    sb.Append($"INSERT INTO {table} ({columnList}) VALUES {string.Join(',', Enumerable.Repeat(tuple, Rows))};\n");
                    break;
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Fuzz seeds: COPY, --inserts and --column-inserts, or MySQL's extended INSERT, with a value that needs escaping in
    /// none of them.
    /// </summary>
    public static IEnumerable<byte[]> Seeds(bool mySql) =>
        (mySql ? new[] { Form.MySqlExtendedInsert } : [Form.PgCopy, Form.PgInserts, Form.PgColumnInserts])
            .Select(f => Encoding.UTF8.GetBytes(Dump(f, "text").Replace(Placeholder, Literal(f, "Smith"), StringComparison.Ordinal)));
}
