using Replica.Bridges;
using Replica.Destinations;

namespace Replica.Pipeline;

/// <summary>
/// `replica export` and `replica import`: a dump moved between a bridge and one self-contained file
/// (<see cref="DumpArchive"/>), as it is stored (still compressed and encrypted). `restore --from-file` and
/// `verify --from-file` read such a file as a bridge of its own (<see cref="RestoreOptions.FromFile"/>).
/// </summary>
public static class ArchiveJob
{
    /// <summary>
    /// Writes the named dump, or the newest complete one when <paramref name="name"/> is null, to
    /// <paramref name="output"/> (a file appears only once the archive is whole; a failure leaves none). Every chunk is
    /// checked on the way. Returns the dump's entry. An encrypted dump whose index entry is not authenticated (header
    /// version below 4) is refused unless <paramref name="allowLegacy"/> (<see cref="BridgeCodecs.CheckEntryAuthenticated"/>).
    /// </summary>
    public static async Task<DumpEntry> ExportAsync(IBridge bridge, string? name, IRestoreDestination output, CancellationToken cancellationToken,
        AllowLegacy? allowLegacy = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ObjectBridge objects = Objects(bridge);
        string exported = name ?? (await DumpReader.ResolveLatestAsync(bridge, cancellationToken).ConfigureAwait(false)).Name;
        await output.PrepareAsync(cancellationToken).ConfigureAwait(false);
        Stream stream = output.Open();
        DumpEntry entry = await DumpArchive.ExportAsync(objects, exported, stream, cancellationToken,
            manifest => BridgeCodecs.CheckEntryAuthenticated(manifest, allowLegacy)).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        await output.CommitAsync(cancellationToken).ConfigureAwait(false);
        return entry;
    }

    /// <summary>
    /// Copies the dump of the archive at <paramref name="path"/> into <paramref name="bridge"/> as it is stored, listed
    /// only once every object is stored and checked (<see cref="ObjectBridge.ImportAsync"/>). Returns its entry. An
    /// encrypted dump whose index entry is not authenticated (header version below 4) is refused unless
    /// <paramref name="allowLegacy"/>: the archive's name and date would become the bridge's.
    /// </summary>
    public static Task<DumpEntry> ImportAsync(IBridge bridge, string path, CancellationToken cancellationToken, AllowLegacy? allowLegacy = null)
    {
        ObjectBridge target = Objects(bridge);
        (ObjectBridge archive, string name) = DumpArchive.Open(path);
        return target.ImportAsync(archive, name, cancellationToken, manifest => BridgeCodecs.CheckEntryAuthenticated(manifest, allowLegacy));
    }

    internal static ObjectBridge Objects(IBridge bridge, string what = "export or import dumps") => bridge as ObjectBridge
        ?? throw new ConfigException($"{bridge?.Description ?? "this bridge"} cannot {what}");
}
