namespace Replica.Bridges;

/// <summary>Tuning for <see cref="LocalBridge"/>; the defaults suit the CLI.</summary>
public sealed class LocalBridgeOptions
{
    /// <summary>How long to wait for another process to release the index lock before failing; default 30 s.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock that stamps created_at; tests pass a fixed one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
