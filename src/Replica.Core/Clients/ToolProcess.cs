using System.Diagnostics;
using System.Text;

namespace Replica.Clients;

/// <summary>
/// A database client tool run as a child process (pg_dump, psql, mysqldump, mysql). Connection details and passwords
/// reach it through its environment, never its arguments. Its stderr is drained on a task and the last 16 KiB are kept
/// for the error message; a tool that fails is reported as a <see cref="DatabaseException"/> with that text, scrubbed of
/// the password and of the other secrets it was given (values of ${VAR} in the SQL it runs). Disposing kills a tool that is still running, so a failed or cancelled job never leaves one behind.
/// </summary>
public sealed class ToolProcess : IAsyncDisposable
{
    const int StderrKeepChars = 16 << 10;

    readonly Process _process;
    readonly string _name;
    readonly string? _context;
    readonly string[] _secrets;
    readonly Task _stderr;
    readonly StringBuilder _stderrTail = new();
    readonly Action<string>? _onStderrLine;

    readonly Func<string, string?>? _explain;

    ToolProcess(Process process, string name, IReadOnlyList<string?>? secrets, Action<string>? onStderrLine, string? context,
        Func<string, string?>? explain)
    {
        _process = process;
        _name = name;
        _context = context;
        _explain = explain;
        // Longest first: a secret inside another is then scrubbed with it, not left in pieces.
        _secrets = [.. (secrets ?? []).OfType<string>().Where(secret => secret.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(secret => secret.Length)];
        _onStderrLine = onStderrLine;
        _stderr = Task.Run(DrainStderrAsync);
    }

    /// <summary>The tool's process id.</summary>
    public int Id => _process.Id;

    /// <summary>The tool's name for messages ("pg_dump").</summary>
    public string Name => _name;

    /// <summary>
    /// Starts <paramref name="path"/> with <paramref name="arguments"/> (passed as a list, no shell) and the given
    /// environment variables added to ours, less what <paramref name="childEnvironment"/> holds back (replica's own
    /// variables and the config's ${VAR}s: the tool gets its password from <paramref name="environment"/> or an option
    /// file, never from a variable it happens to inherit). <paramref name="secrets"/> (the password, values of ${VAR} in the SQL it is
    /// given; nulls are skipped) are scrubbed from any text shown;
    /// <paramref name="context"/> starts every error message ("restoring into database shop_dev on db:5432");
    /// <paramref name="explain"/> may add a line saying what the tool's error text means.
    /// </summary>
    public static ToolProcess Start(string path, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment,
        ChildEnvironment childEnvironment, IReadOnlyList<string?>? secrets = null, bool redirectInput = false, Action<string>? onStderrLine = null, string? context = null,
        Func<string, string?>? explain = null)
    {
        var name = Path.GetFileName(path);
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = null,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        ArgumentNullException.ThrowIfNull(childEnvironment);
        childEnvironment.ForTool(start.Environment);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new DatabaseException($"{(context is null ? "" : context + ": ")}cannot run {path}: {e.Message}", e);
        }
        ExitCleanup.Track(process);
        return new ToolProcess(process, name, secrets, onStderrLine, context, explain);
    }

    /// <summary>The tool's stdout. On its end of file the exit code is checked: a failed tool throws from Read.</summary>
    public Stream Output => field ??= new OutputStream(this, _process.StandardOutput.BaseStream);

    /// <summary>The tool's stdin. A write the tool no longer reads (it exited) throws the tool's own error.</summary>
    public Stream Input => field ??= new InputStream(this, _process.StandardInput.BaseStream);

    public bool HasExited => _process.HasExited;

    /// <summary>What the tool printed on stderr (its last 16 KiB), without the password and the other secrets.</summary>
    public string ErrorText
    {
        get
        {
            string text;
            lock (_stderrTail)
            {
                text = _stderrTail.ToString();
            }
            return Scrub(text, _secrets).Trim();
        }
    }

