using System.IO.Pipelines;
using Replica.Bridges;
using Replica.Config;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>Compressed and encrypted dumps, written through the chunker as `replica dump` writes them.</summary>
internal static class EncodedDumps
{
    /// <summary>How long a test waits for a worker to reach a point before it fails (never a timing assertion).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>zstd level 1 and AES-256-GCM under a fixed raw key, in chunks of <paramref name="chunkSize"/> bytes.</summary>
    public static BridgeConfig ZstdAes(int chunkSize) => new()
    {
        ChunkSize = chunkSize,
        Compression = new CompressionConfig { Algorithm = "zstd", Level = 1 },
        Encryption = new EncryptionConfig { Key = Convert.ToBase64String(Bytes(32, seed: 5)) },
    };

    /// <summary>Stores <paramref name="data"/> as complete dump <paramref name="name"/>, fed in uneven pieces, encoded on <paramref name="workers"/> workers.</summary>
    public static async Task WriteAsync(IBridge bridge, string name, byte[] data, BridgeConfig config, int workers)
    {
        var codecs = BridgeCodecs.ForNewDump(config);
        using var codec = codecs.Codec;
        await using IDumpWriter writer = await bridge.BeginDumpAsync(name, CancellationToken.None);
        var pipe = new Pipe();
        Task<long> run = DumpChunker.RunAsync(pipe.Reader, writer, (int)config.ChunkSize, codec, workers, CancellationToken.None);
        await WriteInPiecesAsync(pipe.Writer, data);
        long plain = await run;
        await writer.CompleteAsync(new DumpSummary(data.Length, "test", true, true)
        {
            Compression = codecs.Compression,
            Encryption = codecs.Encryption,
            AuthenticateChunks = codecs.AuthenticateChunks,
            SizePlain = plain,
        }, CancellationToken.None);
    }

    /// <summary>Writes <paramref name="data"/> in uneven pieces (1 to 13 bytes) and completes the writer.</summary>
    public static async Task WriteInPiecesAsync(PipeWriter writer, byte[] data)
    {
        int piece = 1;
        for (int offset = 0; offset < data.Length; offset += piece, piece = piece % 13 + 1)
        {
            await writer.WriteAsync(data.AsMemory(offset, Math.Min(piece, data.Length - offset)));
        }
        await writer.CompleteAsync();
    }
}
