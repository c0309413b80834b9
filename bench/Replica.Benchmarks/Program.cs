using BenchmarkDotNet.Running;

namespace Replica.Benchmarks;

public static class Program
{
    /// <summary>
    /// BenchmarkDotNet's switcher (--list flat, --filter ...); `zstd-compare` runs <see cref="ZstdComparison"/> instead.
    /// </summary>
    public static void Main(string[] args)
    {
        if (args is ["zstd-compare", ..])
        {
            ZstdComparison.Run(args[1..]);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
