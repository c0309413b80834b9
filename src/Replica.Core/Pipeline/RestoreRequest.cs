using Replica.Bridges;
using Replica.Config;
using Replica.Destinations;

namespace Replica.Pipeline;

/// <summary>What `replica restore` is asked for besides the config (its command-line options).</summary>
public sealed record RestoreOptions
{
    /// <summary>The dump to restore; null: the newest complete one.</summary>
    public string? Name { get; init; }

    /// <summary>A file (or - for stdout) instead of destination.connection_uri.</summary>
    public string? Output { get; init; }

    /// <summary>--wipe; null: destination.wipe.</summary>
    public WipeMode? Wipe { get; init; }

    /// <summary>--no-wipe: overrides destination.wipe.</summary>
    public bool NoWipe { get; init; }

    /// <summary>--no-create: a missing destination database fails the restore instead of being created.</summary>
    public bool NoCreate { get; init; }

    /// <summary>--jobs: connections a PostgreSQL restore runs on (more than 1: into a staging database swapped in on success).</summary>
    public int Jobs { get; init; } = 1;

    /// <summary>
    /// --from-file: restore the dump of this archive (`replica export`) instead of one from the configured bridge; the
    /// archive's one dump, so <see cref="Name"/> must be null or its name.
    /// </summary>
    public string? FromFile { get; init; }

    /// <summary>
    /// --from-url: restore the dump shared at this link (`replica share`) instead of one from the configured bridge; no
    /// bucket credentials are needed, the dump's key still is. <see cref="Name"/> must be null or the shared dump's name.
    /// </summary>
    public string? FromUrl { get; init; }

    /// <summary>
    /// --allow-unencrypted: restore a dump that is not encrypted although bridge.encryption is set (refused otherwise:
    /// anyone who can write to the bridge could have put it there without the key).
    /// </summary>
    public bool AllowUnencrypted { get; init; }

    /// <summary>
    /// --allow-legacy: restore an encrypted dump whose index entry is not authenticated (encryption header version below
    /// 4; refused otherwise, <see cref="BridgeCodecs.CheckEntryAuthenticated"/>), telling its warning.
    /// </summary>
    public AllowLegacy? AllowLegacy { get; init; }
}

/// <summary>
/// One restore, decided from the config and the options: the bridge, the destination and what is wiped before. Running
/// it is <see cref="RestoreJob"/>; the host asks before a wipe (<see cref="WipesDatabase"/>).
/// </summary>
public sealed class RestoreRequest : IAsyncDisposable
{
    RestoreRequest(ReplicaConfig config, IBridge bridge, IRestoreDestination destination, WipeMode wipe, string? name, int jobs, bool allowUnencrypted,
        AllowLegacy? allowLegacy)
    {
        Jobs = jobs;
        AllowUnencrypted = allowUnencrypted;
        AllowLegacy = allowLegacy;
        Config = config;
        Bridge = bridge;
        Destination = destination;
        Wipe = wipe;
        Name = name;
    }

    public ReplicaConfig Config { get; }

    public IBridge Bridge { get; }

    public IRestoreDestination Destination { get; }

    /// <summary>--no-wipe, else --wipe, else destination.wipe.</summary>
    public WipeMode Wipe { get; }

    public string? Name { get; }

    /// <summary>Connections the restore runs on (<see cref="RestoreOptions.Jobs"/>).</summary>
    public int Jobs { get; }

    /// <summary><see cref="RestoreOptions.AllowUnencrypted"/>.</summary>
    public bool AllowUnencrypted { get; }

    /// <summary><see cref="RestoreOptions.AllowLegacy"/>.</summary>
    public AllowLegacy? AllowLegacy { get; }

    /// <summary>The restore drops data of a database (its schemas, or the whole database): confirm first.</summary>
    public bool WipesDatabase => Destination is PsqlDestination or MysqlDestination && Wipe != WipeMode.None;

    /// <summary>Opens the bridge, then picks the destination (<see cref="Endpoints.Destination"/>).</summary>
    public static RestoreRequest Create(ReplicaConfig config, RestoreOptions options, BridgeFactory bridges)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(bridges);
        var (bridge, name) = OpenBridge(config, options, bridges);
        var wipe = options.NoWipe ? WipeMode.None : options.Wipe ?? config.Destination.Wipe;
        if (options.Jobs < 1)
        {
            throw new ConfigException($"--jobs must be at least 1, not {options.Jobs}");
        }
        var destination = Endpoints.Destination(config, options.Output, wipe, config.Destination.CreateDatabase && !options.NoCreate);
        if (options.Jobs > 1 && destination is not PsqlDestination)
        {
            throw new ConfigException(JobsNeedPostgres(options.Jobs, destination));
        }
        if (options.Jobs > 1 && wipe == WipeMode.Schemas)
        {
            throw new ConfigException($"--jobs {options.Jobs} restores on several connections into a staging database that replaces the destination on success; "
                + "--wipe schemas drops schemas inside one transaction on one connection: use --wipe database, or --jobs 1");
        }
        return new RestoreRequest(config, bridge, destination, wipe, name, options.Jobs, options.AllowUnencrypted, options.AllowLegacy);
    }

    /// <summary>
    /// The configured bridge and the dump asked for by name (null: the newest), or with <see cref="RestoreOptions.FromFile"/>
    /// the archive as a bridge of its own and its one dump, or with <see cref="RestoreOptions.FromUrl"/> the shared dump.
    /// </summary>
    public static (IBridge Bridge, string? Name) OpenBridge(ReplicaConfig config, RestoreOptions options, BridgeFactory bridges)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(bridges);
        if (options.FromUrl is { } url)
        {
            // The share's one dump, whatever its name: a name given is checked against it as the restore reads the index.
            return (DumpShare.Open(url), options.Name);
        }
        if (options.FromFile is not { } path)
        {
            return (bridges.Open(config.Bridge), options.Name);
        }
        (ObjectBridge archive, string name) = DumpArchive.Open(path);
        if (options.Name is { } asked && asked != name)
        {
            throw new ConfigException($"{archive.Description} holds dump '{name}', not '{asked}'");
        }
        return (archive, name);
    }

    /// <summary>Why --jobs N &gt; 1 cannot go to <paramref name="destination"/>.</summary>
    internal static string JobsNeedPostgres(int jobs, IRestoreDestination destination) => destination is MysqlDestination
        ? $"--jobs {jobs} restores into PostgreSQL on several connections; a MySQL restore loads one stream into its staging database: use --jobs 1"
        : $"--jobs {jobs} restores into a PostgreSQL database (destination.connection_uri) on several connections; {destination.Description} gets one SQL stream: drop --jobs";

    /// <summary>Restores the dump into the destination (<see cref="RestoreJob"/>).</summary>
    public Task<(DumpEntry Entry, long Bytes)> RunAsync(RestoreCounter counter, CancellationToken cancellationToken) =>
        RestoreJob.RunAsync(Bridge, Name, Destination, Config.Bridge, cancellationToken, counter, Config.MaxRowBytes, Jobs, AllowUnencrypted, AllowLegacy);

    public ValueTask DisposeAsync() => Destination.DisposeAsync();
}
