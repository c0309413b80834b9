using System.Text.RegularExpressions;
using Replica.Core.Tests.Config;

namespace Replica.Core.Tests;

/// <summary>
/// The folders of Replica.Core are the stages data flows through, and their dependencies form a star: the leaves use only
/// the root namespace (errors, shared vocabulary), the middle stages use the leaves and each other only as
/// <see cref="s_allowed"/> says, and only Pipeline sees everything. The check reads the sources: a <c>using Replica.X</c>
/// or a qualified <c>Replica.X.</c> name in a file under folder F is an edge F → X.
/// A change that needs a new edge adds it to the table in the same commit, with its reason.
/// </summary>
public sealed partial class DependencyTests
{
    const string Root = "(root)";

    /// <summary>Folder (namespace under Replica) → the folders it may use, each with its reason. The root is always allowed.</summary>
    static readonly Dictionary<string, Dictionary<string, string>> s_allowed = new(StringComparer.Ordinal)
    {
        [Root] = [],
        // Leaves (Config reaches one other leaf).
        ["Lexing"] = [],
        ["Transformers"] = [],
        ["Codecs"] = [],
        ["Bridges"] = [],
        ["Config"] = new(StringComparer.Ordinal)
        {
            // Clients is itself a leaf, so this adds no cycle.
            ["Clients"] = "a malformed connection URI fails at load, with the file:line:col where it was written",
        },
        ["Clients"] = [],
        // Middle stages.
        ["Catalog"] = new(StringComparer.Ordinal)
        {
            ["Clients"] = "reads the catalog through psql / mysql",
        },
        ["Scanning"] = new(StringComparer.Ordinal)
        {
            ["Catalog"] = "reads the source's columns",
            ["Clients"] = "samples values through the database client",
            ["Config"] = "strict mode checks the config's rules and source filters against the catalog",
            ["Lexing"] = "maps a column type to its category",
            ["Transformers"] = "proposes a transformer and checks that it fits the column",
        },
        ["Rewriting"] = new(StringComparer.Ordinal)
        {
            ["Lexing"] = "consumes the lexer's units",
            ["Transformers"] = "rewrites values with them",
            ["Scanning"] = "strict mode on dump files asks the personal-data detector about each column it sees",
        },
        ["Subsetting"] = new(StringComparer.Ordinal)
        {
            ["Transformers"] = "percent and limit sample with the keyed hash the transformers use (SipHash)",
        },
        ["Sources"] = new(StringComparer.Ordinal)
        {
            ["Clients"] = "runs pg_dump / mysqldump",
            ["Catalog"] = "asks the catalog what to dump",
            ["Subsetting"] = "reads a subset's key rows and graph from a live database (PostgresSubsetSource)",
            ["Lexing"] = "the synthetic dump writes the dialect the lexer reads (SqlDialect)",
        },
        ["Destinations"] = new(StringComparer.Ordinal)
        {
            ["Clients"] = "runs psql / mysql",
            ["Catalog"] = "inspects what a restore would replace",
            ["Lexing"] = "the restore guard reads every statement before the client does",
        },
        // Wiring: sees everything.
        ["Pipeline"] = new(StringComparer.Ordinal)
        {
            ["*"] = "wires the stages",
        },
    };

    /// <summary>Other projects of src/: what they may use of Replica.Core.</summary>
    static readonly Dictionary<string, string[]> s_projects = new(StringComparer.Ordinal)
    {
        // Config: S3BridgeFactory maps the config's bridge.s3 section to S3BridgeOptions (Core cannot see this project).
        ["Replica.Bridges.S3"] = ["Bridges", "Config"],
        ["Replica.Cli"] = ["*"],
    };

    static readonly string[] s_stages = [.. s_allowed.Keys.Where(k => k != Root)];

    [GeneratedRegex(@"\bReplica\.(?<ns>[A-Z][A-Za-z0-9]*)\b")]
    private static partial Regex NamespaceReference();

    /// <summary>A name qualified relative to the root (<c>Clients.DatabaseUri</c> inside <c>namespace Replica.Config</c>).</summary>
    [GeneratedRegex(@"(?<![\w.])(?<ns>[A-Z][A-Za-z0-9]*)\.[A-Z]")]
    private static partial Regex RelativeReference();

