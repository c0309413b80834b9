using System.Text;
using Replica.Subsetting;

namespace Replica.Core.Tests.Subsetting;

/// <summary>The subset key store: dedupe, upgrade to downward, rounds, order by UTF-8 bytes, spilling, clean-up.</summary>
public class KeyStoreTests
{
    [Fact]
    public void Reach_SameKeyTwice_IsNewOnceAndCountedOnce()
    {
        using var store = new KeyStore(4 << 20);
        Assert.True(store.Reach(0, "42", ["42", null], down: false, round: 1));
        Assert.False(store.Reach(0, "42", ["42", null], down: false, round: 1));
        Assert.True(store.Reach(1, "42", ["42"], down: false, round: 1));
        Assert.Equal(1, store.KeptCount(0));
        Assert.True(store.IsKept(0, "42"));
        Assert.False(store.IsKept(0, "43"));
    }

    [Fact]
    public void Reach_UpwardRowReachedDownward_WaitsAgainAsDownward()
    {
        using var store = new KeyStore(4 << 20);
        Assert.True(store.Reach(0, "7", ["7", "x"], down: false, round: 1));
        Assert.True(store.Reach(0, "7", ["7", "x"], down: true, round: 3));
        Assert.False(store.Reach(0, "7", ["7", "x"], down: true, round: 4));
        Assert.False(store.Reach(0, "7", ["7", "x"], down: false, round: 4));
        Assert.Empty(store.Pending(0, 1).SelectMany(page => page));
        var pending = Assert.Single(store.Pending(0, 3).SelectMany(page => page));
        Assert.Equal(("7", true), (pending.Id, pending.Down));
        Assert.Equal<string?>(["7", "x"], pending.Values.AsEnumerable());
        Assert.Equal(1, store.KeptCount(0));
    }

    [Fact]
    public void Kept_OrdersByUtf8Bytes()
    {
        using var store = new KeyStore(4 << 20);
        // UTF-16 order would put U+FF21 after U+1F600's surrogates; UTF-8 bytes put it before.
        string[] keys = ["b", "a", "\U0001F600", "\uFF21", "ab", "", "A"];
        foreach (var key in keys)
        {
            store.Reach(0, key, [key], down: true, round: 1);
        }
        var expected = keys.OrderBy(k => Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();
        Assert.Equal(expected, store.Kept(0));
    }

    [Fact]
    public void Store_BeyondItsBudget_SpillsAndStaysExact()
    {
        using var store = new KeyStore(1 << 20);
        const int Count = 300_000;
        var newOnes = 0;
        // Every key twice, in an order that is not sorted.
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < Count; i++)
            {
                var key = ((i * 7919L) % Count).ToString("D9", System.Globalization.CultureInfo.InvariantCulture);
                newOnes += store.Reach(0, key, [key, "some other value"], down: true, round: 1) ? 1 : 0;
                newOnes += store.Ask(5, key) ? 1 : 0;
            }
        }
        Assert.Equal(2 * Count, newOnes);
        Assert.Equal(Count, store.KeptCount(0));
        Assert.True(store.DiskBytes > 4 << 20, $"{store.DiskBytes} bytes on disk: the store did not spill");
        var previous = "";
        var seen = 0;
        foreach (var key in store.Kept(0))
        {
            Assert.True(string.CompareOrdinal(previous, key) < 0);
            previous = key;
            seen++;
        }
        Assert.Equal(Count, seen);
        Assert.True(store.IsKept(0, "000123456"));
        Assert.False(store.IsKept(0, "000300000"));
    }

    [Fact]
    public void Smallest_TakesTheLimitByHashThenKey_OverSeveralPages()
    {
        using var store = new KeyStore(4 << 20);
        for (var i = 0; i < 12_000; i++)
        {
            var id = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Hashes near both ends of the range: the store must order them as unsigned.
            var hash = i % 2 == 0 ? (ulong)i : ulong.MaxValue - (ulong)i;
            store.AddSample(2, hash, new KeyRow(id, [id]));
        }
        store.AddSample(3, 0, new KeyRow("other root", ["x"]));
        var smallest = store.Smallest(2, 6_001).Select(r => r.Id).ToList();
        Assert.Equal(6_001, smallest.Count);
        Assert.Equal(Enumerable.Range(0, 6_000).Select(i => (i * 2).ToString(System.Globalization.CultureInfo.InvariantCulture)), smallest.Take(6_000));
        Assert.Equal("11999", smallest[^1]);
    }

    [Fact]
    public void Dispose_RemovesTheTempDirectory()
    {
        var parent = Directory.CreateTempSubdirectory("replica-keystore-test-").FullName;
        try
        {
            var store = new KeyStore(4 << 20, parent);
            store.Reach(0, "1", ["1"], down: true, round: 1);
            Assert.True(Directory.Exists(store.DirectoryPath));
            Assert.StartsWith(parent, store.DirectoryPath, StringComparison.Ordinal);
            store.Dispose();
            Assert.Empty(Directory.EnumerateFileSystemEntries(parent));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
