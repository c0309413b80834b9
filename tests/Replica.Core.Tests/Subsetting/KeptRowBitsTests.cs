using Replica.Subsetting;

namespace Replica.Core.Tests.Subsetting;

/// <summary>File mode's kept rows by number: built in windows of the budget, read back exactly.</summary>
public class KeptRowBitsTests
{
    [Fact]
    public void Build_InSeveralWindows_ReadsBackEveryRowsFate()
    {
        var directory = Directory.CreateTempSubdirectory("replica-keptbits-test-").FullName;
        try
        {
            // 2.5M rows, not a multiple of 8; a budget whose quarter (64 KiB, 512k rows) makes five windows.
            const long Rows = 2_500_003;
            static bool Kept(long n) => n % 3 == 0 || n == Rows - 1;
            using var bits = KeptRowBits.Build(Path.Combine(directory, "bits"), Rows, 256 << 10, () =>
            [
                Enumerable.Range(0, (int)Rows).Select(n => (long)n).Where(n => Kept(n) && n % 2 == 0).Reverse(),
                Enumerable.Range(0, (int)Rows).Select(n => (long)n).Where(n => Kept(n) && n % 2 == 1),
            ]);
            for (long n = 0; n < Rows; n++)
            {
                if (bits.IsKept(n) != Kept(n))
                {
                    Assert.Fail($"row {n}: kept {bits.IsKept(n)}, expected {Kept(n)}");
                }
            }
            Assert.True(bits.IsKept(0));
            Assert.Throws<BridgeException>(() => bits.IsKept(Rows));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
