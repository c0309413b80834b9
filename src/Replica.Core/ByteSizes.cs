namespace Replica;

/// <summary>Byte counts as people read them: 512 B, 1.5 KiB, 12.0 MiB, 3.25 GiB.</summary>
public static class ByteSizes
{
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
