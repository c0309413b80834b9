using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Replica.Bridges.S3.Tests.Servers;

/// <summary>What a finished program printed, and how it exited.</summary>
public sealed record ProcessOutput(int ExitCode, string Stdout, string Stderr)
{
    public string Describe() => $"exit code {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs helper programs (bash scripts, s3cmd, python) for the fixtures and tests.</summary>
public static class ChildProcess
{
    /// <summary>Runs <paramref name="fileName"/> with an argument list (no shell quoting) and waits; stdin is closed at once.</summary>
    public static async Task<ProcessOutput> RunAsync(string fileName, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
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
        process.StandardInput.Close();
        // Both pipes at once: a child that fills one while we wait on the other would hang.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeoutSource = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{fileName} {string.Join(' ', startInfo.ArgumentList)}' did not finish in time.");
        }
        return new ProcessOutput(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A TCP port on 127.0.0.1 that nothing listened on a moment ago (the caller retries if it is taken meanwhile).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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

    /// <summary>Keeps the last lines a long-running child printed, for error messages (moto logs every request).</summary>
    public sealed class OutputTail(int maxLines)
    {
        readonly Queue<string> _lines = new();

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_lines)
            {
                _lines.Enqueue(line);
                while (_lines.Count > maxLines)
                {
                    _lines.Dequeue();
                }
            }
        }

        public override string ToString()
        {
            lock (_lines)
            {
                var text = new StringBuilder();
                foreach (string line in _lines)
                {
                    text.AppendLine(line);
                }
                return text.ToString();
            }
        }
    }
}
