namespace Replica.Cli.Commands;

/// <summary>
/// A progress line on stderr, redrawn a few times a second when stderr is a terminal; silent when it is not (CI logs,
/// pipes) or with --quiet.
/// </summary>
internal sealed class Progress : IDisposable
{
    readonly Func<string> _describe;
    readonly Timer? _timer;
    readonly object _gate = new();
    bool _drawn;
    bool _stopped;

    Progress(Func<string> describe, bool active)
    {
        _describe = describe;
        if (active)
        {
            _timer = new Timer(_ => Draw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        }
    }

    public static Progress Start(bool quiet, Func<string> describe) => new(describe, !quiet && !Console.IsErrorRedirected);

    void Draw()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }
            var line = _describe();
            Console.Error.Write($"\r\u001b[2K{line}");
            _drawn = true;
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
                Console.Error.Write("\r\u001b[2K");
            }
        }
    }

    public void Dispose() => Stop();
}
