using System.Diagnostics;

namespace Replica.Core.Tests.Codecs;

/// <summary>
/// Runs a command-line tool (zstd, gzip) as an oracle. A missing tool fails the test with the package to install: the
/// interoperability these tests prove must not silently go unchecked.
/// </summary>
internal static class ExternalTool
{
    public static string Find(string name, string package)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        Assert.Fail($"The '{name}' command is needed by this test and was not found on PATH. Install it: apt-get install {package}");
        return "";
    }

    /// <summary>Runs the tool with <paramref name="stdin"/> (if any) as its input and returns its standard output.</summary>
    public static byte[] Run(string name, string package, IEnumerable<string> arguments, byte[]? stdin = null)
    {
        var start = new ProcessStartInfo(Find(name, package))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start");
        var output = new MemoryStream();
        var reading = process.StandardOutput.BaseStream.CopyToAsync(output);
        var readingErrors = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
        }
        process.StandardInput.Close();
        reading.GetAwaiter().GetResult();
        var errors = readingErrors.GetAwaiter().GetResult();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{name} {string.Join(' ', arguments)} exited with {process.ExitCode}: {errors}");
        return output.ToArray();
    }
}
