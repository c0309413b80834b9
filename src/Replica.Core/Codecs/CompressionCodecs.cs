namespace Replica.Codecs;

/// <summary>Creates the compression codec a configuration names.</summary>
public static class CompressionCodecs
{
    /// <summary>The accepted algorithm names.</summary>
    public static IReadOnlyList<string> Algorithms { get; } = ["zstd", "gzip", "none"];

    /// <summary>
    /// Creates the codec for <paramref name="algorithm"/> ("zstd", "gzip" or "none", any case). <paramref name="level"/>
    /// defaults to the algorithm's default (zstd 1, gzip 6); <paramref name="workers"/> (extra compression threads) is
    /// for zstd only. Throws <see cref="ConfigException"/> for anything else, or when libzstd cannot be loaded.
    /// </summary>
    public static IChunkCodec Create(string algorithm, int? level = null, int? workers = null)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        if (algorithm.Equals("zstd", StringComparison.OrdinalIgnoreCase))
        {
            return new ZstdCodec(level ?? ZstdCodec.DefaultLevel, workers ?? 0);
        }
        if (algorithm.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            NoWorkers(algorithm, workers);
            return new GzipCodec(level ?? GzipCodec.DefaultLevel);
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

    static void NoWorkers(string algorithm, int? workers)
    {
        if (workers is > 0)
        {
            throw new ConfigException($"compression '{algorithm}' has no worker threads (workers is for zstd), found workers {workers}");
        }
    }
}