    [GeneratedRegex(@"^\s*namespace\s+Replica(?:\.(?<ns>[A-Za-z0-9]+))?", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    [Fact]
    public void CoreFolders_UseOnlyTheEdgesInTheTable()
    {
        string core = Path.Combine(ConfigTestHelpers.RepoRoot(), "src", "Replica.Core");
        var violations = new List<string>();
        foreach (string file in SourceFiles(core))
        {
            string folder = FolderOf(core, file);
            if (!s_allowed.TryGetValue(folder, out var allowed))
            {
                violations.Add($"{Relative(file)}: folder {folder} is not in the dependency table; add it with its edges");
                continue;
            }
            string code = WithoutComments(File.ReadAllText(file));
            CheckNamespace(file, folder, code, violations);
            foreach (string used in References(code))
            {
                if (used != folder && !allowed.ContainsKey(used) && !allowed.ContainsKey("*"))
                {
                    violations.Add($"{Relative(file)}: {folder} → {used} is not in the table");
                }
            }
        }
        Assert.True(violations.Count == 0, "Dependencies outside the table:\n" + string.Join("\n", violations.Distinct()));
    }

    [Fact]
    public void OtherProjects_UseOnlyWhatTheTableAllows()
    {
        string src = Path.Combine(ConfigTestHelpers.RepoRoot(), "src");
        var violations = new List<string>();
        foreach ((string project, string[] allowed) in s_projects)
        {
            foreach (string file in SourceFiles(Path.Combine(src, project)))
            {
                foreach (string used in References(WithoutComments(File.ReadAllText(file))))
                {
                    if (s_allowed.ContainsKey(used) && !allowed.Contains(used) && !allowed.Contains("*"))
                    {
                        violations.Add($"{Relative(file)}: {project} → {used} is not in the table");
                    }
                }
            }
        }
        Assert.True(violations.Count == 0, "Dependencies outside the table:\n" + string.Join("\n", violations.Distinct()));
    }

    /// <summary>The table itself has no cycle: a leaf cannot come to depend on a stage that depends on it.</summary>
    [Fact]
    public void Table_HasNoCycle()
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string stage in s_stages)
        {
            Visit(stage, []);
        }

        void Visit(string stage, List<string> path)
        {
            if (state.GetValueOrDefault(stage) == 2 || stage == "Pipeline")
            {
                return;
            }
            Assert.False(state.GetValueOrDefault(stage) == 1, "cycle: " + string.Join(" → ", path.Append(stage)));
            state[stage] = 1;
            path.Add(stage);
            foreach (string next in s_allowed[stage].Keys)
            {
                Visit(next, path);
            }
            path.RemoveAt(path.Count - 1);
            state[stage] = 2;
        }
    }

    /// <summary>The check finds an edge the table does not have (so the tests above can fail).</summary>
    [Fact]
    public void References_FindUsingsAndQualifiedNames_NotComments()
    {
        const string code = """
            using Replica.Transformers;
            // Replica.Bridges is only mentioned
            /* Replica.Sources too */
            namespace Replica.Lexing;
            sealed class X { Replica.Codecs.IChunkCodec? _codec; string s = "Replica.Config"; void F() => Clients.DatabaseUri.Parse(s); }
            """;
        string stripped = WithoutComments(code);
        Assert.Equal(["Clients", "Codecs", "Lexing", "Transformers"], References(stripped).Order(StringComparer.Ordinal));
    }

    static IEnumerable<string> SourceFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    static string FolderOf(string core, string file)
    {
        string relative = Path.GetRelativePath(core, file);
        int slash = relative.IndexOf(Path.DirectorySeparatorChar);
        return slash < 0 ? Root : relative[..slash];
    }

    static void CheckNamespace(string file, string folder, string code, List<string> violations)
    {
        foreach (Match match in NamespaceDeclaration().Matches(code))
        {
            string declared = match.Groups["ns"].Success ? match.Groups["ns"].Value : Root;
            if (declared != folder)
            {
                violations.Add($"{Relative(file)}: declares namespace {match.Value.Trim()} but lives in folder {folder}");
            }
        }
    }

    static HashSet<string> References(string code)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in NamespaceReference().Matches(code))
        {
            used.Add(match.Groups["ns"].Value);
        }
        foreach (Match match in RelativeReference().Matches(code))
        {
            if (s_allowed.ContainsKey(match.Groups["ns"].Value))
            {
                used.Add(match.Groups["ns"].Value);
            }
        }
        used.ExceptWith(["Core", "Cli", "Tests"]);
        return used;
    }

    /// <summary>The code without // and /* */ comments (string literals are kept as they are: they name no namespace).</summary>
    static string WithoutComments(string code)
    {
        var result = new System.Text.StringBuilder(code.Length);
        for (int i = 0; i < code.Length; i++)
        {
            if (code[i] == '/' && i + 1 < code.Length && code[i + 1] == '/')
            {
                while (i < code.Length && code[i] != '\n')
                {
                    i++;
                }
                result.Append('\n');
            }
            else if (code[i] == '/' && i + 1 < code.Length && code[i + 1] == '*')
            {
                int end = code.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? code.Length : end + 1;
            }
            else if (code[i] == '"')
            {
                // Skip a string literal so that "Replica.Config" in text is not an edge.
                int end = i + 1;
                while (end < code.Length && code[end] != '"' && code[end] != '\n')
                {
                    end += code[end] == '\\' ? 2 : 1;
                }
                i = Math.Min(end, code.Length - 1);
            }
            else
            {
                result.Append(code[i]);
            }
        }
        return result.ToString();
    }

    static string Relative(string file) => Path.GetRelativePath(ConfigTestHelpers.RepoRoot(), file);
}
