using System.Text.RegularExpressions;

namespace Replica.IntegrationTests.Cli;

/// <summary>
/// A stored dump survives a crash of the machine: every name the local bridge gives (a chunk renamed from its temporary
/// name, the dump's folder made, index.json replaced) is flushed with its folder (fsync on the folder) before the index
/// lists the dump, and the index's own name before the command ends. Seen from outside: the real `replica` under strace.
/// </summary>
public sealed partial class BridgeDurabilityCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [GeneratedRegex("""^\d+\s+(?<call>renameat2?|fsync|mkdirat)\((?<fd>\d+)<(?<dir>[^>]*)>(?:, "(?<name>[^"]*)")?(?:, \d+<(?<to>[^>]*)>, "(?<toName>[^"]*)")?""")]
    private static partial Regex Call();

    [Fact]
    public async Task Dump_LocalBridge_EveryNameIsFlushedWithItsFolderBeforeTheIndexListsTheDump()
    {
        // Found by review: files were flushed, their folders never; after a crash, index.json could list a dump whose
        // chunks were still under their temporary names, or whose folder was not there at all.
        var config = _cli.WriteConfig($"bridge:\n  local:\n    path: {_cli.BridgePath}\n  chunk_size: 16KiB\n");
        var trace = Path.Combine(_cli.WorkingDirectory, "trace.txt");

        var dump = await _cli.RunUnderAsync("strace", ["-f", "-y", "-qq", "-e", "trace=renameat,renameat2,fsync,mkdirat", "-o", trace],
            "dump", "-c", config, "--input", TestPaths.Example("sample-dump.sql"), "--name", "durable");

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var bridge = Path.GetFullPath(_cli.BridgePath);
        var folder = Path.Combine(bridge, "durable");
        // Folders with a name given since their last flush.
        var unflushed = new HashSet<string>(StringComparer.Ordinal);
        int chunks = 0;
        bool listed = false;
        foreach (var line in File.ReadLines(trace))
        {
            var call = Call().Match(line);
            if (!call.Success || !call.Groups["dir"].Value.StartsWith(bridge, StringComparison.Ordinal))
            {
                continue;
            }
            var dir = call.Groups["dir"].Value;
            switch (call.Groups["call"].Value)
            {
                case "fsync":
                    unflushed.Remove(dir);
                    break;
                case "mkdirat":
                    unflushed.Add(dir);
                    break;
                default:
                    var to = call.Groups["to"].Value;
                    if (to == bridge && call.Groups["toName"].Value == "index.json" && !listed)
                    {
                        Assert.True(chunks > 1, $"{chunks} chunks were renamed into {folder} before the index listed the dump");
                        Assert.Empty(unflushed);
                        listed = true;
                    }
                    if (to == folder && call.Groups["toName"].Value.EndsWith(".chunk", StringComparison.Ordinal))
                    {
                        chunks++;
                    }
                    unflushed.Add(to);
                    break;
            }
        }
        Assert.True(listed, "index.json was never renamed into place: " + string.Join('\n', File.ReadLines(trace).Take(20)));
        Assert.Empty(unflushed);
    }
}
