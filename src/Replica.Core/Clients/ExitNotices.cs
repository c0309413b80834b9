namespace Replica.Clients;

/// <summary>
/// What the process says while its exit waits for a step that cannot be cut (a restore's swap; see ExitCleanup.Critical),
/// and warnings about what a run could not clean up (a staging database left on the server, a database a failed
/// restore created and could not drop again): the CLI sets <see cref="Writer"/> to write to standard error. The core
/// writes nowhere itself.
/// </summary>
public static class ExitNotices
{
    /// <summary>Where notices go; null: nowhere.</summary>
    public static Action<string>? Writer { get; set; }

    internal static void Write(string notice)
    {
        try
        {
            Writer?.Invoke(notice);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // standard error closed: the wait goes on regardless
        }
    }
}
