namespace Replica.Bridges;

/// <summary>
/// The writer a <see cref="LocalBridge"/> hands out: <see cref="ObjectDumpWriter"/> as it is (the protocol is the same
/// for every store), holding the folder's .writing lock (an flock) from BeginDumpAsync until the dump is listed (or
/// removed). Its own type only so that callers can tell a local writer.
/// </summary>
internal sealed class LocalDumpWriter(ObjectBridge bridge, string name, IWriterLease lease, long createdAt)
    : ObjectDumpWriter(bridge, name, lease, createdAt);
