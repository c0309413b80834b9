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

    /// <summary>
    /// Found by review: a custom command got replica's whole environment, the bridge passphrase and REPLICA_SECRET
    /// among it. Now it gets the basics only (PATH, HOME, LANG, LC_*, TMPDIR ...). The names are this test's own.
    /// </summary>
    [Fact]
    public void Custom_Environment_OnlyTheBasics()
    {
        var id = Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        string secret = "REPLICA_CT_SECRET_" + id, other = "CT_PASS_" + id;
        Environment.SetEnvironmentVariable(secret, "masking-secret");
        Environment.SetEnvironmentVariable(other, "bridge-passphrase");
        try
        {
            using var transformer = Create("custom", ("command", new List<object?>
            {
                "/bin/sh", "-c", $"while read v; do echo \"${{{secret}:-unset}} ${{{other}:-unset}} ${{PATH:+path}}\"; done",
            }));
            Assert.Equal("unset unset path", transformer.Apply("value"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(secret, null);
            Environment.SetEnvironmentVariable(other, null);
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
        var pidFile = Path.Combine(Path.GetTempPath(), "replica-custom-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var transformer = Create("custom", ("command", new List<object?> { "/bin/sh", "-c", $"echo $$ > {pidFile}; read a; echo first" }));
            Assert.Equal("first", transformer.Apply("one"));
            WaitForExit(int.Parse(File.ReadAllText(pidFile), System.Globalization.CultureInfo.InvariantCulture));
            // The shell has exited, so writing the next value fails (the pipe has no reader), not reading its answer.
            var error = Assert.Throws<TransformerException>(() => transformer.Apply("two"));
            Assert.Contains("custom command '/bin/sh' exited or stopped reading its input", error.Message);
            Assert.Contains("exit code 0", error.Message);
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    /// <summary>Waits (bounded) until the process has exited; one already gone and reaped counts as exited.</summary>
    static void WaitForExit(int pid)
    {
        Process process;
        try
        {
            process = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return;
        }
        using (process)
        {
            Assert.True(process.WaitForExit(10_000), $"process {pid} did not exit within 10 s");
        }
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

    /// <summary>
    /// A command still running when replica exits (Ctrl+C in the middle of a table) is killed with the other tools, not
    /// left behind as an orphan (found by review: ExitCleanup killed pg_dump and the database clients, not custom commands).
    /// </summary>
    [Fact]
    public void Custom_RunningAtExit_IsKilledWithTheOtherTools()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), "replica-custom-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var transformer = Create("custom", ("command", new List<object?> { "/bin/sh", "-c", $"echo $$ > {pidFile}; while read line; do echo \"$line\"; done" }));
            Assert.Equal("x", transformer.Apply("x"));
            var pid = int.Parse(File.ReadAllText(pidFile), System.Globalization.CultureInfo.InvariantCulture);

            CustomTransformer.KillRunning(p => p.Id == pid);

            WaitForExit(pid);
        }
        finally
        {
            File.Delete(pidFile);
        }
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

    static readonly string s_python = FindPython();

    static string FindPython()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "python3");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("python3 is not on PATH");
    }

    static Transformer Python(string script, int timeoutSeconds = 30, long maxValueBytes = 256L << 20) =>
        Create(Spec("custom", ("command", new List<object?> { s_python, "-c", script }), ("timeout", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            env: new TransformerEnvironment("test-secret-1"u8.ToArray()) { MaxValueBytes = maxValueBytes });

    /// <summary>Gives every value, then ends the column; returns the failure, which must come by the end of the column.</summary>
    static TransformerException FailsByTheEndOfTheColumn(Transformer transformer, int values)
    {
        var answers = new List<string?>();
        var error = Assert.Throws<TransformerException>(() =>
        {
            for (var i = 0; i < values; i++)
            {
                answers.Add(transformer.Apply("v" + i));
            }
            transformer.Complete();
        });
        // Whatever was answered before the failure was answered for its own value, never shifted.
        for (var i = 0; i < answers.Count; i++)
        {
            Assert.Equal("V" + i, answers[i]);
        }
        return error;
    }

    [Fact]
    public void Custom_ExtraLineAtTheEnd_FailsWhenTheColumnEnds()
    {
        // Answers every value correctly, then prints one more line when its input closes.
        using var transformer = Python("import sys\nfor l in sys.stdin:\n    print(l.strip().upper(), flush=True)\nprint('bonus', flush=True)");
        Assert.Equal("V0", transformer.Apply("v0"));
        Assert.Equal("V1", transformer.Apply("v1"));

        var error = Assert.Throws<TransformerException>(transformer.Complete);

        Assert.Contains("printed 1 line more than the 2 values it was given", error.Message);
        Assert.Contains("public.users.col", error.Message);
    }

    [Fact]
    public void Custom_TwoLinesPerValue_FailsByTheEndOfTheColumn()
    {
        // The second line may arrive with the first or later. When it arrives after its value's answer was read, the next
        // value takes it as its answer: no line protocol can tell that in time. What must hold is that the column fails
        // (and the dump with it, so no shifted value is ever stored): the command printed more lines than it got values.
        using var transformer = Python("import sys\nfor l in sys.stdin:\n    print(l.strip().upper(), flush=True)\n    print('extra', flush=True)");

        var error = Assert.Throws<TransformerException>(() =>
        {
            for (var i = 0; i < 50; i++)
            {
                transformer.Apply("v" + i);
            }
            transformer.Complete();
        });

        Assert.Contains("more than", error.Message);
    }

    [Fact]
    public void Custom_EndlessLines_FailsByTheEndOfTheColumn()
    {
        using var transformer = Create("custom", ("command", new List<object?> { "yes", "V0" }));

        var error = FailsByTheEndOfTheColumn(transformer, 3);

        Assert.Contains("more than", error.Message);
    }

    [Fact]
    public void Custom_FewerLinesThanValues_FailsAfterTheTimeout()
    {
        // Answers only every other value.
        using var transformer = Python("import sys\nfor i, l in enumerate(sys.stdin):\n    if i % 2 == 0:\n        print(l.strip().upper(), flush=True)", timeoutSeconds: 1);
        var watch = Stopwatch.StartNew();

        var error = FailsByTheEndOfTheColumn(transformer, 4);

        Assert.Contains("no answer within 1 s", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Custom_EndlessAnswerWithoutLineEnd_FailsAtMaxRowSize()
    {
        using var transformer = Python("import sys\nsys.stdin.readline()\nwhile True:\n    sys.stdout.write('x' * 65536)\n    sys.stdout.flush()",
            maxValueBytes: 1 << 20);
        var watch = Stopwatch.StartNew();

        var error = Assert.Throws<TransformerException>(() => transformer.Apply("v0"));

        Assert.Contains("answer longer than 1048576 bytes (limits.max_row_size)", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Custom_HangsWhileAnOrphanHoldsItsOutput_FailsAtTheTimeout()
    {
        // The watchdog kills the command's process tree, but a process that left the tree keeps the output pipe open:
        // the read itself must stop at the timeout.
        using var transformer = Create("custom", ("command", new List<object?> { "/bin/sh", "-c", "(sleep 12 &); sleep 12" }), ("timeout", "1"));
        var watch = Stopwatch.StartNew();

        var error = Assert.Throws<TransformerException>(() => transformer.Apply("value"));

        Assert.Contains("no answer within 1 s", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Custom_AfterComplete_NextValueStartsTheCommandAgain()
    {
        using var transformer = Create("custom", ("command", new List<object?> { "sed", "-u", "s/o/0/g" }));
        Assert.Equal("f00", transformer.Apply("foo"));
        transformer.Complete();
        transformer.Complete();
        Assert.Equal("b00", transformer.Apply("boo"));
        transformer.Complete();
    }
}
