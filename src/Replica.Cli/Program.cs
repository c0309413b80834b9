using System.CommandLine;
using Replica.Cli.Commands;

namespace Replica.Cli;

/// <summary>The `replica` executable: parses arguments, reads config, shows progress, maps failures to exit codes.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // First, before anything writes to it: no write to stderr can throw (a hung-up terminal fails every write with EIO;
        // FailSafeWriter), so neither the progress timer, nor the "interrupted" line, nor the handler below can end the
        // process before an interrupted command has cleaned up. Nothing written to stdout or stderr can drive the terminal
        // (TerminalSafeWriter): names and messages come from bridges that others can write.
        TerminalSafeWriter.Install(new FailSafeWriter(Console.Error));
        // An exception on a thread or pool task that nobody awaits would end the process with a stack trace and SIGABRT
        // (exit 134), whatever the command's handler does. It cannot be recovered from, but it can end as any other
        // unexpected error: one line on stderr and exit code 1. The exit comes whatever the line does: a throw in here
        // would be the abort again, without the exit's cleanup (ExitCleanup).
        AppDomain.CurrentDomain.UnhandledException += static (_, e) =>
        {
            try
            {
                Console.Error.WriteLine(e.ExceptionObject is Exception exception
                    ? CommonOptions.Unexpected(exception)
                    : "replica: unexpected error (a bug; please report it)");
            }
            finally
            {
                Environment.Exit(1);
            }
        };
        // After Ctrl-C the exit waits for a swap that cannot be cut, and says so, and how it ended.
        Replica.Clients.ExitNotices.Writer = static notice => Console.Error.WriteLine(notice);
        var root = CreateRootCommand();
        // Ctrl+C, SIGTERM, SIGHUP and SIGQUIT cancel the command's token, so that an interrupted dump removes what it
        // stored and exits 130 (Interrupts). System.CommandLine's own handling (ProcessTerminationTimeout) covered only
        // SIGINT and SIGTERM, and was seen to end the process with 143 and nothing cleaned up.
        using var interrupt = new CancellationTokenSource();
        using var interrupts = Interrupts.CancelOnSignals(interrupt);
        var configuration = new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        return await root.Parse(args).InvokeAsync(configuration, interrupt.Token).ConfigureAwait(false);
    }

    /// <summary>Every command with its options and validators: what Main runs, and what tests parse documented command lines with.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("""
            Replica: production data into development, test and CI, safely.
            Reads a plain-format PostgreSQL dump, masks the configured columns, and stores it in chunks in a bridge
            (a local directory by default), from which it can be restored.

            Exit codes: 0 ok, 1 usage or unexpected error, 2 config error, 3 malformed dump, 4 bridge or I/O error,
            5 integrity failure (checksum, missing chunk), 6 transformer failure, 7 database error, 8 leak found
            (leakcheck), 130 interrupted.
            """);
        root.Subcommands.Add(DumpCommand.Create());
        root.Subcommands.Add(RestoreCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(LeakCheckCommand.Create());
        root.Subcommands.Add(ListCommand.Create());
        root.Subcommands.Add(DeleteCommand.Create());
        root.Subcommands.Add(ArchiveCommands.Export());
        root.Subcommands.Add(ArchiveCommands.Import());
        root.Subcommands.Add(ShareCommand.Create());
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(SchemaCommand.Create());
        root.Subcommands.Add(ScanCommand.Create());
        root.Subcommands.Add(SubsetCommand.Create());
        root.Subcommands.Add(TransformersCommand.Create());
        root.Subcommands.Add(KeygenCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}
