using System.Diagnostics;
using System.Text;

namespace Replica.TestSupport.Postgres;

/// <summary>What a finished child process printed, and how it exited.</summary>
public sealed record ProcessOutput(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs external programs (initdb, pg_ctl, psql, pg_dump) with an argument list (no shell quoting),
/// captures stdout and stderr, and throws with stderr when the exit code is not zero.
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

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or FileNotFoundException)
        {
            throw new InvalidOperationException($"Cannot start '{fileName}': {ex.Message}", ex);
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout ?? DefaultTimeout);

        // Read both pipes concurrently: a child that fills one pipe while we wait on the other would deadlock.
        Task<string> stdoutTask = process.StandardOutput.ReadToEndAsync(timeoutSource.Token);
        Task<string> stderrTask = process.StandardError.ReadToEndAsync(timeoutSource.Token);
        try
        {
            if (stdin is not null)
            {
                try
                {
                    await stdin.CopyToAsync(process.StandardInput.BaseStream, timeoutSource.Token).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // The child exited early (e.g. psql stopped on the first error) and closed its end;
                    // its exit code and stderr below say why.
                }
            }
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // Same as above: broken pipe to a child that has already exited.
            }
            await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
            string stdout = await stdoutTask.ConfigureAwait(false);
            string stderr = await stderrTask.ConfigureAwait(false);
            var output = new ProcessOutput(process.ExitCode, stdout, stderr);
            if (throwOnError && output.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"'{Describe(fileName, startInfo.ArgumentList)}' exited with code {output.ExitCode}.\nstderr:\n{Tail(stderr)}\nstdout:\n{Tail(stdout)}");
            }
            return output;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            KillQuietly(process);
            throw new TimeoutException(
                $"'{Describe(fileName, startInfo.ArgumentList)}' did not finish within {(timeout ?? DefaultTimeout).TotalSeconds:0} s and was killed.");
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            throw;
        }
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

    // Error messages keep the end of long outputs: that is where psql and pg_dump say what went wrong.
    private static string Tail(string text, int maxChars = 8000) =>
        text.Length <= maxChars ? text : "..." + text[^maxChars..];

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
