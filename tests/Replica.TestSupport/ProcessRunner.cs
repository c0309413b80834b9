using System.Diagnostics;
using System.Text;

namespace Replica.TestSupport;

/// <summary>What a finished child process printed, and how it exited.</summary>
public sealed record ProcessOutput(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Exit code, stdout and stderr, for assertion messages.</summary>
    public string Describe() => $"exit code {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs external programs (initdb, pg_ctl, psql, pg_dump, mariadbd, moto, s3cmd, the replica CLI) with an argument list
/// (no shell quoting), captures stdout and stderr, and throws with stderr when the exit code is not zero (unless told not to).
/// </summary>
public static class ProcessRunner
{
    /// <summary>Long enough for a pg_dump of a test database on a busy 2-core machine, short enough that a hang fails the test.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Runs <paramref name="fileName"/> and waits for it. <paramref name="stdin"/>, when given, is copied to the
    /// child's standard input, which is then closed; otherwise standard input is closed at once so nothing waits for a terminal.
    /// </summary>
    public static async Task<ProcessOutput> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        Stream? stdin = null,
        bool throwOnError = true,
        string? workingDirectory = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        using RunningProcess process = Start(fileName, arguments, environment, workingDirectory);
        TimeSpan limit = timeout ?? DefaultTimeout;
        if (stdin is not null)
        {
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(limit);
            try
            {
                await stdin.CopyToAsync(process.Stdin, timeoutSource.Token).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The child exited early (e.g. psql stopped on the first error) and closed its end;
                // its exit code and stderr below say why.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw process.TimedOut(limit);
            }
        }
        process.CloseStdin();
        ProcessOutput output = await process.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        if (throwOnError && output.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{process.CommandLine}' exited with code {output.ExitCode}.\nstderr:\n{Tail(output.Stderr)}\nstdout:\n{Tail(output.Stdout)}");
        }
        return output;
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with its standard input left open for the caller (a slow producer, a process to
    /// kill). In <paramref name="environment"/>, a null value removes the variable.
    /// </summary>
    public static RunningProcess Start(string fileName, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach ((string key, string? value) in environment)
            {
                if (value is null)
                {
                    startInfo.Environment.Remove(key);
                }
                else
                {
                    startInfo.Environment[key] = value;
                }
            }
        }
        return new RunningProcess(startInfo);
    }

    /// <summary>A readable command line for error messages (arguments containing spaces are quoted).</summary>
    public static string Describe(string fileName, IEnumerable<string> arguments)
    {
        var builder = new StringBuilder(fileName);
        foreach (string argument in arguments)
        {
            builder.Append(' ');
            if (argument.Length == 0 || argument.Contains(' ', StringComparison.Ordinal) || argument.Contains('"', StringComparison.Ordinal))
            {
                builder.Append('"').Append(argument.Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                builder.Append(argument);
            }
        }
        return builder.ToString();
    }

    /// <summary>The full path of <paramref name="program"/> found on PATH, or null.</summary>
    public static string? FindOnPath(string program)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (directory.Length > 0 && File.Exists(Path.Combine(directory, program)))
            {
                return Path.Combine(directory, program);
            }
        }
        return null;
    }

    // Error messages keep the end of long outputs: that is where psql and pg_dump say what went wrong.
    private static string Tail(string text, int maxChars = 8000) =>
        text.Length <= maxChars ? text : "..." + text[^maxChars..];
}

/// <summary>A child process started by <see cref="ProcessRunner.Start"/>; disposing it kills it (and its children) if it still runs.</summary>
public sealed class RunningProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    internal RunningProcess(ProcessStartInfo startInfo)
    {
        CommandLine = ProcessRunner.Describe(startInfo.FileName, startInfo.ArgumentList);
        _process = new Process { StartInfo = startInfo };
        try
        {
            _process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or FileNotFoundException)
        {
            _process.Dispose();
            throw new InvalidOperationException($"Cannot start '{startInfo.FileName}': {ex.Message}", ex);
        }
        // Read both pipes concurrently: a child that fills one pipe while we wait on the other would deadlock.
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    /// <summary>The program and its arguments, for messages.</summary>
    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The child's standard input.</summary>
    public Stream Stdin => _process.StandardInput.BaseStream;

    public void CloseStdin()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Broken pipe to a child that has already exited; its exit code and stderr say why.
        }
    }

    /// <summary>SIGKILL to the process itself, as the OOM killer or a lost machine would: it gets no chance to clean up.</summary>
    public void Kill() => _process.Kill(entireProcessTree: false);

    /// <summary>Waits for the child to exit; after <paramref name="timeout"/> it is killed with its children and this throws.</summary>
    public async Task<ProcessOutput> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
            // A daemon the child started may still hold its pipes open: the timeout covers reading them to the end too.
            string stdout = await _stdout.WaitAsync(timeoutSource.Token).ConfigureAwait(false);
            string stderr = await _stderr.WaitAsync(timeoutSource.Token).ConfigureAwait(false);
            return new ProcessOutput(_process.ExitCode, stdout, stderr);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(timeout);
        }
        catch (OperationCanceledException)
        {
            KillTree();
            throw;
        }
    }

    /// <summary>Kills the child and its children and returns the error that says it ran out of time.</summary>
    internal TimeoutException TimedOut(TimeSpan timeout)
    {
        KillTree();
        return new TimeoutException($"'{CommandLine}' did not finish within {timeout.TotalSeconds:0} s and was killed.");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            KillTree();
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }

    private void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
