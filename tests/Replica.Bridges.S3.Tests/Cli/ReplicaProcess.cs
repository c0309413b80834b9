namespace Replica.Bridges.S3.Tests.Cli;

/// <summary>
/// Runs the real `replica` executable (replica.dll, copied beside the tests by the project reference to Replica.Cli) as
/// `dotnet replica.dll ...` in a working directory of its own, through <see cref="ProcessRunner"/>. Secrets reach it only
/// through the environment, the way a user's config reads them (${VAR}); never through arguments, which any local user
/// can see in the process list.
/// </summary>
public sealed class ReplicaProcess(string workingDirectory, IReadOnlyDictionary<string, string> environment)
{
    static readonly TimeSpan s_defaultTimeout = TimeSpan.FromMinutes(4);

    static string Executable => Path.Combine(AppContext.BaseDirectory, "replica.dll");

    public string WorkingDirectory { get; } = workingDirectory;

    /// <summary>Runs replica to the end with standard input closed at once.</summary>
    public Task<ProcessOutput> RunAsync(params string[] arguments) => RunAsync(arguments, stdinFile: null);

    /// <summary>Runs replica to the end; <paramref name="stdinFile"/>, when given, is copied to its standard input.</summary>
    public async Task<ProcessOutput> RunAsync(string[] arguments, string? stdinFile, TimeSpan? timeout = null)
    {
        CheckExecutable();
        await using FileStream? input = stdinFile is null ? null : File.OpenRead(stdinFile);
        return await ProcessRunner.RunAsync("dotnet", [Executable, .. arguments], Environment(), input, throwOnError: false,
            workingDirectory: WorkingDirectory, timeout: timeout ?? s_defaultTimeout);
    }

    /// <summary>Starts replica and leaves its standard input open for the caller (a slow producer, a process to kill).</summary>
    public RunningProcess Start(params string[] arguments)
    {
        CheckExecutable();
        return ProcessRunner.Start("dotnet", [Executable, .. arguments], Environment(), WorkingDirectory);
    }

    static void CheckExecutable()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing: the test project must reference src/Replica.Cli.");
        }
    }

    Dictionary<string, string?> Environment()
    {
        // The standard AWS variables of whoever runs the tests must not stand in for the config's own keys.
        var variables = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = null,
            ["AWS_SECRET_ACCESS_KEY"] = null,
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_ENDPOINT_URL"] = null,
        };
        foreach ((string key, string value) in environment)
        {
            variables[key] = value;
        }
        return variables;
    }
}
