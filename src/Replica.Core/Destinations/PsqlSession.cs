using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Replica.Clients;

namespace Replica.Destinations;

/// <summary>
/// One psql process with ON_ERROR_STOP on one database, reading SQL from its stdin: the connection a restore writes
/// through (PsqlDestination has one, a parallel restore one per connection). It counts what psql reports on stdout
/// (COPY n, INSERT 0 n). Disposing kills a psql that did not finish: its open transaction
/// is rolled back by the server.
/// </summary>
internal sealed class PsqlSession : IAsyncDisposable
{
    readonly ToolProcess _psql;
    readonly Task _stdout;
    long _rows;
    long _statements;
    int _tables;
    int _step = -1;
    // Marks this session's own \echo lines (the transaction, the COMMIT reached) apart from anything the dump could print.
    readonly string _nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    Transaction? _transaction;
    int _commitReached;
    Action? _onCommitReached;
    // Set once the COMMIT and its marker are written (WriteCommitAsync): psql must then echo the marker before it ends.
    bool _commitWritten;

    PsqlSession(ToolProcess psql)
    {
        _psql = psql;
        // Not cancelled: psql's output is read to its end however the restore ends (a cancelled restore kills psql).
        _stdout = Task.Run(() => CountAsync(_psql.Output), CancellationToken.None);
    }

