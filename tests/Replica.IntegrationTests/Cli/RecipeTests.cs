using System.Text.RegularExpressions;
using Replica.Config;
using Replica.Transformers;
using YamlDotNet.RepresentationModel;

namespace Replica.IntegrationTests.Cli;

/// <summary>
/// docs/recipes and the README's shell examples stay true to the CLI: every YAML file parses, the recipes' configs load
/// as Replica configs, and every `replica ...` command line in them is accepted by the CLI's own parser (the same
/// RootCommand the executable runs: options, arguments and validators).
/// </summary>
public sealed partial class RecipeTests
{
    static string Recipes => Path.Combine(TestPaths.RepositoryRoot, "docs", "recipes");

    static readonly string[] s_transformers = [.. TransformerRegistry.All.Select(t => t.Name)];

    /// <summary>What the configs read from the environment: plausible values, so that the URIs and names check out.</summary>
    static string? Environment(string name) => name switch
    {
        "SOURCE_DATABASE_URL" => "postgres://replica_ro@prod-replica.internal:5432/shop",
        "DESTINATION_DATABASE_URL" => "postgres://postgres@127.0.0.1:5432/app_test",
        "REPLICA_BUCKET" => "company-replica",
        _ => $"value-of-{name}",
    };

    public static TheoryData<string> YamlFiles() =>
        [.. Directory.EnumerateFiles(Recipes, "*.y*ml", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Recipes, f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void YamlRecipe_Parses(string file)
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Recipes, file));

        yaml.Load(reader);

        Assert.NotEmpty(yaml.Documents);
    }

    [Fact]
    public void RecipeConfigs_LoadAsReplicaConfigs()
    {
        ReplicaConfig shared = ConfigLoader.Load(Path.Combine(Recipes, "replica.yaml"), s_transformers, Environment);
        var kubernetes = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Recipes, "kubernetes-cronjob.yaml")))
        {
            kubernetes.Load(reader);
        }
        var configMap = (YamlMappingNode)kubernetes.Documents.Single(d => ((YamlMappingNode)d.RootNode)["kind"].ToString() == "ConfigMap").RootNode;
        string embedded = ((YamlMappingNode)configMap["data"])["replica.yaml"].ToString();

        ReplicaConfig inCluster = ConfigLoader.Parse(embedded, "kubernetes-cronjob.yaml (ConfigMap replica-config)", s_transformers, Environment);

        Assert.Equal("company-replica", shared.Bridge.S3!.Bucket);
        Assert.NotNull(shared.Bridge.Encryption);
        Assert.Equal("company-replica", inCluster.Bridge.S3!.Bucket);
        Assert.NotNull(inCluster.Bridge.Encryption);
    }

    /// <summary>A `replica ...` invocation: after the start of a line, a shell operator, "run:", "$ " or "ExecStart=".</summary>
    [GeneratedRegex(@"(?:^|[;&|(]\s*|run:\s*|\$\s|Exec\w+=)(?:/opt/replica/)?replica\s+(?<args>[^|;&#<>]*)")]
    private static partial Regex Invocation();

    /// <summary>Every replica command line in the recipes and in the README's ```sh blocks, with where it is.</summary>
    public static TheoryData<string, string> CommandLines()
    {
        var lines = new TheoryData<string, string>();
        IEnumerable<string> recipeFiles = Directory.EnumerateFiles(Recipes, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".md", StringComparison.Ordinal) && !f.EndsWith("Dockerfile", StringComparison.Ordinal));
        foreach (string file in recipeFiles.Order(StringComparer.Ordinal))
        {
            string[] text = File.ReadAllLines(file);
            for (int i = 0; i < text.Length; i++)
            {
                Add(lines, $"docs/recipes/{Path.GetRelativePath(Recipes, file)}:{i + 1}", text[i]);
            }
        }
        string[] readme = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        bool inShell = false;
        for (int i = 0; i < readme.Length; i++)
        {
            if (readme[i].StartsWith("```", StringComparison.Ordinal))
            {
                inShell = readme[i] is "```sh" or "```bash";
                continue;
            }
            if (inShell)
            {
                Add(lines, $"README.md:{i + 1}", readme[i]);
            }
        }
        return lines;
    }

    static void Add(TheoryData<string, string> lines, string where, string line)
    {
        string code = line.TrimStart();
        if (code.StartsWith('#'))
        {
            return;
        }
        // A comment after the command: "  # ..." (a '#' inside an argument, as in a URL fragment, has no space before it).
        int comment = code.IndexOf(" #", StringComparison.Ordinal);
        code = comment < 0 ? code : code[..comment];
        foreach (Match match in Invocation().Matches(code))
        {
            lines.Add(where, match.Groups["args"].Value.Trim());
        }
    }

    [Fact]
    public void CommandLines_AreFound()
    {
        // The recipes hold at least: the workflow's dump, delete and restore, the unit's two, cron's two; the README dozens.
        Assert.True(CommandLines().Count >= 40, $"only {CommandLines().Count} replica command lines found");
    }

    [Theory]
    [MemberData(nameof(CommandLines))]
    public void CommandLine_IsAcceptedByTheParser(string where, string arguments)
    {
        string[] args = Words(arguments);

        var result = Replica.Cli.Program.CreateRootCommand().Parse(args);

        Assert.True(result.Errors.Count == 0, $"{where}: replica {arguments}\n  {string.Join("\n  ", result.Errors.Select(e => e.Message))}");
    }

    [Theory]
    [InlineData("restore --latest --name nightly")]
    [InlineData("dump -c replica.yaml --no-such-option")]
    [InlineData("export --latest")]
    [InlineData("restor --latest")]
    public void CommandLine_TheParserRefuses_WhatTheCliRefuses(string arguments)
    {
        // The check above would pass anything if the parser did not run the commands' validators.
        Assert.NotEmpty(Replica.Cli.Program.CreateRootCommand().Parse(Words(arguments)).Errors);
    }

    [Fact]
    public void KubernetesCronJob_ArgsAreAcceptedByTheParser()
    {
        var kubernetes = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Recipes, "kubernetes-cronjob.yaml")))
        {
            kubernetes.Load(reader);
        }
        var cronJob = (YamlMappingNode)kubernetes.Documents.Single(d => ((YamlMappingNode)d.RootNode)["kind"].ToString() == "CronJob").RootNode;
        var podSpec = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)cronJob["spec"])["jobTemplate"])["spec"])["template"])["spec"];
        var container = (YamlMappingNode)((YamlSequenceNode)podSpec["containers"])[0];
        string[] args = [.. ((YamlSequenceNode)container["args"]).Select(a => a.ToString())];

        var result = Replica.Cli.Program.CreateRootCommand().Parse(args);

        Assert.Equal("dump", args[0]);
        Assert.Empty(result.Errors);
    }

    /// <summary>Shell words: split at blanks, quotes kept together and removed.</summary>
    static string[] Words(string text)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        bool any = false;
        char quote = '\0';
        foreach (char c in text)
        {
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                any = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (any || word.Length > 0)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    any = false;
                }
            }
            else
            {
                word.Append(c);
            }
        }
        if (any || word.Length > 0)
        {
            words.Add(word.ToString());
        }
        return [.. words];
    }
}
