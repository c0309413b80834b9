using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;

namespace Replica.Transformers;

/// <summary>
/// custom: an external command started once per column that answers one line per value. Values go to its stdin one per
/// line in COPY text escaping (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2: \\, \n, \r, \t,
/// and \N for NULL) so they may hold newlines; its answer line uses the same escaping. The exchange is in lockstep, so
/// the command must flush each line (sed -u, stdbuf -oL, Python's flush=True).
/// </summary>
internal sealed class CustomTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("custom",
            "Pipes each value through an external command: one COPY-escaped line in, one line out (\\N is NULL). " +
            "The command runs once per column and must flush every line; a line more or fewer than it was given, or an answer longer " +
            "than limits.max_row_size, fails the dump. Its environment holds only PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, " +
            "LC_*, TZ and TMPDIR (none of replica's secrets); give it more as arguments, e.g. [env, PYTHONPATH=lib, python3, -u, mask.py].",
            [
                new TransformerOption("command", "The executable and its arguments: a list, or a string split on spaces.", null),
                new TransformerOption("timeout", "Seconds to wait for one answer before giving up.", "30"),
            ],
            "transformer: custom\noptions:\n  command: [sed, -u, 's/.*/masked/']"),
        Build);

    const int StderrTailLines = 20;

    /// <summary>
    /// The commands running now. One still running when replica exits (Ctrl+C in the middle of a table, an exit that
    /// comes before Dispose) is killed with its children, not left as an orphan. Transformers is a leaf, so it keeps its
    /// own list rather than Clients.ExitCleanup's (which does the same for pg_dump and the database clients).
    /// </summary>
    static readonly HashSet<Process> s_running = KilledAtExit();

    static HashSet<Process> KilledAtExit()
    {
        AppDomain.CurrentDomain.ProcessExit += static (_, _) => KillRunning(static _ => true);
        return [];
    }

    /// <summary>Kills the running commands that <paramref name="selected"/> picks (at exit: all of them).</summary>
    internal static void KillRunning(Predicate<Process> selected)
    {
        Process[] processes;
        lock (s_running)
        {
            processes = [.. s_running.Where(p => selected(p))];
        }
        foreach (var process in processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or Win32Exception)
            {
                // gone already
            }
        }
    }

    readonly IReadOnlyList<string> _command;
    readonly string _commandName;
    readonly string _column;
    readonly TimeSpan _timeout;
    readonly int _maxAnswerBytes;
    readonly TextShaper? _shaper;
    readonly Timer _watchdog;
    readonly Queue<string> _stderrTail = new();
    // Set when the current process's stderr reaches its end (every line it wrote is in the tail).
    ManualResetEventSlim _stderrClosed = new(false);
    readonly ByteBuilder _request = new();
    readonly ByteBuilder _answer = new();
    byte[] _readBuffer = new byte[16 * 1024];
    int _readStart;
    int _readEnd;
    volatile bool _timedOut;
    bool _failed;

    // The running command; null between columns (after Complete) until the next value starts it again.
    Process? _process;
    Stream? _stdin;
    Stream? _stdout;
    CancellationTokenSource? _readCancel;
    long _values;

    CustomTransformer(IReadOnlyList<string> command, TimeSpan timeout, long maxAnswerBytes, TextShaper? shaper, string column)
    {
        _command = command;
        _commandName = command[0];
        _column = column;
        _timeout = timeout;
        _maxAnswerBytes = (int)Math.Min(maxAnswerBytes, Array.MaxLength - 2);
        _shaper = shaper;
        _watchdog = new Timer(OnTimeout, null, Timeout.Infinite, Timeout.Infinite);
        Start();
    }

    void Start()
    {
        var start = new ProcessStartInfo(_command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        for (int i = 1; i < _command.Count; i++)
        {
            start.ArgumentList.Add(_command[i]);
        }
        // Only the basics (PATH, HOME, LANG, LC_*, TMPDIR ...): replica's environment holds the secrets the config read
        // (the bridge passphrase, database passwords, the masking secret), and a command that masks values needs none.
        ChildEnvironment.ForCommand(start.Environment);

        var process = new Process { StartInfo = start };
        // Not disposed: the stderr reader of a stopped process may still set its event late. (A ManualResetEventSlim only
        // holds a kernel handle when its WaitHandle is asked for, which never happens here.)
        var stderrClosed = new ManualResetEventSlim(false);
        _stderrClosed = stderrClosed;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                stderrClosed.Set();
            }
            else
            {
                OnStderr(e.Data);
            }
        };
        process.Start();
        // Killed should replica exit while it runs (Ctrl+C in the middle of a table).
        lock (s_running)
        {
            s_running.Add(process);
        }
        process.BeginErrorReadLine();
        _process = process;
        _stdin = process.StandardInput.BaseStream;
        _stdout = process.StandardOutput.BaseStream;
        _readCancel = new CancellationTokenSource();
        _readStart = 0;
        _readEnd = 0;
        _values = 0;
        _timedOut = false;
    }

    static CustomTransformer? Build(TransformerSetup setup)
    {
        var command = setup.GetWords("command");
        if (command is null || command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
        {
            throw setup.OptionError("command", "is required: the executable to run and its arguments");
        }

        int timeoutSeconds = setup.GetInt("timeout", 30, 1, 86_400);
        if (ResolveExecutable(command[0]) is null)
        {
            throw setup.OptionError("command", $"runs '{command[0]}', which is not an executable file and not found on PATH");
        }

        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        var shaper = TextShaper.ForFreeFormOutput(setup, "a command's answers can repeat");

        try
        {
            return new CustomTransformer(command, TimeSpan.FromSeconds(timeoutSeconds), setup.Env.MaxValueBytes, shaper, column.QualifiedName);
        }
        catch (Win32Exception e)
        {
            throw setup.OptionError("command", $"could not start '{command[0]}': {e.Message}");
        }
    }

    static string? ResolveExecutable(string name)
    {
        if (name.Contains('/') || name.Contains(Path.DirectorySeparatorChar))
        {
            return File.Exists(name) ? name : null;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate) || (OperatingSystem.IsWindows() && File.Exists(candidate + ".exe")))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>One process per column answers its values in order.</summary>
    public override bool CanRunInParallel => false;

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (_failed)
        {
            throw Failure("failed earlier");
        }

        if (_process is null)
        {
            try
            {
                Start();
            }
            catch (Win32Exception e)
            {
                _failed = true;
                throw new TransformerException($"Column {_column}: custom command '{_commandName}' could not be started again: {e.Message}");
            }
        }

        _request.Clear();
        if (isNull)
        {
            _request.Append("\\N"u8);
        }
        else
        {
            AppendEscaped(value, _request);
        }

        _request.Append((byte)'\n');

        ReadOnlySpan<byte> line;
        _watchdog.Change(_timeout, Timeout.InfiniteTimeSpan);
        try
        {
            _stdin!.Write(_request.WrittenSpan);
            _stdin.Flush();
            line = ReadLine();
        }
        catch (IOException)
        {
            _failed = true;
            throw Failure(_timedOut ? $"gave no answer within {_timeout.TotalSeconds:0} s" : "exited or stopped reading its input");
        }
        finally
        {
            _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _values++;
        if (_readEnd > _readStart)
        {
            // In lockstep the command has been given one value and owes one line: anything after it answers no value,
            // and taking it as the next answer would shift every later value onto the wrong row.
            _failed = true;
            throw Failure($"printed more than one line for value number {_values} (one line in, one line out)");
        }

        if (line.Length == 2 && line[0] == '\\' && line[1] == 'N')
        {
            return TransformResult.Null;
        }

        _answer.Clear();
        AppendUnescaped(line, _answer);
        if (_shaper is null)
        {
            _answer.CopyTo(output);
            return TransformResult.Value;
        }

        return _shaper.Write(_answer.WrittenSpan, value, output);
    }

    /// <summary>
    /// Ends the command's input and reads what it prints until it exits: every line it owed has been read, so anything
    /// more is a line for no value (the answers were shifted), and the column fails. A command that does not exit within
    /// the timeout is stopped.
    /// </summary>
    public override void Complete()
    {
        if (_process is null || _failed)
        {
            return;
        }

        long extraBytes = _readEnd - _readStart;
        long extraLines = _readBuffer.AsSpan(_readStart, _readEnd - _readStart).Count((byte)'\n');
        _readStart = 0;
        _readEnd = 0;
        _watchdog.Change(_timeout, Timeout.InfiniteTimeSpan);
        try
        {
            _stdin!.Dispose();
            while (extraBytes <= _maxAnswerBytes)
            {
                int read = Read(0, _readBuffer.Length);
                if (read == 0)
                {
                    break;
                }

                extraBytes += read;
                extraLines += _readBuffer.AsSpan(0, read).Count((byte)'\n');
            }
        }
        catch (IOException)
        {
            // gone, or stopped at the timeout: what it printed before still counts
        }
        finally
        {
            _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        if (extraBytes > 0)
        {
            _failed = true;
            var lines = extraLines == 0 ? "part of a line" : extraLines == 1 ? "1 line" : $"{extraLines} lines";
            throw Failure($"printed {lines} more than the {_values} values it was given (one line in, one line out): its answers do not match their rows");
        }

        StopProcess();
    }

    void StopProcess()
    {
        var process = _process!;
        try
        {
            _stdin!.Dispose(); // end of input: a well-behaved command exits now
            if (!process.WaitForExit(5000))
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(1000);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or Win32Exception)
        {
            // the command is gone already; nothing left to clean up
        }

        lock (s_running)
        {
            s_running.Remove(process);
        }
        process.Dispose();
        _readCancel!.Dispose();
        _process = null;
        _stdin = null;
        _stdout = null;
        _readCancel = null;
    }

    /// <summary>The next answer line without its '\n' (and a raw '\r' before it); valid until the next read.</summary>
    ReadOnlySpan<byte> ReadLine()
    {
        int searched = _readStart;
        while (true)
        {
            int newline = _readBuffer.AsSpan(searched, _readEnd - searched).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                int lineStart = _readStart;
                int lineEnd = searched + newline;
                _readStart = lineEnd + 1;
                if (lineEnd > lineStart && _readBuffer[lineEnd - 1] == '\r')
                {
                    lineEnd--;
                }

                return _readBuffer.AsSpan(lineStart, lineEnd - lineStart);
            }

            if (_readEnd - _readStart > _maxAnswerBytes)
            {
                _failed = true;
                throw Failure($"printed an answer longer than {_maxAnswerBytes} bytes (limits.max_row_size) without a line end");
            }

            searched = _readEnd;
            if (_readStart > 0)
            {
                // Move the partial line to the front before reading more.
                Buffer.BlockCopy(_readBuffer, _readStart, _readBuffer, 0, _readEnd - _readStart);
                searched -= _readStart;
                _readEnd -= _readStart;
                _readStart = 0;
            }

            if (_readEnd == _readBuffer.Length)
            {
                Array.Resize(ref _readBuffer, (int)Math.Min(_readBuffer.Length * 2L, _maxAnswerBytes + 2L));
            }

            int read = Read(_readEnd, _readBuffer.Length - _readEnd);
            if (read == 0)
            {
                _failed = true;
                throw Failure(_timedOut
                    ? $"gave no answer within {_timeout.TotalSeconds:0} s (does it flush each line? try sed -u or stdbuf -oL)"
                    : _readEnd > _readStart ? "ended in the middle of an answer line" : "ended before answering every value");
            }

            _readEnd += read;
        }
    }

    /// <summary>
    /// Reads the command's output until the timeout: the watchdog cancels the read, so neither a silent command nor a
    /// process that escaped the kill and still holds the pipe open can block the dump past it. 0 is the end of output
    /// (or the timeout).
    /// </summary>
    int Read(int offset, int count)
    {
        try
        {
            var read = _stdout!.ReadAsync(_readBuffer.AsMemory(offset, count), _readCancel!.Token);
            return read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
    }

    static void AppendEscaped(ReadOnlySpan<byte> value, ByteBuilder builder)
    {
        foreach (byte b in value)
        {
            switch (b)
            {
                case (byte)'\\':
                    builder.Append("\\\\"u8);
                    break;
                case (byte)'\n':
                    builder.Append("\\n"u8);
                    break;
                case (byte)'\r':
                    builder.Append("\\r"u8);
                    break;
                case (byte)'\t':
                    builder.Append("\\t"u8);
                    break;
                default:
                    builder.Append(b);
                    break;
            }
        }
    }

    static void AppendUnescaped(ReadOnlySpan<byte> line, ByteBuilder builder)
    {
        for (int i = 0; i < line.Length; i++)
        {
            byte b = line[i];
            if (b != '\\' || i + 1 == line.Length)
            {
                builder.Append(b);
                continue;
            }

            byte next = line[++i];
            builder.Append(next switch
            {
                (byte)'n' => (byte)'\n',
                (byte)'r' => (byte)'\r',
                (byte)'t' => (byte)'\t',
                (byte)'b' => (byte)'\b',
                (byte)'f' => (byte)'\f',
                (byte)'v' => (byte)'\v',
                _ => next, // \\ and any other escaped character stand for themselves, as in COPY
            });
        }
    }

    TransformerException Failure(string what)
    {
        string exit = "";
        try
        {
            // Bounded waits only: a process that left the tree may hold stderr open, and waiting for its end would hang.
            if (_process is { } process && process.WaitForExit(1000))
            {
                // WaitForExit with a timeout does not wait for the stderr reader: wait (bounded) for its last line.
                _stderrClosed.Wait(1000);
                exit = $" (exit code {process.ExitCode})";
            }
        }
        catch (InvalidOperationException)
        {
        }

        string tail;
        lock (_stderrTail)
        {
            tail = _stderrTail.Count == 0 ? "(nothing on stderr)" : string.Join(" | ", _stderrTail);
        }

        return new TransformerException($"Column {_column}: custom command '{_commandName}' {what}{exit}; stderr: {tail}");
    }

    void OnStderr(string line)
    {
        lock (_stderrTail)
        {
            _stderrTail.Enqueue(line);
            while (_stderrTail.Count > StderrTailLines)
            {
                _stderrTail.Dequeue();
            }
        }
    }

    void OnTimeout(object? state)
    {
        _timedOut = true;
        try
        {
            _readCancel?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the command was stopped meanwhile
        }

        try
        {
            _process?.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public override void Dispose()
    {
        _watchdog.Dispose();
        if (_process is not null)
        {
            StopProcess();
        }

        base.Dispose();
    }
}
