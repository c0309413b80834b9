namespace Replica.Bridges;

/// <summary>
/// The writer a <see cref="LocalBridge"/> hands out: the dump protocol of <see cref="ObjectDumpWriter"/> over the local
/// store, holding the folder's .writing lock (an flock) from BeginDumpAsync until the dump is listed (or removed).
/// </summary>
internal sealed class LocalDumpWriter(ObjectBridge bridge, string name, IWriterLease lease, long createdAt)
    : ObjectDumpWriter(bridge, name, lease, createdAt);
