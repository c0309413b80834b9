using Replica.Core.Tests.Config;

namespace Replica.Core.Tests.Fuzz;

/// <summary>
/// The CI share of the fuzz run (bench/Replica.Fuzz runs the same targets for a million cases): 10,000 seeded cases in
/// all, over the lexer and rewriter (PostgreSQL and MySQL), the config loader and the bridge's index and manifest readers.
/// No case may end in an exception other than Replica's documented errors, disagree with itself when split, or run
/// without end (30 s per case; the theory's timeout stops a case that never returns).
/// </summary>
public sealed class SeededFuzzTests
{
    const int Seed = 20261202;

    // 10,000 cases in all. The bridge target writes and reads files for every case, so it gets fewest.
    [Theory(Timeout = 120_000)]
    [InlineData("rewrite-postgresql", 3_000)]
    [InlineData("rewrite-mysql", 3_000)]
    [InlineData("config", 3_000)]
    [InlineData("bridge-json", 1_000)]
    public async Task Run_SeededCases_NoCrashNoHang(string targetName, int cases)
    {
        await Task.Run(() =>
        {
            var targets = FuzzTarget.All(ConfigTestHelpers.RepoRoot());
            try
            {
                var target = targets.Single(t => t.Name == targetName);

                // A hang here is a case that does not finish (a loop without end), not a slow one: timing is not a unit
                // test's business (a case of a few ms took 2.4 s while the other test classes ran beside it on 2 cores).
                // The bench harness keeps the strict 2 s limit on a machine it has to itself.
                var summary = FuzzRunner.Run(target, Seed, cases, TimeSpan.FromSeconds(30));

                var findings = string.Join("\n\n", summary.Findings.Select(f =>
                    $"case {f.Case}: {f.Signature}\nshrunk input ({f.Shrunk.Length} B): {Convert.ToBase64String(f.Shrunk)}\n{f.Message}"));
                Assert.True(summary.Crashes == 0 && summary.Hangs == 0, $"{summary}\n\n{findings}");
                Assert.Equal(cases, summary.Cases);
                // Both outcomes must occur, or the mutations test nothing (all refused) or nothing deep (all accepted).
                Assert.True(summary.Accepted > cases / 100 && summary.Refused > cases / 100, summary.ToString());
            }
            finally
            {
                targets.ForEach(t => t.Dispose());
            }
        });
    }
}
