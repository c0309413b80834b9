using System.Diagnostics;
using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class CustomTransformerTests
{
    [Fact]
    public void Custom_SedUnbuffered_TransformsEachValueInLockstep()
    {
        using var transformer = Create("custom", ("command", new List<object?> { "sed", "-u", "s/o/0/g" }));
        Assert.Equal("f00", transformer.Apply("foo"));
        Assert.Equal("line 0ne\nline tw0\ttab \\ back", transformer.Apply("line one\nline two\ttab \\ back"));
        Assert.Null(transformer.Apply(null)); // \N passes through sed unchanged
        Assert.Equal("", transformer.Apply(""));
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal("n0 " + i, transformer.Apply("no " + i));
        }
    }

    [Fact]
    public void Custom_CommandAsString_SplitOnSpaces()
    {
        using var transformer = Create("custom", ("command", "sed -u s/a/b/"));
        Assert.Equal("bbc", transformer.Apply("abc"));
    }

    [Fact]
    public void Custom_ProcessDies_TransformerExceptionWithCommandAndStderr()
    {
        using var transformer = Create("custom", ("command", new List<object?> { "/bin/sh", "-c", "echo 'cannot mask this' >&2; exit 3" }));
        var error = Assert.Throws<TransformerException>(() => transformer.Apply("value"));
        Assert.Contains("/bin/sh", error.Message);
        Assert.Contains("cannot mask this", error.Message);
        Assert.Contains("exit code 3", error.Message);
        Assert.Contains("public.users.col", error.Message);
        Assert.Throws<TransformerException>(() => transformer.Apply("next"));
    }

    [Fact]
    public void Custom_ShortAnswer_TransformerException()
    {
        using var transformer = Create("custom", ("command", new List<object?> { "/bin/sh", "-c", "read a; echo first; read b; exit 0" }));
        Assert.Equal("first", transformer.Apply("one"));
        var error = Assert.Throws<TransformerException>(() => transformer.Apply("two"));
        Assert.Contains("ended before answering", error.Message);
    }

    [Fact]
    public void Custom_ExitedBeforeNextValue_TransformerException()
    {
        using var transformer = Create("custom", ("command", new List<object?> { "/bin/sh", "-c", "read a; echo first" }));
        Assert.Equal("first", transformer.Apply("one"));
        Thread.Sleep(100); // let the shell exit
        var error = Assert.Throws<TransformerException>(() => transformer.Apply("two"));
        Assert.Contains("custom command '/bin/sh'", error.Message);
        Assert.Contains("exit code 0", error.Message);
    }

    [Fact]
    public void Custom_NoAnswerInTime_TransformerExceptionAfterTimeout()
    {
        using var transformer = Create("custom", ("command", new List<object?> { "/bin/sh", "-c", "sleep 30" }), ("timeout", "1"));
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<TransformerException>(() => transformer.Apply("value"));
        Assert.Contains("no answer within 1 s", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Custom_Dispose_EndsTheCommand()
    {
        var marker = Path.Combine(Path.GetTempPath(), "replica-custom-" + Guid.NewGuid().ToString("N"));
        // The command writes the marker file once its input ends, i.e. when the transformer closes its stdin.
        var transformer = Create("custom", ("command", new List<object?> { "/bin/sh", "-c", $"while read line; do echo \"$line\"; done; touch {marker}" }));
        Assert.Equal("x", transformer.Apply("x"));
        transformer.Dispose();
        Assert.True(File.Exists(marker));
        File.Delete(marker);
    }
}