    /// <summary>
    /// Starts psql on <paramref name="target"/>; <paramref name="context"/> starts its error messages, from which
    /// <paramref name="secrets"/> (the password, values of ${VAR} in the config's steps) are scrubbed. When the local
    /// psql has \restrict, the session's first line is "\restrict" with a random key the dump cannot know: psql then
    /// refuses every meta-command (\! included) whatever the dump makes of psql's lexer, until this session's own
    /// \unrestrict before its config steps. The guard refuses meta-commands before psql sees them; this holds where
    /// the guard and psql would read the bytes differently. <paramref name="stepsHoldSecrets"/>: the config steps hold
    /// values of ${VAR}, and psql reports their errors tersely (see <see cref="MarkStepAsync"/>). <paramref name="begin"/>:
    /// the session opens the restore's transaction, and psql echoes its id and backend (<see cref="TransactionOf"/>),
    /// before \restrict, which refuses \gset and \echo too.
    /// </summary>
    public static async Task<PsqlSession> StartAsync(PostgresTools tools, DatabaseUri target, IReadOnlyList<string?> secrets, string context,
        bool stepsHoldSecrets, CancellationToken cancellationToken, bool begin = false)
    {
        var restricts = await tools.PsqlRestrictsAsync(cancellationToken).ConfigureAwait(false);
        string[] arguments = ["--no-psqlrc", "--no-password", "--set=ON_ERROR_STOP=1", "--file=-"];
        var psql = ToolProcess.Start(tools.Psql, arguments, target.LibpqEnvironment(), tools.ChildEnvironment, secrets, redirectInput: true, context: context);
        var session = new PsqlSession(psql) { _stepsHoldSecrets = stepsHoldSecrets };
        try
        {
            if (begin)
            {
                // txid_current (PostgreSQL 10 on; pg_current_xact_id from 13) assigns the transaction its id now, with its
                // epoch: txid_status can tell later whether it committed, on another connection.
                await psql.Input.WriteAsync(Encoding.ASCII.GetBytes("BEGIN;\nSELECT txid_current() AS xid, pg_backend_pid() AS pid \\gset replica_\n"
                    + $"\\echo '{TransactionMarker}{session._nonce}' :replica_xid :replica_pid\n"), cancellationToken).ConfigureAwait(false);
            }
            if (restricts)
            {
                session._restrictKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
                await psql.Input.WriteAsync(Encoding.ASCII.GetBytes($"\\restrict {session._restrictKey}\n"), cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return session;
    }

    const string TransactionMarker = "replica: transaction ";
    const string CommitMarker = "replica: commit ";

    /// <summary>The restore's transaction: its id (txid_current, with the epoch) and the server process that runs it.</summary>
    internal sealed record Transaction(long Id, int BackendPid);

    /// <summary>
    /// The transaction a session started with begin opened, as psql echoed it; null before psql ran the BEGIN, or
    /// without begin. Read it once psql's output ended (<see cref="DrainAsync"/>).
    /// </summary>
    public Transaction? TransactionOf => Volatile.Read(ref _transaction);

    /// <summary>Whether psql went past the marker before the COMMIT (<see cref="WriteCommitAsync"/>): it sent the COMMIT, or is about to.</summary>
    public bool CommitReached => Volatile.Read(ref _commitReached) != 0;

    // The key of the session's \restrict until its \unrestrict; null without.
    string? _restrictKey;

    // Set until the first config step: VERBOSITY terse is then turned on (MarkStepAsync).
    bool _stepsHoldSecrets;

    /// <summary>psql's stdin.</summary>
    public Stream Input => _psql.Input;

    /// <summary>Rows psql reported (COPY n, INSERT 0 n).</summary>
    public long Rows => Interlocked.Read(ref _rows);

    /// <summary>Statements psql ran (one status line each).</summary>
    public long Statements => Interlocked.Read(ref _statements);

    /// <summary>COPY statements psql finished: tables whose data is in.</summary>
    public int Tables => Volatile.Read(ref _tables);

    /// <summary>Ends psql's input and waits for it to run everything: its error when it failed.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        await _psql.Input.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _psql.Input.DisposeAsync().ConfigureAwait(false);
        await _psql.WaitForSuccessAsync(cancellationToken).ConfigureAwait(false);
        await _stdout.ConfigureAwait(false);
        if (_commitWritten && !CommitReached)
        {
            // psql succeeded without echoing the marker in front of the COMMIT: the end of the input was read as part of
            // something the dump left open (a COPY block without its \., found by review: psql took the restore's own
            // closing lines for rows and exited 0). It never ran the COMMIT, so the server rolled back. The guard refuses
            // the cases known; this holds for any other.
            throw new DatabaseException("psql ended without reaching the restore's COMMIT (the dump's last statement or COPY "
                + "block was left open and took in the restore's closing lines): the server rolled the transaction back");
        }
    }

    async Task CountAsync(Stream stdout)
    {
        using var reader = new StreamReader(stdout, Encoding.UTF8);
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith(TransactionMarker, StringComparison.Ordinal) && ParseTransaction(line.AsSpan(TransactionMarker.Length)) is { } transaction)
                {
                    Volatile.Write(ref _transaction, transaction);
                    continue;
                }
                if (line == CommitMarker + _nonce)
                {
                    Volatile.Write(ref _commitReached, 1);
                    Volatile.Read(ref _onCommitReached)?.Invoke();
                    continue;
                }
                if (AfterRestoreSteps.TryParseMarker(line, out var step))
                {
                    Volatile.Write(ref _step, step);
                    continue;
                }
                Interlocked.Increment(ref _statements);
                // Command tags: "COPY 42", "INSERT 0 42" (https://www.postgresql.org/docs/current/protocol-message-formats.html, CommandComplete).
                if (line.StartsWith("COPY ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var copied))
                {
                    Interlocked.Add(ref _rows, copied);
                    Interlocked.Increment(ref _tables);
                }
                else if (line.StartsWith("INSERT 0 ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out var inserted))
                {
                    Interlocked.Add(ref _rows, inserted);
                }
            }
        }
        catch (Exception e) when (e is DatabaseException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            // psql failed (WaitForSuccessAsync reports it), or DisposeAsync killed and disposed it while this read its
            // last lines: either way the restore's own error must win.
        }
    }

    /// <summary>"NONCE XID PID" of this session, as the \echo after BEGIN prints it; null for any other line.</summary>
    Transaction? ParseTransaction(ReadOnlySpan<char> rest)
    {
        Span<Range> parts = stackalloc Range[4];
        return rest.Split(parts, ' ') == 3 && rest[parts[0]].SequenceEqual(_nonce)
            && long.TryParse(rest[parts[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            && int.TryParse(rest[parts[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? new Transaction(id, pid) : null;
    }

    /// <summary>
    /// Writes the COMMIT, on a line of its own (after a possible -- comment: the guard has ended a last statement that
    /// lacked its ';'), after a marker psql echoes as it reaches it: <paramref name="reached"/> runs then, on the thread
    /// that reads psql's output, and <see cref="CommitReached"/> turns true.
    /// </summary>
    public async Task WriteCommitAsync(Action? reached, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _onCommitReached, reached);
        _commitWritten = true;
        await UnrestrictAsync(cancellationToken).ConfigureAwait(false);
        await _psql.Input.WriteAsync(Encoding.ASCII.GetBytes($"\n\\echo '{CommitMarker}{_nonce}'\nCOMMIT;\n"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The dump is over: the session's own meta-commands may run again.</summary>
    async Task UnrestrictAsync(CancellationToken cancellationToken)
    {
        if (_restrictKey is { } key)
        {
            _restrictKey = null;
            await _psql.Input.WriteAsync(Encoding.ASCII.GetBytes($"\n\\unrestrict {key}\n"), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes a config step (destination.after_restore, as <see cref="RestoreGuard.CheckStep"/> passed it) to psql,
    /// after a marker psql echoes on stdout, so that a failure can name the step (<see cref="FailedStepAsync"/>).
    /// When the steps hold values of ${VAR}, psql reports their errors with VERBOSITY terse: without the "LINE 1: ..."
    /// excerpt of the statement (cut at some 60 characters, so a long value shows in part, where no whole occurrence is
    /// there to scrub), DETAIL ("Key (name)=(...)") and CONTEXT; the dump's own errors before keep them.
    /// </summary>
    public async Task MarkStepAsync(int index, ReadOnlyMemory<byte> sql, CancellationToken cancellationToken)
    {
        await UnrestrictAsync(cancellationToken).ConfigureAwait(false);
        if (_stepsHoldSecrets)
        {
            _stepsHoldSecrets = false;
            await _psql.Input.WriteAsync("\n\\set VERBOSITY terse\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        }
        string marker = $"\n\\echo '{AfterRestoreSteps.MarkerOf(index)}'\n";
        await _psql.Input.WriteAsync(Encoding.UTF8.GetBytes(marker), cancellationToken).ConfigureAwait(false);
        await _psql.Input.WriteAsync(sql, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After psql failed: the index of the last config step it reached (its output read to the end), or null.</summary>
    public async Task<int?> FailedStepAsync()
    {
        await _stdout.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        int step = Volatile.Read(ref _step);
        return step < 0 ? null : step;
    }

    /// <summary>Waits until psql's output was read to its end (psql exited, or was killed).</summary>
    public async Task DrainAsync() => await _stdout.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    public async ValueTask DisposeAsync()
    {
        // Not completed: killing psql before it read the end of its input drops the connection, and the server rolls
        // its transaction back.
        await _psql.DisposeAsync().ConfigureAwait(false);
        await _stdout.ConfigureAwait(false);
    }
}
