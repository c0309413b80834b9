using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Replica.IntegrationTests.Cli;

/// <summary>
/// Signals that end a run from outside: each must let the run clean up what it started and wrote, as Ctrl+C does.
/// </summary>
public sealed class SignalCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>
    /// SIGHUP (the terminal closed, the ssh session dropped) or SIGTERM (a service manager's stop) while the mysql client
    /// connects: the option file that holds the password is deleted and the run ends as interrupted. Found by review:
    /// .NET ends a process on SIGHUP without ProcessExit, so the file stayed in /tmp with the password in it; with the
    /// output on pipes, SIGTERM did the same through System.CommandLine's handling (exit 143, nothing printed).
    /// </summary>
    [Theory]
    [InlineData("-HUP")]
    [InlineData("-TERM")]
    public async Task Dump_SignalWhileTheMysqlClientConnects_LeavesNoPasswordFileBehind(string signal)
    {
        const string password = "hangup-pw-0123456789";
        // A server that accepts the connection and never says a word: the client waits for its greeting.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var temp = Directory.CreateDirectory(Path.Combine(_cli.WorkingDirectory, "tmp")).FullName;
        var config = _cli.WriteConfig($"""
            source:
              connection_uri: mysql://dumper:{password}@127.0.0.1:{port}/shop
            bridge:
              local: {"{"} path: {_cli.BridgePath} {"}"}
            """);
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _cli.WorkingDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "replica.dll"), "dump", "-c", config })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["REPLICA_SECRET"] = ReplicaCli.Secret;
        start.Environment["TMPDIR"] = temp;
        using var replica = Process.Start(start)!;
        var stderr = replica.StandardError.ReadToEndAsync();
        var stdout = replica.StandardOutput.ReadToEndAsync();
        string[] OptionFiles() => Directory.GetFiles(temp, "replica-mysql-*.cnf");
        for (var i = 0; i < 600 && OptionFiles().Length == 0 && !replica.HasExited; i++)
        {
            await Task.Delay(100);
        }
        Assert.True(OptionFiles().Length > 0, "the mysql client was never started: " + (replica.HasExited ? await stderr : "(still running)"));

        using (var kill = Process.Start("kill", [signal, replica.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await replica.WaitForExitAsync(timeout.Token);

        var message = await stderr + await stdout;
        Assert.True(OptionFiles().Length == 0 && replica.ExitCode == 130, $"exit code {replica.ExitCode}, option files left: {OptionFiles().Length}, output: {message}");
        Assert.DoesNotContain(password, message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_cli.BridgePath) && Directory.EnumerateFiles(_cli.BridgePath, "index.json").Any(f => File.ReadAllText(f).Contains("dump-", StringComparison.Ordinal)),
            "a dump was listed");
    }

    /// <summary>
    /// Runs its arguments in a new pseudo-terminal (stdin stays this script's stdin, a pipe), reads the terminal until a
    /// dump is being written in the bridge (argv[1]) and a second more, so that progress is drawn, then closes the master,
    /// as sshd does when the connection drops: the kernel hangs the terminal up and sends SIGHUP, and every later write to
    /// it fails with EIO. Prints whether a dump was being written, then the exit code (-N: killed by signal N).
    /// </summary>
    const string HangUpScript = """
        import glob, os, pty, select, sys, time
        bridge, command = sys.argv[1], sys.argv[2:]
        stdin = os.dup(0)
        pid, master = pty.fork()
        if pid == 0:
            os.dup2(stdin, 0)
            os.execvp(command[0], command)
        deadline, writing = time.monotonic() + 120, None
        while time.monotonic() < deadline and (writing is None or time.monotonic() - writing < 1):
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
            if writing is None and glob.glob(os.path.join(bridge, '*', '.writing')):
                writing = time.monotonic()
        os.close(master)
        status = os.waitpid(pid, 0)[1]
        print('writing' if writing else 'never writing', os.waitstatus_to_exitcode(status))
        """;

    /// <summary>
    /// The terminal hangs up (the ssh connection dropped) during a dump: the run ends as interrupted (130) and its
    /// unfinished dump is removed from the bridge. Found by review: the progress line's write to the hung-up terminal
    /// failed with EIO, the exception reached the crash handler, whose own write failed too, and the process aborted
    /// (SIGABRT, 134) with the dump's folder, its .writing marker and chunks left in the bridge; with --quiet the folder
    /// was removed but the "interrupted" line failed the same way (134).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dump_TerminalHangsUp_ExitsInterruptedAndRemovesTheUnfinishedDump(bool quiet)
    {
        var config = _cli.WriteConfig($"""
            secret: {ReplicaCli.Secret}
            bridge:
              local: {"{"} path: {_cli.BridgePath} {"}"}
            """);
        var start = new ProcessStartInfo("python3")
        {
            WorkingDirectory = _cli.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-c", HangUpScript, _cli.BridgePath, "dotnet", Path.Combine(AppContext.BaseDirectory, "replica.dll"), "dump", "-c", config, "--input", "-" })
        {
            start.ArgumentList.Add(argument);
        }
        if (quiet)
        {
            start.ArgumentList.Add("--quiet");
        }
        using var python = Process.Start(start)!;
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = python.StandardError.ReadToEndAsync();
        // Some SQL, less than a pipe holds (so this write never waits for replica); stdin stays open, so the dump, begun
        // in the bridge, waits for more until the hang-up.
        for (var i = 0; i < 200; i++)
        {
            await python.StandardInput.WriteLineAsync($"INSERT INTO t VALUES ({i}, 'row {i} {new string('x', 200)}');");
        }
        await python.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        await python.WaitForExitAsync(timeout.Token);

        var outcome = (await stdout).Trim();
        Assert.True(outcome == "writing 130", $"expected 'writing 130', got '{outcome}' {await stderr}");
        _cli.AssertNoDumpFolder();
        python.StandardInput.Close();
    }
}
