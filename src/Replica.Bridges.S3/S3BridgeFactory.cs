using Replica.Config;

namespace Replica.Bridges.S3;

/// <summary>Maps the config's bridge.s3 to <see cref="S3BridgeOptions"/> and opens the bridge (for Pipeline.BridgeFactory).</summary>
public static class S3BridgeFactory
{
    /// <summary>The options of bridge.s3, checked (<see cref="S3BridgeOptions.Validate"/>).</summary>
    public static S3BridgeOptions Options(S3Config s3)
    {
        ArgumentNullException.ThrowIfNull(s3);
        var options = new S3BridgeOptions
        {
            Bucket = s3.Bucket,
            Prefix = s3.Prefix,
            Region = s3.Region,
            EndpointUrl = s3.Endpoint,
            ForcePathStyle = s3.ForcePathStyle,
            AccessKey = s3.AccessKeyId,
            SecretKey = s3.SecretAccessKey,
            MaxRetries = s3.Retries,
        };
        options.Validate();
        return options;
    }

    public static IBridge Open(S3Config s3) => new S3Bridge(Options(s3));
}
