namespace Replica.Bridges;

/// <summary>Tuning for <see cref="LocalBridge"/>; the defaults suit the CLI.</summary>
public sealed class LocalBridgeOptions
{
    /// <summary>How long to wait for another process to release the index lock before failing; default 30 s.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a writer refreshes the modification time of its .writing marker; `delete --abandoned` needs markers
    /// older than at least twice this. Default 1 minute.
    /// </summary>
    public TimeSpan MarkerRefreshInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock that stamps created_at and ages writer markers; tests pass a fixed one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// How many chunk entries a chunk list object of bridge format v3 holds (default 1024: one list per 4 GiB of 4 MiB
    /// chunks). A part with more chunks than this has its chunks stored in lists as it goes instead of kept for the
    /// manifest, so a writer's memory does not grow with the dump. Not a config key: tests lower it.
    /// </summary>
    public int ChunkListLength { get; init; } = ObjectBridgeOptions.DefaultChunkListLength;
}
