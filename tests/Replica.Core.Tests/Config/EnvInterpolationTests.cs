using Replica.Config;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Config;

public class EnvInterpolationTests
{
    static readonly Func<string, string?> s_env = Env(("A", "1"), ("EMPTY", ""), ("B_2", "two"));

    [Theory]
    [InlineData("plain", "plain", false)]
    [InlineData("${A}", "1", true)]
    [InlineData("x${A}y${B_2}z", "x1ytwoz", true)]
    [InlineData("${MISSING:-dflt}", "dflt", true)]
    [InlineData("${EMPTY:-dflt}", "dflt", true)]
    [InlineData("${A:-dflt}", "1", true)]
    [InlineData("${EMPTY}", "", true)]
    [InlineData("$A", "1", true)]
    [InlineData("$$A", "$A", false)]
    [InlineData("$${A}", "${A}", false)]
    [InlineData("a$$b", "a$b", false)]
    [InlineData("$.a.b", "$.a.b", false)]
    [InlineData("$A/x", "$A/x", false)]
    [InlineData("$", "$", false)]
    [InlineData("${MISSING:-}", "", true)]
    public void TryExpand_Expands(string text, string expected, bool usedVariables)
    {
        Assert.True(EnvInterpolation.TryExpand(text, s_env, out var result, out var used, out var error));

        Assert.Null(error);
        Assert.Equal(expected, result);
        Assert.Equal(usedVariables, used);
    }

    [Theory]
    [InlineData("${MISSING}", "MISSING is not set")]
    [InlineData("$MISSING", "MISSING is not set")]
    [InlineData("x${A", "no closing")]
    [InlineData("${-x}", "does not start a variable reference")]
    public void TryExpand_Fails(string text, string expected)
    {
        Assert.False(EnvInterpolation.TryExpand(text, s_env, out _, out _, out var error));

        Assert.Contains(expected, error);
    }
}
