using System.Diagnostics;

namespace Replica.Core.Tests.Fuzz;

/// <summary>A crash, an oracle failure or a hang: where it came from, and the input shrunk as far as it still fails the same way.</summary>
public sealed record FuzzFinding(string Target, long Case, string Signature, string Message, byte[] Input, byte[] Shrunk);

/// <summary>The figures of one run over one target.</summary>
public sealed class FuzzSummary(string target)
{
    public string Target { get; } = target;
    public long Cases { get; set; }
    public long Accepted { get; set; }
    public long Refused { get; set; }
    public long Crashes { get; set; }
    public long Hangs { get; set; }
    public TimeSpan Wall { get; set; }
    public TimeSpan Slowest { get; set; }
    public long InputBytes { get; set; }
    public List<FuzzFinding> Findings { get; } = [];

    public override string ToString() =>
        $"{Target}: {Cases} cases ({Accepted} accepted, {Refused} refused with a documented error), {Crashes} crashes, {Hangs} hangs, "
        + $"{Wall.TotalSeconds:0.0} s, {Cases / Math.Max(Wall.TotalSeconds, 1e-9):0} cases/s, slowest case {Slowest.TotalMilliseconds:0} ms, "
        + $"{InputBytes / (1024.0 * 1024.0):0.0} MiB of input";
}

/// <summary>
/// Runs seeded cases over a target. Case n of seed s uses its own <see cref="Random"/>(s, n), so any case can be replayed
/// alone (<see cref="Replay"/>). An exception other than a documented error is a crash; a case slower than the hang limit
/// is a hang. Each distinct finding (exception type and the Replica method it came from) is kept once, shrunk.
/// </summary>
public static class FuzzRunner
{
    public static FuzzSummary Run(FuzzTarget target, int seed, long cases, TimeSpan hangLimit, long firstCase = 0, Action<FuzzFinding>? onFinding = null,
        Action<long>? onCaseStart = null)
    {
        var summary = new FuzzSummary(target.Name);
        var signatures = new HashSet<string>(StringComparer.Ordinal);
        var wall = Stopwatch.StartNew();
        var one = new Stopwatch();
        for (var n = firstCase; n < firstCase + cases; n++)
        {
            onCaseStart?.Invoke(n);
            var (input, seedIndex) = Input(target, seed, n);
            summary.InputBytes += input.Length;
            one.Restart();
            var error = Execute(target, input, seedIndex, seed, n, out var outcome);
            one.Stop();
            summary.Cases++;
            if (one.Elapsed > summary.Slowest)
            {
                summary.Slowest = one.Elapsed;
            }
            string? signature = null;
            if (error is not null)
            {
                summary.Crashes++;
                signature = Signature(error);
            }
            else if (one.Elapsed > hangLimit)
            {
                summary.Hangs++;
                signature = "hang";
                error = new TimeoutException($"the case took {one.Elapsed.TotalMilliseconds:0} ms (limit {hangLimit.TotalMilliseconds:0} ms)");
            }
            else if (outcome == FuzzOutcome.Accepted)
            {
                summary.Accepted++;
            }
            else
            {
                summary.Refused++;
            }
            if (signature is not null && signatures.Add(signature))
            {
                var shrunk = signature == "hang" ? input : Shrink(target, input, seedIndex, seed, n, signature);
                var finding = new FuzzFinding(target.Name, n, signature, error!.ToString(), input, shrunk);
                summary.Findings.Add(finding);
                onFinding?.Invoke(finding);
            }
        }
        summary.Wall = wall.Elapsed;
        return summary;
    }

    /// <summary>The input of case <paramref name="n"/> and the index of the seed it was mutated from.</summary>
    public static (byte[] Input, int SeedIndex) Input(FuzzTarget target, int seed, long n)
    {
        var random = CaseRandom(seed, n, 0);
        var input = target.Mutate(new FuzzMutator(random, target.Seeds, target.Tokens), random, out var seedIndex);
        return (input, seedIndex);
    }

    /// <summary>Runs case <paramref name="n"/> again (or another input with its randomness); the exception, if it crashes.</summary>
    public static Exception? Replay(FuzzTarget target, byte[] input, int seedIndex, int seed, long n) =>
        Execute(target, input, seedIndex, seed, n, out _);

    static Exception? Execute(FuzzTarget target, byte[] input, int seedIndex, int seed, long n, out FuzzOutcome outcome)
    {
        outcome = FuzzOutcome.Refused;
        // Any exception that leaves a target is the finding.
        try
        {
            outcome = target.Run(input, seedIndex, CaseRandom(seed, n, 1));
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>A generator for one case, the same in every process (HashCode is randomized per process, so not that).</summary>
    static Random CaseRandom(int seed, long n, int stream)
    {
        // SplitMix64's finalizer over the three numbers.
        var z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)n * 0x9E3779B97F4A7C15UL ^ (ulong)stream * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return new Random((int)(z ^ (z >> 31)));
    }

    /// <summary>The exception's type and the innermost Replica method on its stack: one signature per distinct bug.</summary>
    public static string Signature(Exception e)
    {
        if (e is FuzzOracleException)
        {
            // The kind of failure, without the figures of this input (so that shrinking keeps to the same kind).
            var end = e.Message.IndexOfAny([':', '(']);
            return "oracle: " + (end > 0 ? e.Message[..end] : e.Message).Trim();
        }
        var frame = new StackTrace(e).GetFrames().Select(f => f.GetMethod())
            .FirstOrDefault(m => m?.DeclaringType?.FullName?.StartsWith("Replica.", StringComparison.Ordinal) == true
                && m.DeclaringType.FullName?.StartsWith("Replica.Core.Tests", StringComparison.Ordinal) != true);
        return $"{e.GetType().Name} in {frame?.DeclaringType?.Name}.{frame?.Name}";
    }

    /// <summary>Removes ever smaller ranges while the input still fails with the same signature (at most a few thousand tries).</summary>
    static byte[] Shrink(FuzzTarget target, byte[] input, int seedIndex, int seed, long n, string signature)
    {
        var best = input;
        var tries = 0;
        for (var size = Math.Max(1, best.Length / 2); size >= 1 && tries < 4000; size /= 2)
        {
            for (var at = 0; at + size <= best.Length && tries < 4000; tries++)
            {
                var candidate = new byte[best.Length - size];
                best.AsSpan(0, at).CopyTo(candidate);
                best.AsSpan(at + size).CopyTo(candidate.AsSpan(at));
                if (Execute(target, candidate, seedIndex, seed, n, out _) is { } e && Signature(e) == signature)
                {
                    best = candidate;
                }
                else
                {
                    at += size;
                }
            }
        }
        return best;
    }
}
