using System.Buffers;
using Replica.Clients;
using Replica.Lexing;

namespace Replica.Destinations;

/// <summary>
/// One connection of a parallel restore: a <see cref="PsqlSession"/> behind its own <see cref="RestoreGuard"/>, which
/// sees exactly the dump bytes this psql gets, in the same order, so every byte restored in parallel passes the same
/// checks as a restore on one connection. With <c>transaction</c> its input is wrapped in BEGIN ... COMMIT (the dump's
/// own BEGIN and COMMIT, around large objects, are left out by the guard, as in PsqlDestination). The session itself
/// belongs to the destination, which kills it when the restore fails.
/// </summary>
internal sealed class GuardedSession : IDisposable
{
    readonly PsqlSession _session;
    readonly RestoreGuard _guard;
    readonly bool _transaction;
    readonly ArrayBufferWriter<byte> _passed = new(1 << 16);
    /// <summary>What of the dump this connection ran ("pre-data", "the data of public.t"), for its error messages.</summary>
    readonly List<string> _ran = [];

    GuardedSession(PsqlSession session, RestoreGuard guard, bool transaction)
    {
        _session = session;
        _guard = guard;
        _transaction = transaction;
    }

    /// <summary>
    /// Starts psql on <paramref name="target"/> (a staging database of <paramref name="destination"/>); without
    /// <paramref name="transaction"/> each statement commits on its own. <paramref name="observer"/> hears every unit that
    /// passed the guard before psql gets it (and may refuse it by throwing).
    /// </summary>
    public static async Task<GuardedSession> StartAsync(PsqlDestination destination, DatabaseUri target, bool transaction, long maxUnitBytes,
        CancellationToken cancellationToken, IUnitSink? observer = null)
    {
        var session = await destination.StartSessionAsync(target, cancellationToken).ConfigureAwait(false);
        var guarded = new GuardedSession(session, new RestoreGuard(SqlDialect.PostgreSql, destination.Database, maxUnitBytes, observer, destination.LeaveOut), transaction);
        if (transaction)
        {
            await session.Input.WriteAsync("BEGIN;\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        }
        return guarded;
    }

    /// <summary>
    /// Notes that this connection runs <paramref name="what"/> of the dump: psql's error names a line of this connection's
    /// input (its own BEGIN and session settings, then one part after another), not of the dump, so the error names the parts.
    /// </summary>
    public void Runs(string what)
    {
        if (!_ran.Contains(what))
        {
            _ran.Add(what);
        }
    }

    /// <summary>Checks the next bytes of this connection's stream and passes what may pass to psql.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _guard.Process(bytes.Span, _passed);
        await PassAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks and passes the stream's last statement, commits (with a transaction) and waits for psql to succeed.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        _guard.Complete(_passed);
        await PassAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_transaction)
            {
                // On a line of its own, after a possible -- comment.
                await _session.Input.WriteAsync("\nCOMMIT;\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            }
            await _session.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DatabaseException e) when (_ran.Count > 0)
        {
            throw Placed(e);
        }
    }

    async Task PassAsync(CancellationToken cancellationToken)
    {
        if (_passed.WrittenCount > 0)
        {
            try
            {
                await _session.Input.WriteAsync(_passed.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }
            catch (DatabaseException e) when (_ran.Count > 0)
            {
                throw Placed(e);
            }
            _passed.ResetWrittenCount();
        }
    }

    DatabaseException Placed(DatabaseException e) =>
        new($"{e.Message}\n(psql's line numbers count this connection's input, not the dump's lines: it ran {string.Join(", ", _ran)})", e);

    public void Dispose() => _guard.Dispose();
}
