using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.S3;
using Amazon.S3.Model;

namespace Replica.Bridges.S3;

// Presigned GET URLs (SigV4 query authentication) for `replica share`: a link reads one object without credentials
// until it expires, or until the credentials that signed it do. See
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/ShareObjectPreSignedURL.html
internal sealed partial class S3Store : IPresigningStore
{
    /// <summary>SigV4 refuses presigned URLs that live longer than a week.</summary>
    public TimeSpan MaxLinkLifetime => TimeSpan.FromDays(7);

    public async Task<(bool Temporary, DateTimeOffset? Expires)> SigningCredentialsAsync(CancellationToken cancellationToken)
    {
        if (_options.AccessKey is not null)
        {
            // bridge.s3.access_key_id / secret_access_key: a long-lived key pair.
            return (false, null);
        }
        AWSCredentials credentials;
        ImmutableCredentials resolved;
        try
        {
            credentials = await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync(_client.Config).ConfigureAwait(false);
            resolved = await credentials.GetCredentialsAsync().ConfigureAwait(false);
        }
        catch (AmazonClientException ex)
        {
            throw new BridgeException($"Cannot sign links to bucket '{Bucket}': no credentials were found ({ex.Message}).", ex);
        }
        DateTimeOffset? expires = credentials.Expiration is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
        return (resolved.UseToken || expires is not null, expires);
    }

    public async Task<Uri> PresignGetAsync(string key, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        string full = Full(key);
        var request = new GetPreSignedUrlRequest
        {
            BucketName = Bucket,
            Key = full,
            Verb = HttpVerb.GET,
            Expires = expires.UtcDateTime,
            // The SDK signs https links unless told otherwise; a plain-http endpoint (a test server) needs http ones.
            Protocol = _options.EndpointUrl is { } endpoint && endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
                ? Protocol.HTTP : Protocol.HTTPS,
        };
        string url;
        try
        {
            url = await _client.GetPreSignedURLAsync(request).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonClientException or ArgumentException)
        {
            throw new BridgeException($"Cannot sign a link to s3://{Bucket}/{full}: {ex.Message}", ex);
        }
        return new Uri(url);
    }
}
