using System.Globalization;
using System.Runtime.InteropServices;

namespace Replica.Cli;

/// <summary>
/// The signals that end a run from outside: Ctrl+C (SIGINT), a service manager's stop (SIGTERM), a closed terminal or a
/// dropped ssh session (SIGHUP), Ctrl+\ (SIGQUIT). Each cancels the command, which removes what it stored and exits 130;
/// if it has not ended <see cref="Grace"/> later, the process exits 130 and ExitCleanup's backstop runs (kills the tools,
/// deletes the password files). Found by review: SIGHUP ended replica on the spot without ProcessExit, and a MySQL
/// dump's option file, with the password, stayed in /tmp; with its output on a pipe, SIGTERM did the same (exit 143).
/// A signal ignored when the process started (nohup, a background job of a script) stays ignored: the kernel says which
/// (/proc/self/status, SigIgn; elsewhere only SIGINT and SIGTERM are handled, as before).
/// </summary>
internal sealed class Interrupts : IDisposable
{
    /// <summary>How long a cancelled command has to clean up before the process exits anyway.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    readonly List<PosixSignalRegistration> _registrations = [];
    readonly CancellationTokenSource _cancel;
    Timer? _deadline;
    bool _disposed;

    Interrupts(CancellationTokenSource cancel) => _cancel = cancel;

    public static Interrupts CancelOnSignals(CancellationTokenSource cancel)
    {
        var interrupts = new Interrupts(cancel);
        var ignored = OperatingSystem.IsLinux() ? IgnoredSignals() : null;
        (PosixSignal Signal, int Number)[] signals = OperatingSystem.IsLinux()
            ? [(PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15), (PosixSignal.SIGHUP, 1), (PosixSignal.SIGQUIT, 3)]
            : [(PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15)];
        foreach (var (signal, number) in signals)
        {
            if (ignored is { } mask && (mask & (1UL << (number - 1))) != 0)
            {
                continue;
            }
            interrupts._registrations.Add(PosixSignalRegistration.Create(signal, interrupts.OnSignal));
        }
        return interrupts;
    }

    void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        // Under the lock, as Dispose: a handler already running when Main disposes (a signal as the command ends) must not
        // cancel the source Main disposes next (ObjectDisposedException on the signal's thread: the crash handler, exit 1)
        // nor start a deadline that nothing disposes.
        lock (_registrations)
        {
            if (_deadline is not null || _disposed)
            {
                return;
            }
            _deadline = new Timer(static _ => Environment.Exit(130), null, Grace, Timeout.InfiniteTimeSpan);
            _cancel.Cancel();
        }
    }

    /// <summary>The mask of signals this process ignores (bit n - 1 for signal n), from /proc/self/status; null if unreadable.</summary>
    static ulong? IgnoredSignals()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("SigIgn:", StringComparison.Ordinal)
                    && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var mask))
                {
                    return mask;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    public void Dispose()
    {
        lock (_registrations)
        {
            _disposed = true;
            _deadline?.Dispose();
        }
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
