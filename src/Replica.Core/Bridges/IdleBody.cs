namespace Replica.Bridges;

/// <summary>
/// Reads an HTTP response body with an idle limit, for every bridge that reads one (<see cref="ShareStore"/>'s links, the
/// S3 bridge's GetObject). An HTTP client's timeout ends once the headers are in (ResponseHeadersRead, as both use): a
/// server that sent them and then went silent held `restore`, `verify` or `--from-url` forever (found by review). So
/// every read has the idle limit, counted afresh whenever bytes arrive: a slow body goes on, a silent one fails with a
/// <see cref="BodyStalledException"/>, an <see cref="IOException"/> that callers retry as a cut connection.
/// </summary>
internal static class IdleBody
{
    /// <summary>How long a body may send nothing before its read fails, unless a test wants it short.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Reads <paramref name="body"/> into <paramref name="data"/> until it is full or the body ends; returns how many bytes
    /// came. A read that waits <paramref name="idleTimeout"/> for nothing fails saying how much came from
    /// <paramref name="sender"/> (a server's name: never a link or a credential).
    /// </summary>
    public static async Task<int> ReadAsync(Stream body, Memory<byte> data, TimeSpan idleTimeout, string sender, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        int filled = 0;
        try
        {
            idle.CancelAfter(idleTimeout);
            int read;
            while (filled < data.Length && (read = await body.ReadAsync(data[filled..], idle.Token).ConfigureAwait(false)) > 0)
            {
                filled += read;
                idle.CancelAfter(idleTimeout);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BodyStalledException(
                $"{sender} sent {filled} {(filled == 1 ? "byte" : "bytes")} of the body, then nothing for {Seconds(idleTimeout)}");
        }
        return filled;
    }

    static string Seconds(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#} seconds" : $"{t.TotalMilliseconds:0} ms";
}

/// <summary>A response body that went silent (<see cref="IdleBody"/>): an I/O failure, retried as a cut connection is.</summary>
internal sealed class BodyStalledException(string message) : IOException(message);
