using System.Diagnostics;
using System.Text;

namespace Replica.Bridges.S3.Tests.Servers;

/// <summary>
/// moto's S3 server on 127.0.0.1 and a free port: starts in half a second, keeps everything in memory, accepts any
/// credentials and enforces conditional writes (If-Match, If-None-Match). It runs through moto_serial.py, which handles
/// one request at a time: threaded moto checks a condition and writes in two steps, so two racing writers could both
/// win, which S3 never allows (CI once lost an index entry that way).
/// The Python with moto is REPLICA_MOTO_PYTHON (.ci/run sets it), else the first of python3 on PATH and
/// ~/.pyenv/versions/*/bin/python3 that can import moto. moto missing fails the fixture.
/// </summary>
public sealed class MotoServer : S3Server, IDisposable
{
    string _python = "";
    Process? _process;
    string? _pidFile;
    readonly OutputTail _output = new(40);

    public override string Name => "moto";

    protected override int StartAttempts => 5;

    protected override async Task PrepareAsync() => _python = await FindPythonWithMotoAsync();

    protected override async Task<bool> TryStartAsync(StartAttempt attempt)
    {
        // moto logs every request: its output is kept as a tail of lines, not read to the end as ProcessRunner does.
        var startInfo = new ProcessStartInfo(_python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[Path.Combine(AppContext.BaseDirectory, "Servers", "moto_serial.py"), "127.0.0.1", attempt.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            startInfo.ArgumentList.Add(argument);
        }
        _process = new Process { StartInfo = startInfo };
        _process.OutputDataReceived += (_, e) => _output.Add(e.Data);
        _process.ErrorDataReceived += (_, e) => _output.Add(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        // .ci/run kills servers a crashed test host left behind by these files.
        _pidFile = Path.Combine(TempParent(), $"moto-{_process.Id}.pid");
        await File.WriteAllTextAsync(_pidFile, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        try
        {
            await WaitUntilServingAsync(TimeSpan.FromSeconds(30), () => !_process.HasExited, () => $"moto output:\n{_output}");
            return true;
        }
        catch (InvalidOperationException) when (!attempt.IsLast && _process.HasExited)
        {
            // Most likely the port was taken between FreePort and moto binding it: try another.
            Dispose();
            return false;
        }
    }

    public override Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Stops moto (xunit calls this after <see cref="DisposeAsync"/>, which has then done it already).</summary>
    public void Dispose()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
            _process.Dispose();
            _process = null;
        }
        if (_pidFile is not null)
        {
            File.Delete(_pidFile);
            _pidFile = null;
        }
    }

    static async Task<string> FindPythonWithMotoAsync()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("REPLICA_MOTO_PYTHON") is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }
        if (ProcessRunner.FindOnPath("python3") is { } onPath)
        {
            candidates.Add(onPath);
        }
        string pyenv = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".pyenv", "versions");
        if (Directory.Exists(pyenv))
        {
            foreach (string version in Directory.GetDirectories(pyenv).Order(StringComparer.Ordinal))
            {
                candidates.Add(Path.Combine(version, "bin", "python3"));
            }
        }

        var tried = new List<string>();
        foreach (string candidate in candidates)
        {
            if (!File.Exists(candidate))
            {
                continue;
            }
            ProcessOutput probe = await ProcessRunner.RunAsync(candidate, ["-c", "import moto.server"], throwOnError: false, timeout: TimeSpan.FromSeconds(60));
            if (probe.ExitCode == 0)
            {
                return candidate;
            }
            tried.Add(candidate);
        }
        throw new InvalidOperationException(
            "moto is not installed: no Python with moto found (tried: " + (tried.Count == 0 ? "no python3 at all" : string.Join(", ", tried))
            + "). The S3 bridge tests need moto 5 (python3 -m moto.server); set REPLICA_MOTO_PYTHON to a python3 that has it.");
    }

    /// <summary>Keeps the last lines moto printed, for error messages.</summary>
    sealed class OutputTail(int maxLines)
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
