using System.Diagnostics;
using System.Globalization;
using Replica.Core.Tests.Fuzz;

// The long fuzz run: seeded mutations of real dumps, configs and bridge files through the lexer and rewriter (both
// dialects), the config loader and the index and manifest readers. Prints one summary line per target and the totals.
//
//   dotnet run -c Release --project bench/Replica.Fuzz -- [--cases N] [--seed S] [--target NAME] [--hang-ms MS]
//       [--first-case N] [--out DIR] [--no-json-transformer]
//
// --cases is per target (default 250000); --out keeps each finding's input and shrunk input there. Exit code 0 when
// there was no crash and no hang, 2 otherwise, 3 when a case ran past the watchdog (a real hang: the run stops there).
var cases = 250_000L;
var seed = 1;
var firstCase = 0L;
var hangLimit = TimeSpan.FromSeconds(2);
string? only = null;
string? outDir = null;
var includeJson = true;
string? replay = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--cases": cases = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--first-case": firstCase = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--target": only = args[++i]; break;
        case "--hang-ms": hangLimit = TimeSpan.FromMilliseconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
        case "--out": outDir = args[++i]; break;
        case "--no-json-transformer": includeJson = false; break;
        case "--replay": replay = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 1;
    }
}

// The repository: above the working directory, else above the harness (a copy of bin/ elsewhere is run from the repository).
var root = new DirectoryInfo(Environment.CurrentDirectory);
while (root is not null && !File.Exists(Path.Combine(root.FullName, "Replica.sln")))
{
    root = root.Parent;
}
root ??= new DirectoryInfo(AppContext.BaseDirectory);
while (root is not null && !File.Exists(Path.Combine(root.FullName, "Replica.sln")))
{
    root = root.Parent;
}
if (root is null)
{
    Console.Error.WriteLine("Replica.sln not found above " + AppContext.BaseDirectory);
    return 1;
}
if (outDir is not null)
{
    Directory.CreateDirectory(outDir);
}

var targets = FuzzTarget.All(root.FullName, includeJson);
if (replay is not null)
{
    // --replay FILE --target NAME: runs a saved input with the randomness of cases --first-case.. (rules, split points).
    var input = File.ReadAllBytes(replay);
    var target = targets.Single(t => t.Name == only);
    for (var n = firstCase; n < firstCase + Math.Min(cases, 100); n++)
    {
        var started = Stopwatch.GetTimestamp();
        var error = FuzzRunner.Replay(target, input, 0, seed, n);
        Console.WriteLine($"case {n}: {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms, {(error is null ? "no crash" : error.ToString())}");
    }
    targets.ForEach(t => t.Dispose());
    return 0;
}
Console.WriteLine($"replica fuzz: seed {seed}, {cases} cases per target from case {firstCase}, hang limit {hangLimit.TotalMilliseconds:0} ms, "
    + $"json transformer {(includeJson ? "on" : "off")}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");

// The watchdog: a case that never ends would stop the run silently; say which one it is and stop.
var current = "";
var caseStarted = Stopwatch.GetTimestamp();
var watchdog = new Thread(() =>
{
    while (true)
    {
        Thread.Sleep(5000);
        if (Stopwatch.GetElapsedTime(Volatile.Read(ref caseStarted)) > TimeSpan.FromSeconds(120))
        {
            Console.Error.WriteLine($"replica fuzz: {Volatile.Read(ref current)} has run for over 120 s: a hang; replay it with --first-case");
            Environment.Exit(3);
        }
    }
}) { IsBackground = true };
watchdog.Start();

var total = new FuzzSummary("total");
foreach (var target in targets)
{
    if (only is not null && target.Name != only)
    {
        continue;
    }
    var progress = Stopwatch.StartNew();
    var summary = FuzzRunner.Run(target, seed, cases, hangLimit, firstCase,
        onFinding: finding =>
        {
            Console.WriteLine($"  FINDING {finding.Target} case {finding.Case}: {finding.Signature} (input {finding.Input.Length} B, shrunk to {finding.Shrunk.Length} B)");
            Console.WriteLine("    " + finding.Message.Split('\n')[0]);
            if (outDir is not null)
            {
                var stem = Path.Combine(outDir, $"{finding.Target}-{finding.Case}");
                File.WriteAllBytes(stem + ".input", finding.Input);
                File.WriteAllBytes(stem + ".shrunk", finding.Shrunk);
                File.WriteAllText(stem + ".txt", $"{finding.Signature}\nseed {seed} case {finding.Case}\n\n{finding.Message}\n");
            }
        },
        onCaseStart: n =>
        {
            Volatile.Write(ref current, $"{target.Name} seed {seed} case {n}");
            Volatile.Write(ref caseStarted, Stopwatch.GetTimestamp());
            if (progress.Elapsed > TimeSpan.FromSeconds(60))
            {
                Console.Error.WriteLine($"  ... {target.Name} case {n}");
                progress.Restart();
            }
        });
    Console.WriteLine(summary);
    total.Cases += summary.Cases;
    total.Accepted += summary.Accepted;
    total.Refused += summary.Refused;
    total.Crashes += summary.Crashes;
    total.Hangs += summary.Hangs;
    total.Wall += summary.Wall;
    total.InputBytes += summary.InputBytes;
    total.Slowest = summary.Slowest > total.Slowest ? summary.Slowest : total.Slowest;
}
// Every target, run or not: the bridge target made a temporary directory when it was created.
targets.ForEach(t => t.Dispose());
Console.WriteLine(total);
return total.Crashes + total.Hangs == 0 ? 0 : 2;
