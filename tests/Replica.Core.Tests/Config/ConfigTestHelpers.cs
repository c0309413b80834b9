using Replica.Config;

namespace Replica.Core.Tests.Config;

internal static class ConfigTestHelpers
{
    public const string Secret = "test-secret-0123456789abcdef";

    /// <summary>The names the registry knows: the examples must load with exactly what `replica` accepts.</summary>
    public static readonly string[] Known = [.. Replica.Transformers.TransformerRegistry.All.Select(t => t.Name)];

    public static Func<string, string?> Env(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value);
        return name => map.TryGetValue(name, out var v) ? v : null;
    }

    /// <summary>Parses as "replica.yaml" with REPLICA_SECRET set unless <paramref name="env"/> is given.</summary>
    public static ReplicaConfig Parse(string yaml, Func<string, string?>? env = null) =>
        ConfigLoader.Parse(yaml, "replica.yaml", Known, env ?? Env(("REPLICA_SECRET", Secret)));

    public static ConfigException Fails(string yaml, Func<string, string?>? env = null) =>
        Assert.Throws<ConfigException>(() => Parse(yaml, env));

    /// <summary>The repository root (holds Replica.sln), found from the test binary's directory.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Replica.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Replica.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Rules without their Source positions, for comparing two files' meaning.</summary>
    public static string Describe(IReadOnlyList<TableRule> rules)
    {
        var lines = new List<string>();
        foreach (var rule in rules)
        {
            lines.Add($"{rule.Table} {rule.Action}");
            foreach (var column in rule.Columns)
            {
                lines.Add($"  {column.Column} -> {column.Transformer.Name} unique={column.Transformer.Unique?.ToString() ?? "-"} {DescribeValue(column.Transformer.Options)}");
            }
        }
        return string.Join("\n", lines);
    }

    static string DescribeValue(object? value) => value switch
    {
        null => "null",
        string s => "'" + s + "'",
        IReadOnlyDictionary<string, object?> d => "{" + string.Join(", ", d.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ": " + DescribeValue(p.Value))) + "}",
        IReadOnlyList<object?> l => "[" + string.Join(", ", l.Select(DescribeValue)) + "]",
        _ => "?" + value.GetType().Name,
    };
}
