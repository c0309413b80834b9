namespace Replica.Cli;

/// <summary>
/// Standard output and standard error as the CLI writes them (<see cref="Install"/>): every character that could drive a
/// terminal is written as an escape (<see cref="TerminalText"/>), whoever formatted the line, so that no message, warning,
/// progress line or listing needs to remember to. The CLI's own control sequences (the progress line's redraw) go
/// through <see cref="WriteErrorControl"/> alone. Data never comes here: a restore to stdout and `bench -o -` write the
/// standard output stream, and --json output is JSON, whose strings hold no control character unescaped.
/// </summary>
internal sealed class TerminalSafeWriter : SynchronousTextWriter
{
    static TerminalSafeWriter? s_error;

    readonly TextWriter _inner;

    TerminalSafeWriter(TextWriter inner) => _inner = inner;

    /// <summary>Puts a <see cref="TerminalSafeWriter"/> in front of Console.Out and of <paramref name="error"/> as Console.Error.</summary>
    public static void Install(TextWriter error)
    {
        s_error = new TerminalSafeWriter(error);
        Console.SetError(s_error);
        Console.SetOut(new TerminalSafeWriter(Console.Out));
    }

    /// <summary>
    /// Writes <paramref name="sequence"/> to stderr as it is (a control sequence of the CLI's own, never text from
    /// elsewhere), then <paramref name="text"/> escaped as any other.
    /// </summary>
    public static void WriteErrorControl(string sequence, string text)
    {
        // Console.Error is a synchronized writer that locks on itself: no other line lands between the two.
        TextWriter error = Console.Error;
        lock (error)
        {
            (s_error?._inner ?? error).Write(sequence);
            error.Write(text);
        }
    }

    public override System.Text.Encoding Encoding => _inner.Encoding;

    public override IFormatProvider FormatProvider => _inner.FormatProvider;

    public override void Write(char value)
    {
        if (TerminalText.IsSafe([value]))
        {
            _inner.Write(value);
        }
        else
        {
            _inner.Write(TerminalText.Escape([value]));
        }
    }

    public override void Write(string? value) => _inner.Write(value is null ? null : TerminalText.Escape(value));

    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    public override void Write(ReadOnlySpan<char> buffer)
    {
        if (TerminalText.IsSafe(buffer))
        {
            _inner.Write(buffer);
        }
        else
        {
            _inner.Write(TerminalText.Escape(buffer));
        }
    }

    public override void WriteLine() => _inner.WriteLine();

    public override void WriteLine(string? value) => _inner.WriteLine(value is null ? null : TerminalText.Escape(value));

    public override void WriteLine(ReadOnlySpan<char> buffer)
    {
        Write(buffer);
        WriteLine();
    }

    public override void Flush() => _inner.Flush();
}
