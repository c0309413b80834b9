namespace Replica.Sources;

/// <summary>
/// Where a plain-format SQL dump comes from: a file, standard input, or a pg_dump / mysqldump process.
/// </summary>
public interface IDumpSource
{
    /// <summary>Recorded in the manifest and shown to users, e.g. "file shop.sql". Never contains a secret.</summary>
    string Description { get; }

    /// <summary>The size in bytes when known beforehand (for progress), else null.</summary>
    long? Length { get; }

    /// <summary>How many tables hold data, when a catalog told (for progress), else null.</summary>
    int? TableCount => null;

    /// <summary>
    /// Runs before anything is stored: a database source connects here, so that a wrong password or an unreachable host
    /// fails the dump before it begins.
    /// </summary>
    Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Opens the dump's byte stream.</summary>
    Stream Open();

    /// <summary>Called after the stream was read to its end: a source that runs a process checks its exit here.</summary>
    Task CompleteAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>A dump file on disk.</summary>
public sealed class FileDumpSource(string path) : IDumpSource
{
    public string Description => $"file {Path.GetFileName(path)}";

    public long? Length => new FileInfo(path).Length;

    public Stream Open()
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BridgeException($"cannot read the input dump {path}: {e.Message}", e);
        }
    }
}

/// <summary>The dump arrives on standard input (e.g. `pg_dump mydb | replica dump --input -`).</summary>
public sealed class StandardInputSource : IDumpSource
{
    public string Description => "stdin";

    public long? Length => null;

    public Stream Open() => Console.OpenStandardInput(1 << 16);
}
