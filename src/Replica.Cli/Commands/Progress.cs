namespace Replica.Cli.Commands;

/// <summary>
/// Progress on stderr: on a terminal one line redrawn four times a second; when stderr is not a terminal (CI logs,
/// pipes) a plain line every <see cref="LogInterval"/> once a run lasts that long, so long CI jobs show they are alive
/// and short ones stay quiet. Nothing with --quiet.
/// </summary>
internal sealed class Progress : IDisposable
{
    static readonly TimeSpan s_logInterval = TimeSpan.FromSeconds(10);

    readonly Func<string> _describe;
    readonly Timer? _timer;
    readonly bool _terminal;
    readonly object _gate = new();
    bool _drawn;
    bool _stopped;

    Progress(Func<string> describe, bool active, bool terminal)
    {
        _describe = describe;
        _terminal = terminal;
        if (active)
        {
            var period = terminal ? TimeSpan.FromMilliseconds(250) : s_logInterval;
            _timer = new Timer(_ => Draw(), null, period, period);
        }
    }

    public static TimeSpan LogInterval => s_logInterval;

    public static Progress Start(bool quiet, Func<string> describe) => new(describe, !quiet, !Console.IsErrorRedirected);

    /// <summary>1h02m, 3m05s, 12s.</summary>
    public static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s" : $"{Math.Max(1, (int)t.TotalSeconds)}s";

    void Draw()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }
            var line = _describe();
            if (_terminal)
            {
                TerminalSafeWriter.WriteErrorControl("\r\u001b[2K", line);
                _drawn = true;
            }
            else
            {
                Console.Error.WriteLine($"replica: {line}");
            }
        }
    }

    public void Stop()
    {
        _timer?.Dispose();
        lock (_gate)
        {
            _stopped = true;
            if (_drawn)
            {
                TerminalSafeWriter.WriteErrorControl("\r\u001b[2K", "");
            }
        }
    }

    public void Dispose() => Stop();
}
