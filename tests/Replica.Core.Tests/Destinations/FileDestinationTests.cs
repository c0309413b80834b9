using System.Diagnostics;
using System.Runtime.Versioning;
using Replica.Core.Tests.Bridges;
using Replica.Destinations;

namespace Replica.Core.Tests.Destinations;

/// <summary>
/// `--output FILE` (restore, export): a regular file appears whole or not at all; a device or FIFO is written in place
/// and stays what it is (renaming the temporary file over /dev/null replaced it with a regular file; a FIFO stands in
/// for it here, so that a regression cannot break the machine the tests run on).
/// </summary>
public sealed class FileDestinationTests : IDisposable
{
    readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    static async Task WriteAsync(IRestoreDestination destination, byte[] data)
    {
        await destination.PrepareAsync(CancellationToken.None);
        Stream stream = destination.Open();
        await stream.WriteAsync(data);
        await destination.CommitAsync(CancellationToken.None);
    }

    static string KindOf(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%F", path]) { RedirectStandardOutput = true })!;
        string kind = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return kind;
    }

    [Fact]
    public async Task Fifo_IsWrittenInPlaceAndStaysAFifo()
    {
        string fifo = _dir.Combine("pipe");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        // Opened for reading and writing, a FIFO opens at once on Linux; its 64 KiB buffer holds what is written here.
        await using var reader = new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        byte[] data = BridgeTestSupport.Bytes(10_000);

        await using (var destination = new FileDestination(fifo))
        {
            await WriteAsync(destination, data);
        }

        Assert.Equal("fifo", KindOf(fifo));
        Assert.Equal(FileKind.Other, FileKinds.Of(fifo));
        byte[] read = new byte[data.Length];
        await reader.ReadExactlyAsync(read);
        Assert.Equal(data, read);
        Assert.Equal(["pipe"], Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Directory_IsRefusedNamingIt()
    {
        await using var destination = new FileDestination(_dir.Path);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => WriteAsync(destination, [1, 2, 3]));

        Assert.Contains($"cannot write {_dir.Path}: it is a directory", ex.Message);
    }

    [Fact]
    public async Task RegularFile_IsReplacedWholeOnCommit_AndKeptAsItWasWithout()
    {
        string file = _dir.Combine("out.sql");
        File.WriteAllText(file, "before");

        await using (var abandoned = new FileDestination(file))
        {
            abandoned.Open().Write([9, 9, 9]);
        }
        Assert.Equal("before", File.ReadAllText(file));
        await using (var destination = new FileDestination(file))
        {
            await WriteAsync(destination, "after"u8.ToArray());
        }

        Assert.Equal("after", File.ReadAllText(file));
        Assert.Equal(FileKind.Regular, FileKinds.Of(file));
        Assert.Equal(FileKind.Missing, FileKinds.Of(_dir.Combine("absent")));
        Assert.Equal(["out.sql"], Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName));
    }

    /// <summary>
    /// A restored dump holds data: replacing a file kept private must not open it to others (the rename put a 0644
    /// temporary file in the place of a 0600 one). The temporary file is no more open than it while the restore runs.
    /// </summary>
    [Theory, UnsupportedOSPlatform("windows")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)]
    public async Task RegularFile_Replaced_KeepsItsPermissions(UnixFileMode mode)
    {
        string file = _dir.Combine("out.sql");
        File.WriteAllText(file, "before");
        File.SetUnixFileMode(file, mode);

        await using (IRestoreDestination destination = new FileDestination(file))
        {
            await destination.PrepareAsync(CancellationToken.None);
            Stream stream = destination.Open();
            await stream.WriteAsync("after"u8.ToArray());
            string partial = Assert.Single(Directory.EnumerateFiles(_dir.Path, ".out.sql.*.partial"));
            Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(partial) & ~mode);
            await destination.CommitAsync(CancellationToken.None);
        }

        Assert.Equal("after", File.ReadAllText(file));
        Assert.Equal(mode, File.GetUnixFileMode(file));
    }

    [Fact, UnsupportedOSPlatform("windows")]
    public async Task RegularFile_ChmodDuringTheRestore_IsWhatTheReplacementGets()
    {
        string file = _dir.Combine("out.sql");
        File.WriteAllText(file, "before");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await using (IRestoreDestination destination = new FileDestination(file))
        {
            await destination.PrepareAsync(CancellationToken.None);
            await destination.Open().WriteAsync("after"u8.ToArray());
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await destination.CommitAsync(CancellationToken.None);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    /// <summary>A new file gets what any new file of this process gets (0666 less the umask), as pg_dump -f gives it.</summary>
    [Fact, UnsupportedOSPlatform("windows")]
    public async Task NewFile_GetsTheModeOfAnyNewFile()
    {
        string reference = _dir.Combine("reference");
        File.Create(reference).Dispose();
        string file = _dir.Combine("out.sql");

        await using (var destination = new FileDestination(file))
        {
            await WriteAsync(destination, "new"u8.ToArray());
        }

        Assert.Equal(File.GetUnixFileMode(reference), File.GetUnixFileMode(file));
    }
}
