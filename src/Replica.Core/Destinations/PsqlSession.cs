using System.Globalization;
using System.Text;
using Replica.Clients;

namespace Replica.Destinations;

/// <summary>
/// One psql process with ON_ERROR_STOP on one database, reading SQL from its stdin: the connection a restore writes
/// through (PsqlDestination has one, a parallel restore one per connection). It counts what psql reports on stdout
/// (COPY n, INSERT 0 n). A session started <c>quiet</c> prints no command tags, only query results: <see cref="WaitSyncAsync"/>
/// then waits until psql ran everything written so far. Disposing kills a psql that did not finish: its open transaction
/// is rolled back by the server.
/// </summary>
internal sealed class PsqlSession : IAsyncDisposable
{
    readonly ToolProcess _psql;
    readonly Task _stdout;
    readonly bool _quiet;
    readonly SemaphoreSlim _synced = new(0);
    // A line psql prints only for this query: pid and a random part, so no dump's SELECT prints it by chance.
    readonly string _syncToken = $"replica-sync-{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}";
    readonly byte[] _syncQuery;
    long _rows;
    long _statements;
    int _tables;

    PsqlSession(ToolProcess psql, bool quiet)
    {
        _psql = psql;
        _quiet = quiet;
        _syncQuery = Encoding.UTF8.GetBytes($"\nSELECT '{_syncToken}';\n");
        // Not cancelled: psql's output is read to its end however the restore ends (a cancelled restore kills psql).
        _stdout = Task.Run(() => CountAsync(_psql.Output), CancellationToken.None);
    }

    /// <summary>Starts psql on <paramref name="target"/>; <paramref name="context"/> starts its error messages.</summary>
    public static PsqlSession Start(PostgresTools tools, DatabaseUri target, string? password, string context, bool quiet = false)
    {
        List<string> arguments = ["--no-psqlrc", "--no-password", "--set=ON_ERROR_STOP=1", "--file=-"];
        if (quiet)
        {
            arguments.AddRange(["--quiet", "--tuples-only", "--no-align"]);
        }
        var psql = ToolProcess.Start(tools.Psql, arguments, target.LibpqEnvironment(), password, redirectInput: true, context: context);
        return new PsqlSession(psql, quiet);
    }

    /// <summary>psql's stdin.</summary>
    public Stream Input => _psql.Input;

    /// <summary>Rows psql reported (COPY n, INSERT 0 n).</summary>
    public long Rows => Interlocked.Read(ref _rows);

    /// <summary>Statements psql ran (one status line each).</summary>
    public long Statements => Interlocked.Read(ref _statements);

    /// <summary>COPY statements psql finished: tables whose data is in.</summary>
    public int Tables => Volatile.Read(ref _tables);

    /// <summary>
    /// Quiet sessions: writes a query whose only output is a token of its own; <see cref="WaitSyncAsync"/> then waits until
    /// psql printed it, so that every statement written before it ran (or psql failed: then its error).
    /// </summary>
    public async Task WriteSyncAsync(CancellationToken cancellationToken)
    {
        if (!_quiet)
        {
            throw new InvalidOperationException("a sync needs a quiet session");
        }
        await _psql.Input.WriteAsync(_syncQuery, cancellationToken).ConfigureAwait(false);
        await _psql.Input.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the oldest sync written and not yet waited for (<see cref="WriteSyncAsync"/>).</summary>
    public async Task WaitSyncAsync(CancellationToken cancellationToken)
    {
        var synced = _synced.WaitAsync(cancellationToken);
        var exited = _psql.WaitForSuccessAsync(cancellationToken);
        if (await Task.WhenAny(synced, exited).ConfigureAwait(false) == exited)
        {
            await exited.ConfigureAwait(false); // psql failed: its error
            throw new DatabaseException("psql ended before it ran every statement");
        }
        await synced.ConfigureAwait(false);
    }

    /// <summary>Ends psql's input and waits for it to run everything: its error when it failed.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        await _psql.Input.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _psql.Input.DisposeAsync().ConfigureAwait(false);
        await _psql.WaitForSuccessAsync(cancellationToken).ConfigureAwait(false);
        await _stdout.ConfigureAwait(false);
    }

    async Task CountAsync(Stream stdout)
    {
        using var reader = new StreamReader(stdout, Encoding.UTF8);
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (_quiet)
                {
                    if (line == _syncToken)
                    {
                        _synced.Release();
                    }
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

    public async ValueTask DisposeAsync()
    {
        // Not completed: killing psql before it read the end of its input drops the connection, and the server rolls
        // its transaction back.
        await _psql.DisposeAsync().ConfigureAwait(false);
        await _stdout.ConfigureAwait(false);
        _synced.Dispose();
    }
}
