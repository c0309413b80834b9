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
}
