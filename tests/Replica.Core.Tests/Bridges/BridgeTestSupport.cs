using System.IO.Pipelines;
using Replica.Bridges;
using Replica.Pipeline;

namespace Replica.Core.Tests.Bridges;

/// <summary>A fresh directory under the system temp folder, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "replica-bridge-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>
    /// Copies the folder <paramref name="source"/> (a committed fixture bridge) to <paramref name="name"/> in here and
    /// returns the copy's path: the bridge creates its lock file, and no test may change a committed fixture.
    /// </summary>
    public string CopyOf(string source, string name)
    {
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string target = Combine(name, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return Combine(name);
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    /// <summary>Moves the monotonic clock (GetTimestamp) ahead of the real one: a process that was paused this long.</summary>
    public TimeSpan Paused { get; set; }

    public override DateTimeOffset GetUtcNow() => Now;

    public override long GetTimestamp() => base.GetTimestamp() + (long)(Paused.TotalSeconds * TimestampFrequency);
}

internal static class BridgeTestSupport
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The bridge settings the part and archive tests run under, by name: "plain" (no compression, no encryption),
    /// "encrypted" (AES-GCM with <paramref name="key"/>, no compression: every full chunk has the same stored size, so a
    /// chunk can stand in for another), "zstd+encrypted".
    /// </summary>
    public static Replica.Config.BridgeConfig BridgeConfigNamed(string name, int chunkSize, string key) => new()
    {
        ChunkSize = chunkSize,
        Compression = new Replica.Config.CompressionConfig { Algorithm = name == "zstd+encrypted" ? "zstd" : "none" },
        Encryption = name == "plain" ? null : new Replica.Config.EncryptionConfig { Key = key },
    };

    /// <summary>Deterministic, non-repeating test bytes.</summary>
    public static byte[] Bytes(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Stores <paramref name="data"/> as a complete dump, feeding it through a Pipe in uneven pieces.</summary>
    public static async Task<DumpEntry> WriteDumpAsync(IBridge bridge, string name, byte[] data, int chunkSize)
    {
        await using IDumpWriter writer = await bridge.BeginDumpAsync(name, CancellationToken.None);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512, minimumSegmentSize: 64));
        Task<long> chunking = DumpChunker.RunAsync(pipe.Reader, writer, chunkSize, CancellationToken.None);
        int offset = 0;
        int piece = 1;
        while (offset < data.Length)
        {
            int length = Math.Min(piece, data.Length - offset);
            await pipe.Writer.WriteAsync(data.AsMemory(offset, length));
            offset += length;
            piece = piece * 3 % 997 + 1;
        }
        await pipe.Writer.CompleteAsync();
        long total = await chunking;
        Assert.Equal(data.Length, total);
        return await writer.CompleteAsync(new DumpSummary(data.Length + 5, "test source", false, false), CancellationToken.None);
    }

    /// <summary>
    /// Stores <paramref name="data"/> as one stream through the chunker, encoded as <paramref name="config"/> says (as
    /// `replica dump` does: with bridge.encryption or without).
    /// </summary>
    public static async Task<DumpEntry> WriteCodedDumpAsync(IBridge bridge, string name, byte[] data, Replica.Config.BridgeConfig config)
    {
        var codecs = BridgeCodecs.ForNewDump(config);
        using var codec = codecs.Codec;
        await using IDumpWriter writer = await bridge.BeginDumpAsync(name, CancellationToken.None);
        var pipe = new Pipe();
        Task<long> chunking = DumpChunker.RunAsync(pipe.Reader, writer, (int)config.ChunkSize, codec, CancellationToken.None);
        await pipe.Writer.WriteAsync(data);
        await pipe.Writer.CompleteAsync();
        long plain = await chunking;
        return await writer.CompleteAsync(new DumpSummary(data.Length, "test", codecs.Compression is not null, codecs.Encryption is not null)
        {
            Compression = codecs.Compression,
            Encryption = codecs.Encryption,
            AuthenticateChunks = codecs.AuthenticateChunks,
            SizePlain = plain,
        }, CancellationToken.None);
    }

    /// <summary>
    /// Stores a dump in parts through the writer's part API: each part's bytes go through the chunker as one part,
    /// encoded as <paramref name="config"/> says (compression, encryption). Returns the plain bytes of every part.
    /// </summary>
    public static async Task<DumpEntry> WritePartsAsync(IBridge bridge, string name, Replica.Config.BridgeConfig config,
        params (string Kind, string? Table, byte[] Data)[] parts)
    {
        var codecs = BridgeCodecs.ForNewDump(config);
        using var codec = codecs.Codec;
        await using IDumpWriter writer = await bridge.BeginDumpAsync(name, CancellationToken.None);
        long plain = 0;
        foreach (var (kind, table, data) in parts)
        {
            int part = writer.BeginPart(kind, table);
            var pipe = new Pipe();
            Task<long> chunking = DumpChunker.RunPartAsync(pipe.Reader, writer, part, (int)config.ChunkSize, codec, DumpChunker.DefaultWorkers, CancellationToken.None);
            await pipe.Writer.WriteAsync(data);
            await pipe.Writer.CompleteAsync();
            plain += await chunking;
        }
        return await writer.CompleteAsync(new DumpSummary(plain, "test parts", codecs.Compression is not null, codecs.Encryption is not null)
        {
            Compression = codecs.Compression,
            Encryption = codecs.Encryption,
            AuthenticateChunks = codecs.AuthenticateChunks,
            SizePlain = plain,
        }, CancellationToken.None);
    }

    /// <summary>Runs <paramref name="body"/> for 1..<paramref name="count"/> on the thread pool, all released at once.</summary>
    public static async Task RunTogetherAsync(int count, Func<int, Task> body)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task[count];
        for (int i = 0; i < count; i++)
        {
            int number = i + 1;
            tasks[i] = Task.Run(async () =>
            {
                await start.Task;
                await body(number);
            });
        }
        start.SetResult();
        await Task.WhenAll(tasks);
    }

    public static async Task<byte[]> RestoreAsync(IBridge bridge, string name)
    {
        using var output = new MemoryStream();
        long written = await DumpReader.RestoreAsync(bridge, name, output, CancellationToken.None);
        Assert.Equal(output.Length, written);
        return output.ToArray();
    }
}
