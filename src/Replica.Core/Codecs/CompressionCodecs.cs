namespace Replica.Codecs;

/// <summary>Creates the compression codec a configuration names.</summary>
public static class CompressionCodecs
{
    /// <summary>The most bytes a chunk decodes to by default: the chunker's largest chunk (1 GiB).</summary>
    public const long MaxDecodedBytes = 1L << 30;

    /// <summary>
    /// The fewest bytes a reader of stored dumps lets a chunk decode to, whatever its bridge.chunk_size: the default
    /// chunk size, so that a config that lowered it still reads the dumps written before.
    /// </summary>
    public const long MinReadChunkBytes = 4L << 20;

    /// <summary>The accepted algorithm names.</summary>
    public static IReadOnlyList<string> Algorithms { get; } = ["zstd", "gzip", "none"];

    /// <summary>
    /// Creates the codec for <paramref name="algorithm"/> ("zstd", "gzip" or "none", any case). <paramref name="level"/>
    /// defaults to the algorithm's default (zstd 1, gzip 6); <paramref name="workers"/> (extra compression threads) is
    /// for zstd only; a chunk that decodes to more than <paramref name="maxDecodedBytes"/> (default
    /// <see cref="MaxDecodedBytes"/>) fails. Throws <see cref="ConfigException"/> for anything else, or when libzstd
    /// cannot be loaded.
    /// </summary>
    public static IChunkCodec Create(string algorithm, int? level = null, int? workers = null, long maxDecodedBytes = MaxDecodedBytes)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        if (algorithm.Equals("zstd", StringComparison.OrdinalIgnoreCase))
        {
            return new ZstdCodec(level ?? ZstdCodec.DefaultLevel, workers ?? 0, maxDecodedBytes);
        }
        if (algorithm.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            NoWorkers(algorithm, workers);
            return new GzipCodec(level ?? GzipCodec.DefaultLevel, maxDecodedBytes);
        }
        if (algorithm.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            NoWorkers(algorithm, workers);
            if (level is not null)
            {
                throw new ConfigException($"compression 'none' takes no level, found level {level}");
            }
            return new NoneCodec();
        }
        throw new ConfigException($"unknown compression algorithm '{algorithm}'; accepted values are {string.Join(", ", Algorithms)}");
    }

    /// <summary>Why a chunk that decodes to more than <paramref name="limit"/> bytes is refused.</summary>
    internal static string TooLargeMessage(int chunkIndex, long limit) => limit >= MaxDecodedBytes
        ? $"Chunk index {chunkIndex} decompresses to more than {limit} bytes, larger than any chunk Replica writes."
        : $"Chunk index {chunkIndex} decompresses to more than {limit} bytes, more than a chunk is read with here (bridge.chunk_size, "
          + $"at least {MinReadChunkBytes >> 20} MiB): it was made to fill the memory, or the dump was written with larger chunks "
          + "(then set bridge.chunk_size to at least their size to read it).";

    static void NoWorkers(string algorithm, int? workers)
    {
        if (workers is > 0)
        {
            throw new ConfigException($"compression '{algorithm}' has no worker threads (workers is for zstd), found workers {workers}");
        }
    }
}