    const string Mask = "********";

    /// <summary>
    /// The shortest run of a secret's characters that is scrubbed where it stands alone: psql cuts its "LINE 1: ..."
    /// excerpt and mysql its "near '...'" and "Duplicate entry '...'" around 64-80 characters, leaving a long secret's
    /// middle or end in the text with no whole occurrence to find.
    /// </summary>
    internal const int MinPieceLength = 8;

    /// <summary>
    /// <paramref name="text"/> with every occurrence of a secret (<paramref name="secrets"/>, longest first) and every run
    /// of <see cref="MinPieceLength"/> or more characters of one replaced by <see cref="Mask"/>.
    /// </summary>
    internal static string Scrub(string text, IReadOnlyList<string> secrets)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }
        // Every run of MinPieceLength or more characters that the text shares with a secret is a union of the secret's
        // windows of exactly that length: mark each window's occurrences, then mask each marked run once.
        bool[]? marked = null;
        foreach (var secret in secrets)
        {
            for (var start = 0; start + MinPieceLength <= secret.Length; start++)
            {
                var window = secret.AsSpan(start, MinPieceLength);
                for (var from = 0; from < text.Length;)
                {
                    var found = text.AsSpan(from).IndexOf(window, StringComparison.Ordinal);
                    if (found < 0)
                    {
                        break;
                    }
                    marked ??= new bool[text.Length];
                    marked.AsSpan(from + found, MinPieceLength).Fill(true);
                    from += found + 1;
                }
            }
        }
        if (marked is null)
        {
            return text;
        }
        var b = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (!marked[i])
            {
                b.Append(text[i]);
            }
            else if (i == 0 || !marked[i - 1])
            {
                b.Append(Mask);
            }
        }
        return b.ToString();
    }

    /// <summary>Waits for the tool to exit and throws a <see cref="DatabaseException"/> when its exit code is not 0.</summary>
    /// <remarks>
    /// Every caller awaits one shared wait: the end of stdout and a commit both ask, and two concurrent
    /// WaitForExitAsync + ExitCode reads on one Process sometimes gave 0 for a psql that had exited with 3 (seen in
    /// about one restore in four), which made a failed restore look successful.
    /// </remarks>
    public Task WaitForSuccessAsync(CancellationToken cancellationToken)
    {
        var exit = _exit;
        if (exit is null)
        {
            var created = new Lazy<Task>(WaitForExitOnceAsync);
            exit = Interlocked.CompareExchange(ref _exit, created, null) ?? created;
        }
        return exit.Value.WaitAsync(cancellationToken);
    }

    Lazy<Task>? _exit;

    async Task WaitForExitOnceAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        await _stderr.ConfigureAwait(false);
        if (_process.ExitCode != 0)
        {
            throw Failure();
        }
    }

    /// <summary>Runs a tool to its end and returns its stdout as text (small outputs: versions, one-row queries).</summary>
    public static async Task<string> RunAsync(string path, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment,
        ChildEnvironment childEnvironment, IReadOnlyList<string?>? secrets, CancellationToken cancellationToken, string? context = null)
    {
        await using var tool = Start(path, arguments, environment, childEnvironment, secrets, context: context);
        using var reader = new StreamReader(tool._process.StandardOutput.BaseStream, Encoding.UTF8);
        var output = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await tool.WaitForSuccessAsync(cancellationToken).ConfigureAwait(false);
        return output;
    }

    DatabaseException Failure()
    {
        var text = ErrorText;
        var code = _process.HasExited ? $" with exit code {_process.ExitCode}" : "";
        var context = _context is null ? "" : _context + ": ";
        var meaning = text.Length == 0 ? null : _explain?.Invoke(text);
        return new DatabaseException(text.Length == 0 ? $"{context}{_name} failed{code} and printed no error"
            : $"{context}{_name} failed{code}:\n{text}{(meaning is null ? "" : "\n" + meaning)}");
    }

    async Task DrainStderrAsync()
    {
        using var reader = new StreamReader(_process.StandardError.BaseStream, Encoding.UTF8);
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            _onStderrLine?.Invoke(line);
            lock (_stderrTail)
            {
                _stderrTail.Append(line).Append('\n');
                if (_stderrTail.Length > StderrKeepChars * 2)
                {
                    _stderrTail.Remove(0, _stderrTail.Length - StderrKeepChars);
                }
            }
        }
    }

    /// <summary>After a broken pipe: give the tool a moment to exit and report its error rather than "broken pipe".</summary>
    async Task<Exception> FailureAfterBrokenPipeAsync(IOException e)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            await _stderr.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new DatabaseException($"{(_context is null ? "" : _context + ": ")}{_name} stopped reading its input: {e.Message}", e);
        }
        return Failure();
    }

    public async ValueTask DisposeAsync()
    {
        ExitCleanup.Untrack(_process);
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // not started or already gone
        }
        try
        {
            await _stderr.ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
        _process.Dispose();
    }

    /// <summary>
    /// The tool's stdout, read with blocking reads that gather small pieces. pg_dump writes 4 KiB at a time; read as
    /// they come, a live dump made ~110,000 async reads and ~2 million context switches per 351 MiB, 3-4x the CPU of
    /// reading the same bytes from a file (bench/results/issue4-2026-11-22-analysis.md). So the pipe is enlarged to
    /// 1 MiB, and after a small read the writer gets a millisecond to fill it before the next read tops the buffer up.
    /// </summary>
    sealed class OutputStream : ReadOnlyStream
    {
        const int SmallRead = 32 << 10;
        readonly ToolProcess _tool;
        readonly Stream _inner;
        bool _ended;

        public OutputStream(ToolProcess tool, Stream inner)
        {
            _tool = tool;
            _inner = inner;
            PipeSize.TryEnlarge(inner, 1 << 20);
        }

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }
            var total = _ended ? 0 : _inner.Read(buffer);
            if (total > 0 && total < SmallRead && buffer.Length > total)
            {
                Thread.Sleep(1);
                var more = _inner.Read(buffer[total..]);
                _ended = more == 0;
                total += more;
            }
            if (total == 0)
            {
                // End of output: whatever came before is only a dump if the tool says it succeeded.
                _tool.WaitForSuccessAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            return total;
        }

        /// <summary>
        /// The blocking read on a pool thread: a blocking read wakes far less often than an async one, and with reads
        /// of 64 KiB and more one hop per read costs nothing; callers still never block.
        /// </summary>
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new ValueTask<int>(Task.Run(() => Read(buffer.Span), cancellationToken));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// The tool's stdin, its pipe enlarged to 1 MiB. psql reads its script 4 KiB at a time (stdio), and each read that
    /// frees room in a full 64 KiB pipe woke the writer for another small write: a parallel restore of a 1.1 GiB dump
    /// switched context ~140,000 times, ~45,000 with the larger pipe, and its client CPU fell by about a quarter
    /// (bench/results/issue10-restore-pipe-2026-12-05.md).
    /// </summary>
    sealed class InputStream : Stream
    {
        readonly ToolProcess _tool;
        readonly Stream _inner;

        public InputStream(ToolProcess tool, Stream inner)
        {
            _tool = tool;
            _inner = inner;
            PipeSize.TryEnlarge(inner, 1 << 20);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush() => FlushAsync().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw await _tool.FailureAfterBrokenPipeAsync(e).ConfigureAwait(false);
            }
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            try
            {
                await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw await _tool.FailureAfterBrokenPipeAsync(e).ConfigureAwait(false);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                try
                {
                    _inner.Dispose();
                }
                catch (IOException)
                {
                    // the tool already exited; its exit code tells what happened
                }
            }
            base.Dispose(disposing);
        }
    }
}
