using System.Globalization;
using System.Text;

namespace Replica.Scanning;

/// <summary>
/// Writes findings as the 'transformers:' section of replica.yaml (see replica.example.yaml), ready to paste: one entry
/// per table, one line per column with the reason as a comment; unique columns get 'unique: true'. Names are quoted as
/// the config reads them ("Mixed Case" stays exact), and YAML-quoted when YAML would read them otherwise.
/// </summary>
public static class ScanYaml
{
    public static string Write(IReadOnlyList<PersonalDataFinding> findings, string header)
    {
        var yaml = new StringBuilder();
        foreach (var line in header.Split('\n'))
        {
            yaml.Append("# ").Append(line).Append('\n');
        }
        yaml.Append("transformers:\n");
        var tables = new List<(string Schema, string Table)>();
        foreach (var f in findings)
        {
            if (!tables.Contains((f.Schema, f.Table)))
            {
                tables.Add((f.Schema, f.Table));
            }
        }
        foreach (var (schema, table) in tables)
        {
            var proposed = new StringBuilder();
            var unfit = new StringBuilder();
            foreach (var f in findings)
            {
                if (f.Schema != schema || f.Table != table)
                {
                    continue;
                }
                var key = Scalar(Identifiers.Quote(f.Column));
                var comment = $"{f.Reason}; {f.Type}{(f.Unique ? ", unique" : "")}, confidence {f.Confidence.ToString("0.00", CultureInfo.InvariantCulture)}";
                if (f.Transformer is not { } t)
                {
                    unfit.Append("      # ").Append(key).Append(": no built-in transformer fits ").Append(f.Type).Append("; choose one (").Append(f.Reason).Append(")\n");
                    continue;
                }
                proposed.Append("      ").Append(key).Append(": ").Append(Value(t, f.Unique)).Append("  # ").Append(comment).Append('\n');
            }
            if (proposed.Length == 0)
            {
                yaml.Append("  # ").Append(Identifiers.Quote(schema)).Append('.').Append(Identifiers.Quote(table)).Append(":\n")
                    .Append(unfit.ToString().Replace("      # ", "  #   ", StringComparison.Ordinal));
                continue;
            }
            yaml.Append("  - table: ").Append(Scalar(Identifiers.Quote(schema) + "." + Identifiers.Quote(table))).Append('\n')
                .Append("    columns:\n").Append(proposed).Append(unfit);
        }
        if (tables.Count == 0)
        {
            yaml.Append("  []  # nothing found\n");
        }
        return yaml.ToString();
    }

    static string Value(TransformerProposal t, bool unique)
    {
        if (t.Options.Count == 0 && !unique)
        {
            return Scalar(t.Name);
        }
        var value = new StringBuilder("{ transformer: ").Append(Scalar(t.Name));
        if (t.Options.Count > 0)
        {
            value.Append(", options: { ");
            var first = true;
            foreach (var (name, option) in t.Options)
            {
                value.Append(first ? "" : ", ").Append(Scalar(name)).Append(": ").Append(Scalar(Convert.ToString(option, CultureInfo.InvariantCulture) ?? ""));
                first = false;
            }
            value.Append(" }");
        }
        if (unique)
        {
            value.Append(", unique: true");
        }
        return value.Append(" }").ToString();
    }

    static readonly HashSet<string> s_yamlWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~",
    };

    /// <summary>A plain YAML scalar when it reads back as the same string, else single-quoted ('' is a quote inside).</summary>
    static string Scalar(string text)
    {
        var plain = text.Length > 0 && !s_yamlWords.Contains(text) && (char.IsAsciiLetter(text[0]) || text[0] == '_');
        foreach (var c in text)
        {
            plain &= char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.';
        }
        return plain ? text : "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
    }
}
