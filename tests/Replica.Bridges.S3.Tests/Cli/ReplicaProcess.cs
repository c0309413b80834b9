using System.Diagnostics;
using System.Text;
using Replica.Bridges.S3.Tests.Servers;

namespace Replica.Bridges.S3.Tests.Cli;

/// <summary>
/// Runs the real `replica` executable (replica.dll, copied beside the tests by the project reference to Replica.Cli) as
/// `dotnet replica.dll ...` in a working directory of its own. Secrets reach it only through the environment, the way a
/// user's config reads them (${VAR}); never through arguments, which any local user can see in the process list.
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
        using Running running = Start(arguments);
        if (stdinFile is not null)
        {
            await using FileStream input = File.OpenRead(stdinFile);
            await input.CopyToAsync(running.Stdin);
        }
        running.CloseStdin();
        return await running.WaitAsync(timeout ?? s_defaultTimeout);
    }

    /// <summary>Starts replica and leaves its standard input open for the caller (a slow producer, a process to kill).</summary>
    public Running Start(params string[] arguments)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing: the test project must reference src/Replica.Cli.");
        }
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = WorkingDirectory,
        };
        startInfo.ArgumentList.Add(Executable);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        // The standard AWS variables of whoever runs the tests must not stand in for the config's own keys.
        foreach (string inherited in (string[])["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"])
        {
            startInfo.Environment.Remove(inherited);
        }
        foreach ((string key, string value) in environment)
        {
            startInfo.Environment[key] = value;
        }
        return new Running(startInfo);
    }

    /// <summary>One replica process; disposing it kills it if it is still running.</summary>
    public sealed class Running : IDisposable
    {
        readonly Process _process;
        readonly Task<string> _stdout;
        readonly Task<string> _stderr;
        readonly string _commandLine;

        internal Running(ProcessStartInfo startInfo)
        {
            _commandLine = string.Join(' ', startInfo.ArgumentList.Skip(1));
            _process = new Process { StartInfo = startInfo };
            _process.Start();
            // Both pipes at once: a child that fills one while we wait on the other would hang.
            _stdout = _process.StandardOutput.ReadToEndAsync();
            _stderr = _process.StandardError.ReadToEndAsync();
        }

        public int Id => _process.Id;

        public bool HasExited => _process.HasExited;

        /// <summary>replica's standard input.</summary>
        public Stream Stdin => _process.StandardInput.BaseStream;

        public void CloseStdin()
        {
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // replica already exited and closed its end; its exit code and stderr say why.
            }
        }

        /// <summary>SIGKILL, as the OOM killer or a lost machine would: replica gets no chance to clean up.</summary>
        public void Kill() => _process.Kill(entireProcessTree: false);

        public async Task<ProcessOutput> WaitAsync(TimeSpan timeout)
        {
            using var timeoutSource = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(timeoutSource.Token);
            }
            catch (OperationCanceledException)
            {
                Kill();
                throw new TimeoutException($"'replica {_commandLine}' did not finish within {timeout.TotalSeconds:0} s and was killed.");
            }
            return new ProcessOutput(_process.ExitCode, await _stdout, await _stderr);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                Kill();
                _process.WaitForExit(10_000);
            }
            _process.Dispose();
        }
    }
}
