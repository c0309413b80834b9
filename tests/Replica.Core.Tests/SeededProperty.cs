using CsCheck;

namespace Replica.Core.Tests;

/// <summary>
/// CsCheck properties with a fixed set of cases, so CI runs the same inputs every time: case i is generated from PCG
/// stream i and <paramref name="seed"/>. Plain <see cref="Check.Sample{T}(Gen{T}, Action{T}, Action{string}?, string?, long, int, int, Func{T, string}?, ISampleLogger?)"/>
/// draws fresh random cases on every run; here only the shrinking is random, and it runs after a seeded case has
/// already failed, so it can make the report smaller but cannot change whether the test passes.
/// </summary>
internal static class SeededProperty
{
    /// <summary>
    /// Checks <paramref name="assert"/> on <paramref name="cases"/> seeded inputs. A failure is shrunk by CsCheck
    /// (<paramref name="shrinkIterations"/> tries for a smaller failing input) and reported as a
    /// <see cref="CsCheckException"/> that prints the smallest input found and its seed.
    /// </summary>
    public static void ForAll<T>(this Gen<T> gen, Action<T> assert, int cases, ulong seed = 20261202, long shrinkIterations = 5000, Func<T, string>? print = null)
    {
        for (var i = 0; i < cases; i++)
        {
            var caseSeed = new PCG((uint)i, seed).ToString();
            try
            {
                gen.Sample(assert, seed: caseSeed, iter: 1, threads: 1, print: print);
            }
            catch (CsCheckException)
            {
                // The seeded case fails, so this throws too, with the smallest failing input CsCheck found.
                gen.Sample(assert, seed: caseSeed, iter: shrinkIterations, threads: 1, print: print);
                throw;
            }
        }
    }
}
