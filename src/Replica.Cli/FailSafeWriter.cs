using System.Text;

namespace Replica.Cli;

/// <summary>
/// Standard error as the CLI writes it (Program installs it as Console.Error): a write that fails says nothing and throws
/// nothing, and once one failed every later write goes nowhere. What stderr carries (progress, warnings, the one line of a
/// failure) must never end the run itself. Found by review: after a terminal hang-up (the ssh connection dropped) every
/// write to it fails with EIO; the progress timer's write threw on a pool thread, the crash handler's own line threw too,
/// and the process aborted (SIGABRT, exit 134) before the interrupted dump was removed from the bridge and before the exit's
/// cleanup deleted the password files; with --quiet the "interrupted" line did the same. A broken pipe never gets here:
/// .NET's console ignores EPIPE. Standard output is left as it is: it carries results, and a failure to write them is an
/// I/O error (exit 4).
/// </summary>
internal sealed class FailSafeWriter : SynchronousTextWriter
{
    readonly TextWriter _original;
    volatile TextWriter _inner;

    public FailSafeWriter(TextWriter inner)
    {
        _original = inner;
        _inner = inner;
    }

    public override Encoding Encoding => _original.Encoding;

    public override IFormatProvider FormatProvider => _original.FormatProvider;

    public override void Write(char value) => Guard(value, static (w, v) => w.Write(v));

    public override void Write(string? value) => Guard(value, static (w, v) => w.Write(v));

    public override void Write(char[] buffer, int index, int count) =>
        Guard((buffer, index, count), static (w, v) => w.Write(v.buffer, v.index, v.count));

    public override void WriteLine() => Guard(0, static (w, _) => w.WriteLine());

    public override void WriteLine(string? value) => Guard(value, static (w, v) => w.WriteLine(v));

    public override void Flush() => Guard(0, static (w, _) => w.Flush());

    void Guard<T>(T value, Action<TextWriter, T> write)
    {
        try
        {
            write(_inner, value);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // EIO from a hung-up terminal, ENOSPC from a full disk: it will not get better, and no one is left to tell.
            _inner = Null;
        }
    }
}
