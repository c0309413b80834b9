using Replica.Bridges;
using Replica.Config;

namespace Replica.Pipeline;

/// <summary>
/// Opens the configured bridge: the S3 bucket when bridge.s3 is set, else the local directory. S3 lives in its own
/// project (Replica.Bridges.S3, so the cloud SDK stays out of Core); the host hands in how to open it
/// (<c>S3BridgeFactory.Open</c>), and without it a configured bucket is a config error.
/// </summary>
public sealed class BridgeFactory(Func<S3Config, IBridge>? openS3 = null)
{
    /// <summary>Local directories only.</summary>
    public static BridgeFactory Local { get; } = new();

    public IBridge Open(BridgeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.S3 is not { } s3)
        {
            return new LocalBridge(Path.GetFullPath(config.LocalPath));
        }
        return openS3 is null
            ? throw new ConfigException("this build of Replica has no S3 bridge", key: "bridge.s3")
            : openS3(s3);
    }
}
