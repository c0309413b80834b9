using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Replica.Codecs;

namespace Replica.Benchmarks;

/// <summary>
/// Issue 9: the system libzstd binding (<see cref="ZstdCodec"/>) against ZstdSharp.Port (<see cref="ZstdSharpCodec"/>),
/// side by side on the calling thread: compress and decompress at levels 1 and 3, 8 MiB chunks of dump text, CPU
/// seconds (user + sys of this process, <see cref="Process.TotalProcessorTime"/>) around each measurement. Each round
/// measures every case once for both, in alternating order (binding first in odd rounds), and the table shows the
/// median of the rounds. Decompression decodes the binding's frames in both (the same bytes), after checking that each
/// side decodes the other's frames to the original text.
/// <code>
/// dotnet run -c Release --project bench/Replica.Benchmarks -- zstd-compare [--file DUMP.sql] [--rounds 5] [--passes 2]
/// </code>
/// Without --file the text is <see cref="SyntheticDump"/> (64 MiB); with it, the file's whole 8 MiB chunks.
/// </summary>
internal static class ZstdComparison
{
    const int ChunkSize = 8 << 20;

    public static void Run(string[] args)
    {
        string? file = null;
        var rounds = 5;
        var passes = 2;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--file": file = args[++i]; break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--passes": passes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"zstd-compare: unknown argument '{args[i]}' (--file PATH, --rounds N, --passes N)");
            }
        }

        var text = file is null ? SyntheticDump.Create(64 << 20) : File.ReadAllBytes(file);
        var chunks = new List<byte[]>();
        for (var offset = 0; offset + ChunkSize <= text.Length; offset += ChunkSize)
        {
            chunks.Add(text.AsSpan(offset, ChunkSize).ToArray());
        }
        if (chunks.Count == 0)
        {
            throw new ArgumentException("zstd-compare: the text is shorter than one 8 MiB chunk");
        }
        var plainBytes = (long)chunks.Count * ChunkSize * passes;
        Console.WriteLine($"text: {file ?? "SyntheticDump (64 MiB)"}; {chunks.Count} chunks of 8 MiB, {passes} passes per measurement, {rounds} rounds");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");

        var output = new ArrayBufferWriter<byte>(2 * ChunkSize);
        var cases = new List<Case>();
        foreach (var level in new[] { 1, 3 })
        {
            var binding = new ZstdCodec(level);
            var sharp = new ZstdSharpCodec(level);
            var bindingFrames = chunks.Select(c => Encode(c, output, binding.Encode)).ToList();
            var sharpFrames = chunks.Select(c => Encode(c, output, (p, o) => sharp.Encode(p, o))).ToList();
            for (var i = 0; i < chunks.Count; i++)
            {
                CheckRoundTrip(chunks[i], Decode(bindingFrames[i], output, (s, o) => sharp.Decode(s, o)), "ZstdSharp decoding the binding's frame");
                CheckRoundTrip(chunks[i], Decode(sharpFrames[i], output, binding.Decode), "the binding decoding ZstdSharp's frame");
            }
            Console.WriteLine($"level {level}: binding stores {bindingFrames.Sum(f => (long)f.Length)} bytes, ZstdSharp {sharpFrames.Sum(f => (long)f.Length)} bytes of {(long)chunks.Count * ChunkSize}");
            cases.Add(new Case($"compress, level {level}",
                () => Repeat(passes, () => { foreach (var c in chunks) { output.ResetWrittenCount(); binding.Encode(c, 0, false, output); } }),
                () => Repeat(passes, () => { foreach (var c in chunks) { output.ResetWrittenCount(); sharp.Encode(c, output); } })));
            cases.Add(new Case($"decompress, level {level}",
                () => Repeat(passes, () => { foreach (var f in bindingFrames) { output.ResetWrittenCount(); binding.Decode(f, 0, false, output); } }),
                () => Repeat(passes, () => { foreach (var f in bindingFrames) { output.ResetWrittenCount(); sharp.Decode(f, output); } })));
        }

        // One unmeasured round so both run tier-1 code.
        foreach (var c in cases)
        {
            Measure(c.Binding);
            Measure(c.Sharp);
        }
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var c in cases)
            {
                if (round % 2 == 1)
                {
                    c.BindingTimes.Add(Measure(c.Binding));
                    c.SharpTimes.Add(Measure(c.Sharp));
                }
                else
                {
                    c.SharpTimes.Add(Measure(c.Sharp));
                    c.BindingTimes.Add(Measure(c.Binding));
                }
            }
            Console.WriteLine($"round {round}: " + string.Join("; ", cases.Select(c =>
                $"{c.Name} {c.BindingTimes[^1].Cpu:0.000}/{c.SharpTimes[^1].Cpu:0.000} s")));
        }

        Console.WriteLine();
        Console.WriteLine("| case | libzstd binding CPU s | ZstdSharp CPU s | ZstdSharp / binding | binding MB/s | ZstdSharp MB/s | binding wall s | ZstdSharp wall s |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in cases)
        {
            var binding = Median(c.BindingTimes.Select(t => t.Cpu));
            var sharp = Median(c.SharpTimes.Select(t => t.Cpu));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Name} | {binding:0.000} | {sharp:0.000} | {sharp / binding:0.000} | {plainBytes / binding / 1e6:0} | {plainBytes / sharp / 1e6:0} | {Median(c.BindingTimes.Select(t => t.Wall)):0.000} | {Median(c.SharpTimes.Select(t => t.Wall)):0.000} |"));
        }
        Console.WriteLine($"(CPU s = user + sys of the process per measurement of {plainBytes / 1e6:0} MB of plain text, median of {rounds} rounds; MB/s = plain MB (10^6 bytes) per CPU second)");
    }

    sealed record Case(string Name, Action Binding, Action Sharp)
    {
        public List<(double Cpu, double Wall)> BindingTimes { get; } = [];
        public List<(double Cpu, double Wall)> SharpTimes { get; } = [];
    }

    static void Repeat(int passes, Action action)
    {
        for (var i = 0; i < passes; i++)
        {
            action();
        }
    }

    static (double Cpu, double Wall) Measure(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        action();
        wall.Stop();
        process.Refresh();
        return ((process.TotalProcessorTime - cpuBefore).TotalSeconds, wall.Elapsed.TotalSeconds);
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    static byte[] Encode(byte[] plain, ArrayBufferWriter<byte> output, Action<byte[], ArrayBufferWriter<byte>> encode)
    {
        output.ResetWrittenCount();
        encode(plain, output);
        return output.WrittenSpan.ToArray();
    }

    static byte[] Encode(byte[] plain, ArrayBufferWriter<byte> output, Action<ReadOnlySpan<byte>, int, bool, IBufferWriter<byte>> encode) =>
        Encode(plain, output, (p, o) => encode(p, 0, false, o));

    static byte[] Decode(byte[] stored, ArrayBufferWriter<byte> output, Action<byte[], ArrayBufferWriter<byte>> decode) =>
        Encode(stored, output, decode);

    static byte[] Decode(byte[] stored, ArrayBufferWriter<byte> output, Action<ReadOnlySpan<byte>, int, bool, IBufferWriter<byte>> decode) =>
        Encode(stored, output, decode);

    static void CheckRoundTrip(byte[] expected, byte[] actual, string what)
    {
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            throw new InvalidOperationException($"zstd-compare: {what} did not give back the original chunk");
        }
    }
}
