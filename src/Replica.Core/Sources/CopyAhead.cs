using System.IO.Pipelines;
using Npgsql;

namespace Replica.Sources;

/// <summary>
/// One COPY ... TO STDOUT run ahead of its turn on a connection of its own: its rows go into a bounded pipe
/// (<see cref="PauseBytes"/>) that the table's stream reads once the statement before it is read to its end. So the
/// server works on a subset's next batch of keys (index probes and heap reads, most of a batch's time) while the client
/// rewrites the current one, and a table copied in many statements keeps two backends busy instead of one
/// (bench/results/issue11-live-ahead-2026-12-05.md). A failure of the statement reaches the reader as the pipe's error.
/// </summary>
internal sealed class CopyAhead : IAsyncDisposable
{
    /// <summary>Bytes of rows held before the server is made to wait: a batch of 5000 wide rows, about.</summary>
    internal const int PauseBytes = 4 << 20;

    const int FlushBytes = 64 << 10;

    readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: PauseBytes, resumeWriterThreshold: PauseBytes / 2,
        minimumSegmentSize: 64 << 10, useSynchronizationContext: false));
    readonly CancellationTokenSource _stop = new();
    readonly Task<bool> _fill;

    /// <param name="connection">A connection inside the snapshot, idle; it stays this copy's until <see cref="DisposeAsync"/>.</param>
    /// <param name="start">Runs on the connection before the statement (the table's lock), or null.</param>
    public CopyAhead(NpgsqlConnection connection, string statement, Func<NpgsqlConnection, CancellationToken, Task>? start)
    {
        Connection = connection;
        Rows = _pipe.Reader.AsStream();
        _fill = Task.Run(() => FillAsync(statement, start));
    }

    /// <summary>The connection the statement runs on.</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>The statement's rows as the server sends them; a failure of the statement is thrown from its reads.</summary>
    public Stream Rows { get; }

    async Task<bool> FillAsync(string statement, Func<NpgsqlConnection, CancellationToken, Task>? start)
    {
        var writer = _pipe.Writer;
        try
        {
            if (start is not null)
            {
                await start(Connection, _stop.Token).ConfigureAwait(false);
            }
            using (var copy = await Connection.BeginTextExportAsync(statement, _stop.Token).ConfigureAwait(false))
            {
                var rows = ((StreamReader)copy).BaseStream;
                while (true)
                {
                    // A read gives about one row (one CopyData message): fill the pipe's current segment row by row and
                    // wake the reader once per FlushBytes, not per row.
                    var read = await rows.ReadAsync(writer.GetMemory(), _stop.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }
                    writer.Advance(read);
                    if (writer.UnflushedBytes >= FlushBytes && (await writer.FlushAsync(_stop.Token).ConfigureAwait(false)).IsCompleted)
                    {
                        // The reader stopped early (the part was dropped or failed): the COPY is cancelled as it is disposed.
                        return false;
                    }
                }
            }
            await writer.CompleteAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception e)
        {
            await writer.CompleteAsync(e).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>
    /// Stops the statement if it still runs and waits for it. True when it ran to its end and was read to its end, so that
    /// its connection is fit for the next statement; false: close the connection.
    /// </summary>
    public async ValueTask<bool> FinishAsync()
    {
        await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
        if (!_fill.IsCompleted)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        // FillAsync catches every failure: it says whether the COPY ended on the server.
        return await _fill.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await FinishAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
