using RocksDbSharp;

namespace Replica.KeyStoreBench;

/// <summary>
/// RocksDB: key = [set][key], empty value. Budget: half block cache, two write buffers of a quarter each; WAL off.
/// 10-bit Bloom filters and indexes are partitioned (two-level index, 4 KiB partitions) and charged to the block cache, so
/// they stay inside the budget without a whole-file filter block being read again for every probe once the cache is full
/// (what whole-file filters charged to a small cache did: each probe re-read MiBs). Dedupe = MultiGet of the batch's
/// distinct keys, then one WriteBatch of the absent ones.
/// </summary>
internal sealed class RocksDbStore : IKeyStore
{
    static readonly byte[] s_empty = [];
    readonly RocksDb _db;
    readonly WriteOptions _write = new WriteOptions().DisableWal(1);

    public RocksDbStore(string dir, long budget)
    {
        var table = new BlockBasedTableOptions()
            .SetFilterPolicy(BloomFilterPolicy.Create(10, false))
            .SetBlockCache(Cache.CreateLru((ulong)(budget / 2)))
            .SetCacheIndexAndFilterBlocks(true)
            .SetPinL0FilterAndIndexBlocksInCache(true);
        Native.Instance.rocksdb_block_based_options_set_index_type(table.Handle, 2); // kTwoLevelIndexSearch
        Native.Instance.rocksdb_block_based_options_set_partition_filters(table.Handle, 1);
        Native.Instance.rocksdb_block_based_options_set_metadata_block_size(table.Handle, 4096);
        Native.Instance.rocksdb_block_based_options_set_pin_top_level_index_and_filter(table.Handle, 1);
        Native.Instance.rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(table.Handle, 1);
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetWriteBufferSize((ulong)(budget / 4))
            .SetMaxWriteBufferNumber(2)
            .SetMaxBackgroundCompactions(1)
            .SetMaxBackgroundFlushes(1)
            .SetBlockBasedTableFactory(table);
        _db = RocksDb.Open(options, dir);
    }

    public void Insert(KeyBatch batch, bool[] isNew)
    {
        // First sighting of each key inside the batch; later repeats are not new whatever the store says.
        var first = new Dictionary<string, int>(batch.Count, StringComparer.Ordinal);
        var keys = new List<byte[]>(batch.Count);
        var positions = new List<int>(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            isNew[i] = false;
            if (first.TryAdd(System.Text.Encoding.Latin1.GetString(batch[i]), i))
            {
                keys.Add(batch[i].ToArray());
                positions.Add(i);
            }
        }
        KeyValuePair<byte[], byte[]>[] got = _db.MultiGet([.. keys]);
        using var write = new WriteBatch();
        for (int j = 0; j < got.Length; j++)
        {
            if (got[j].Value is null)
            {
                isNew[positions[j]] = true;
                write.Put(keys[j], s_empty);
            }
        }
        _db.Write(write, _write);
    }

    public void Contains(KeyBatch batch, bool[] found)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            found[i] = _db.HasKey(batch[i]);
        }
    }

    public long Enumerate(byte set, KeyVisitor visit)
    {
        long n = 0;
        using Iterator it = _db.NewIterator();
        for (it.Seek([set]); it.Valid(); it.Next())
        {
            ReadOnlySpan<byte> key = it.GetKeySpan();
            if (key[0] != set)
            {
                break;
            }
            visit(key[1..]);
            n++;
        }
        return n;
    }

    public long Count()
    {
        long n = 0;
        using Iterator it = _db.NewIterator();
        for (it.SeekToFirst(); it.Valid(); it.Next())
        {
            n++;
        }
        return n;
    }

    public void Dispose() => _db.Dispose();
}
