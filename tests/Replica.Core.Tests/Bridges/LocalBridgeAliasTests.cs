using Replica.Bridges;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>
/// A local bridge on a file system that takes one name for another: macOS's APFS and Windows's NTFS ignore case, and
/// Windows drops trailing dots, so "DUMP-1" and "dump-1." open the folder of dump "dump-1". A command given such a
/// name must never act on that dump. This Linux machine cannot mount such a file system (its kernel has no casefold),
/// so <see cref="AliasingStore"/> resolves names over a real <see cref="LocalStore"/> the way those file systems do.
/// </summary>
public sealed class LocalBridgeAliasTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;

    public LocalBridgeAliasTests() => _bridge = new LocalBridge(_dir.Path);

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("DUMP-1")]
    [InlineData("Dump-1")]
    [InlineData("dump-1.")]
    public async Task DeleteAsync_NameTheFileSystemTakesForAListedDumpsFolder_RefusedAndTheDumpStays(string alias)
    {
        byte[] data = Bytes(3000);
        await WriteDumpAsync(_bridge, "dump-1", data, 1000);
        var aliasing = new ObjectBridge(new AliasingStore(new LocalStore(_dir.Path, new LocalBridgeOptions())));

        var ex = await Assert.ThrowsAsync<BridgeException>(() => aliasing.DeleteAsync(alias, CancellationToken.None));

        Assert.Contains($"'{alias}'", ex.Message);
        Assert.Contains("'dump-1'", ex.Message);
        Assert.Equal(["dump-1"], (await _bridge.ListAsync(CancellationToken.None)).Select(e => e.Name));
        Assert.Equal(data, await RestoreAsync(_bridge, "dump-1"));
    }

    [Fact]
    public async Task DeleteAsync_ExactNameOnAFileSystemThatIgnoresCase_DeletesTheDump()
    {
        await WriteDumpAsync(_bridge, "dump-1", Bytes(3000), 1000);
        var aliasing = new ObjectBridge(new AliasingStore(new LocalStore(_dir.Path, new LocalBridgeOptions())));

        await aliasing.DeleteAsync("dump-1", CancellationToken.None);

        Assert.Empty(await _bridge.ListAsync(CancellationToken.None));
        Assert.False(Directory.Exists(_dir.Combine("dump-1")));
    }

    /// <summary>
    /// A <see cref="LocalStore"/> seen through a file system that ignores case and trailing dots in a dump folder's name
    /// (the first part of a key): every name reaches the folder whose name matches it that way, and listings show the
    /// names as the directory holds them, as such a file system does. Replica's own names are lower case.
    /// </summary>
    sealed class AliasingStore(LocalStore inner) : IObjectStore, IDirectoryStore
    {
        static string Fold(string key)
        {
            int slash = key.IndexOf('/');
            string folder = slash < 0 ? key : key[..slash];
            return folder.TrimEnd('.').ToLowerInvariant() + (slash < 0 ? "" : key[slash..]);
        }

        public string Description => inner.Description;

        public string Show(string key) => inner.Show(key);

        public Task<StoredObject?> GetAsync(string key, string what, Func<long, Memory<byte>>? buffer, CancellationToken cancellationToken) =>
            inner.GetAsync(Fold(key), what, buffer, cancellationToken);

        public Task PutAsync(string key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> sha256, string what, CancellationToken cancellationToken) =>
            inner.PutAsync(Fold(key), data, sha256, what, cancellationToken);

        public Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, string what, CancellationToken cancellationToken) =>
            inner.PutIfAbsentAsync(Fold(key), data, what, cancellationToken);

        public Task<bool> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string? etag, string what, CancellationToken cancellationToken) =>
            inner.PutIfMatchAsync(Fold(key), data, etag, what, cancellationToken);

        public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // The directory is read under the name asked for, as LocalStore names what it lists.
            string folded = Fold(prefix);
            await foreach (ObjectInfo item in inner.ListAsync(folded, cancellationToken))
            {
                yield return item with { Key = prefix + item.Key[folded.Length..] };
            }
        }

        public Task<IReadOnlyList<string>> ListFoldersAsync(CancellationToken cancellationToken) => inner.ListFoldersAsync(cancellationToken);

        public Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
            inner.DeleteAsync([.. keys.Select(Fold)], cancellationToken);

        public Task<IWriterLease> AcquireLeaseAsync(string name, ReadOnlyMemory<byte> owner, CancellationToken cancellationToken) =>
            inner.AcquireLeaseAsync(Fold(name), owner, cancellationToken);

        public Task<IAsyncDisposable> LockAsync(bool create, CancellationToken cancellationToken) => inner.LockAsync(create, cancellationToken);

        public Task<bool> IsWriterAliveAsync(string name, CancellationToken cancellationToken) => inner.IsWriterAliveAsync(Fold(name), cancellationToken);

        public Task<string?> MoveAsideAsync(string name, CancellationToken cancellationToken) => inner.MoveAsideAsync(Fold(name), cancellationToken);

        public Task DeleteMovedAsync(string? moved, CancellationToken cancellationToken) => inner.DeleteMovedAsync(moved, cancellationToken);

        public Task RemoveIfEmptyAsync(string name, CancellationToken cancellationToken) => inner.RemoveIfEmptyAsync(Fold(name), cancellationToken);
    }
}
