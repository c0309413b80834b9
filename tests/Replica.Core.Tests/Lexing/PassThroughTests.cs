using Replica.Core.Tests.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Lexing;

public class PassThroughTests
{
    static readonly byte[] s_tricky = Fixture("tricky.sql");

    [Fact]
    public void Rewrite_NoRules_IsByteIdentical()
    {
        Assert.Equal(s_tricky, Rewrite(s_tricky));
    }

    [Fact]
    public void Rewrite_NoRules_IsByteIdenticalSplitAtEveryByte()
    {
        for (var split = 1; split < s_tricky.Length; split++)
        {
            var output = Rewrite(s_tricky, splits: [split]);
            Assert.True(output.AsSpan().SequenceEqual(s_tricky), $"split at {split} changed the output");
        }
    }

    [Fact]
    public void Rewrite_NoRules_IsByteIdenticalInOneByteSegments()
    {
        Assert.Equal(s_tricky, RewriteInSegments(s_tricky, 1));
        Assert.Equal(s_tricky, RewriteInSegments(s_tricky, 7));
    }

    [Fact]
    public void Rewrite_CrlfLineEndingsAndBom_PassThroughUnchanged()
    {
        byte[] bom = [0xEF, 0xBB, 0xBF, .. Crlf(s_tricky)];
        Assert.Equal(bom, Rewrite(bom));
        Assert.Equal(bom, RewriteInSegments(bom, 1));
    }

    [Fact]
    public void Rewrite_RulesThatMatchNothing_LeaveTheDumpByteIdentical()
    {
        var rules = Rules("public.nosuchtable.email=upper");
        for (var split = 1; split < s_tricky.Length; split += 3)
        {
            Assert.True(Rewrite(s_tricky, rules, [split]).AsSpan().SequenceEqual(s_tricky), $"split at {split}");
        }
    }

    internal static byte[] Crlf(byte[] lf)
    {
        var result = new List<byte>(lf.Length + lf.Length / 10);
        foreach (var b in lf)
        {
            if (b == (byte)'\n')
            {
                result.Add((byte)'\r');
            }
            result.Add(b);
        }
        return [.. result];
    }
}
