using Replica.Clients;

namespace Replica.Core.Tests.Clients;

public class ExitCleanupTests
{
    /// <summary>
    /// A tool still running and an option file still on disk when the process ends are killed and deleted (the backstop
    /// for an exit that comes before their owners' cleanup: found by review, an interrupted MySQL restore left its
    /// client running as an orphan and its password file in /tmp). One that was disposed is left alone.
    /// </summary>
    [Fact]
    public async Task AtExit_RunningToolsAreKilledAndOptionFilesDeleted()
    {
        var running = ToolProcess.Start("/bin/sh", ["-c", "sleep 600 & wait"], new Dictionary<string, string>(), ChildEnvironment.WithoutConfig);
        var disposed = ToolProcess.Start("/bin/sh", ["-c", "sleep 600"], new Dictionary<string, string>(), ChildEnvironment.WithoutConfig);
        var disposedId = disposed.Id;
        await disposed.DisposeAsync();
        using var options = MysqlOptionFile.Create(DatabaseUri.Parse("mysql://u:secret@127.0.0.1:3306/db"));
        Assert.True(File.Exists(options.Path));

        ExitCleanup.RunAll(p => p.Id == running.Id || p.Id == disposedId, f => f == options.Path);

        var exited = running.WaitForSuccessAsync(CancellationToken.None);
        Assert.Same(exited, await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(30))));
        await Assert.ThrowsAnyAsync<Exception>(() => exited); // killed: not a success
        Assert.False(File.Exists(options.Path));
        await running.DisposeAsync();
    }

    /// <summary>The exit waits for an open critical section (a swap) before it kills anything, for as long as it stays open.</summary>
    [Fact]
    public async Task AtExit_WaitsForAnOpenCriticalSection()
    {
        var section = ExitCleanup.Critical("the test's step");
        Assert.False(ExitCleanup.WaitForCriticalSections(TimeSpan.FromMilliseconds(200)));

        var waiting = Task.Run(() => ExitCleanup.WaitForCriticalSections(TimeSpan.FromSeconds(30)));
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        section.Dispose();
        section.Dispose(); // once only

        Assert.True(await waiting);
        Assert.True(ExitCleanup.WaitForCriticalSections(TimeSpan.Zero));

        // Without a limit too (the exit's own wait).
        var again = ExitCleanup.Critical("the test's second step");
        var unlimited = Task.Run(() => ExitCleanup.WaitForCriticalSections(Timeout.InfiniteTimeSpan));
        await Task.Delay(100);
        Assert.False(unlimited.IsCompleted);
        again.Dispose();
        Assert.True(await unlimited);
    }
}
