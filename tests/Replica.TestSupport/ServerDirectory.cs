namespace Replica.TestSupport;

/// <summary>Where the test fixtures put a database server's files.</summary>
public static class ServerDirectory
{
    /// <summary>
    /// A new directory <c>PREFIX-RANDOM</c> under REPLICA_PG_TMP (else the temp directory). When the server runs as another
    /// OS user (postgres, mysql), that user must be able to reach it: a TMPDIR under /root is not reachable, so /tmp
    /// is used instead.
    /// </summary>
    public static string Create(string prefix, bool serverRunsAsOtherUser)
    {
        string parent = Environment.GetEnvironmentVariable("REPLICA_PG_TMP") is { Length: > 0 } configured
            ? configured
            : Path.GetTempPath();
        Directory.CreateDirectory(parent);
        if (serverRunsAsOtherUser && !IsTraversableByOthers(parent))
        {
            parent = "/tmp";
        }
        string root = Path.Combine(parent, prefix + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        return root;
    }

    static bool IsTraversableByOthers(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return true; // No Unix permissions; the fixtures target Linux anyway.
        }
        for (DirectoryInfo? current = new(Path.GetFullPath(directory)); current is not null; current = current.Parent)
        {
            if ((File.GetUnixFileMode(current.FullName) & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }
        return true;
    }
}
