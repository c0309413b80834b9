namespace Replica.IntegrationTests;

/// <summary>Locates files of the repository (fixtures, examples) from the test assembly's output directory.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> s_repositoryRoot = new(FindRepositoryRoot);

    /// <summary>The directory holding Replica.sln.</summary>
    public static string RepositoryRoot => s_repositoryRoot.Value;

    /// <summary>A file in tests/Replica.IntegrationTests/Fixtures, e.g. <c>Fixture("awkward.sql")</c>.</summary>
    public static string Fixture(string name) => Existing(Path.Combine(RepositoryRoot, "tests", "Replica.IntegrationTests", "Fixtures", name));

    /// <summary>A file in examples/, e.g. <c>Example("sample-dump.sql")</c>.</summary>
    public static string Example(string name) => Existing(Path.Combine(RepositoryRoot, "examples", name));

    /// <summary>A new empty directory under the system temp directory; the caller deletes it.</summary>
    public static string CreateTempDirectory(string prefix = "replica-test-")
    {
        string path = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"Test data file not found: {path}", path);

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? current = new(AppContext.BaseDirectory); current is not null; current = current.Parent)
        {
            if (File.Exists(Path.Combine(current.FullName, "Replica.sln")))
            {
                return current.FullName;
            }
        }
        throw new InvalidOperationException($"Replica.sln not found above {AppContext.BaseDirectory}; run the tests from a clone of the repository.");
    }
}
