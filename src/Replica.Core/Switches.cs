namespace Replica;

/// <summary>
/// Environment switches for tests, read once at start (as Sep's SEPFORCEPARSER): the test suites turn them on so that
/// CI's Release build runs the paths that real input reaches only rarely. Nothing a user needs to set.
/// </summary>
internal static class Switches
{
    /// <summary>
    /// REPLICA_FORCE_SCALAR=1: vectorized scanners (Lexing/CopyRowScanner) take their scalar path, so the suite that
    /// runs under it covers the scalar twin of each vector loop.
    /// </summary>
    public static readonly bool ForceScalar = Environment.GetEnvironmentVariable("REPLICA_FORCE_SCALAR") == "1";

    /// <summary>
    /// REPLICA_FORCE_PATH_CHECKS=1: the local bridge checks each path for links and then acts on it, as on Windows and
    /// macOS (Bridges/NoFollowFolder), instead of using directory descriptors, so that path's code runs on Linux too
    /// (the link tests pass under it; LocalBridgeSwapTests show the race it leaves open).
    /// </summary>
    public static readonly bool ForcePathChecks = Environment.GetEnvironmentVariable("REPLICA_FORCE_PATH_CHECKS") == "1";

    /// <summary>
    /// REPLICA_READ_BLOCK_SIZE=N (bytes, 1 to 1 MiB): a dump is read in blocks of N bytes instead of 1 MiB. The tests
    /// set a tiny odd size so that statements, rows and quotes cross block boundaries everywhere.
    /// </summary>
    public static readonly int ReadBlockSize = ReadBlockSizeSetting();

    static int ReadBlockSizeSetting()
    {
        const int Default = 1 << 20;
        var text = Environment.GetEnvironmentVariable("REPLICA_READ_BLOCK_SIZE");
        return int.TryParse(text, out var size) && size is > 0 and <= Default ? size : Default;
    }

    /// <summary>
    /// REPLICA_SUBSET_FULL_SCAN=share (0 to 1, or above 1 for never): a live subset copies a table whole and chooses its
    /// kept rows on the client from this share of its estimated rows kept (Pipeline.SubsetDump.FullScanShare).
    /// </summary>
    public static readonly double SubsetFullScanShare =
        double.TryParse(Environment.GetEnvironmentVariable("REPLICA_SUBSET_FULL_SCAN"), System.Globalization.CultureInfo.InvariantCulture, out var share) && share >= 0 ? share : 0.5;

    /// <summary>
    /// REPLICA_SUBSET_COPY_AHEAD=0: a live subset's table read in several COPY statements runs them one after the other on
    /// one connection, instead of each next one ahead on a second connection (Sources.CopyAhead); for benchmarks and the
    /// test that both give the same bytes.
    /// </summary>
    public static readonly bool SubsetCopyAhead = Environment.GetEnvironmentVariable("REPLICA_SUBSET_COPY_AHEAD") != "0";

    /// <summary>
    /// REPLICA_SUBSET_COPY_BATCH=N (1 or more): a live subset's data COPY statements select N kept keys each instead of
    /// Subsetting.SubsetClosure.BatchSize (null: not set), so that the tests' small tables are read in many statements.
    /// </summary>
    public static readonly int? SubsetCopyBatch =
        int.TryParse(Environment.GetEnvironmentVariable("REPLICA_SUBSET_COPY_BATCH"), System.Globalization.CultureInfo.InvariantCulture, out var batch) && batch > 0
            ? batch : null;
}
