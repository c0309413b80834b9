namespace Replica.KeyStoreBench;

internal delegate void KeyVisitor(ReadOnlySpan<byte> key);

/// <summary>Sets of keys. A store key is [set byte][key bytes]; every operation takes whole batches.</summary>
internal interface IKeyStore : IDisposable
{
    /// <summary>Adds every key; isNew[i] says whether key i was absent before (a repeat inside the batch is not new).</summary>
    void Insert(KeyBatch batch, bool[] isNew);

    void Contains(KeyBatch batch, bool[] found);

    /// <summary>Visits one set's keys (without the set byte) in ascending UTF-8 byte order; returns how many.</summary>
    long Enumerate(byte set, KeyVisitor visit);

    long Count();
}

/// <summary>Stores nothing: the harness's own cost (key generation and checking).</summary>
internal sealed class NullStore : IKeyStore
{
    public void Insert(KeyBatch batch, bool[] isNew) { }

    public void Contains(KeyBatch batch, bool[] found) { }

    public long Enumerate(byte set, KeyVisitor visit) => 0;

    public long Count() => 0;

    public void Dispose() { }
}
