using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Replica.Bridges.S3.Tests.Servers;

/// <summary>
/// A throwaway S3 server for the tests (moto or Ceph radosgw), started by the fixture on a free port and stopped on
/// dispose (<see cref="ServerFixture"/>). Tests isolate themselves by creating a bucket of their own with
/// <see cref="CreateBucketAsync"/>.
/// </summary>
public abstract class S3Server : ServerFixture
{
    static int s_bucketCounter;

    /// <summary>"moto" or "radosgw", for messages.</summary>
    public abstract string Name { get; }

    public string EndpointUrl => $"http://127.0.0.1:{Port}";

    public const string AccessKey = "test";

    public const string SecretKey = "test";

    /// <summary>The directory under which fixtures keep their servers' files (.ci/run sets REPLICA_S3_TMP to clean up after crashes).</summary>
    protected static string TempParent()
    {
        string parent = Environment.GetEnvironmentVariable("REPLICA_S3_TMP") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        Directory.CreateDirectory(parent);
        return parent;
    }

    /// <summary>A plain SDK client for the tests' own checks (what is stored, raw overwrites), independent of S3Bridge.</summary>
    public AmazonS3Client CreateClient() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = EndpointUrl,
        AuthenticationRegion = "us-east-1",
        ForcePathStyle = true,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>Creates a new, empty bucket and returns its name.</summary>
    public async Task<string> CreateBucketAsync()
    {
        string bucket = $"replica-test-{Interlocked.Increment(ref s_bucketCounter)}-{Guid.NewGuid().ToString("N")[..8]}";
        using AmazonS3Client client = CreateClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        return bucket;
    }

    /// <summary>Bridge options for this server; short retry delays keep fault tests fast.</summary>
    public S3BridgeOptions Options(string bucket, string prefix = "replica/") => new()
    {
        Bucket = bucket,
        Prefix = prefix,
        Region = "us-east-1",
        EndpointUrl = EndpointUrl,
        ForcePathStyle = true,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>
    /// Waits until the server answers S3 requests (ListBuckets), failing after <paramref name="timeout"/> or as soon as
    /// <paramref name="isAlive"/> says the server process is gone.
    /// </summary>
    protected async Task WaitUntilServingAsync(TimeSpan timeout, Func<bool> isAlive, Func<string> diagnostics)
    {
        using AmazonS3Client client = CreateClient();
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await client.ListBucketsAsync(new ListBucketsRequest());
                return;
            }
            catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException && DateTime.UtcNow < deadline && isAlive())
            {
                await Task.Delay(100);
            }
            catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
            {
                throw new InvalidOperationException(
                    $"The {Name} test server on {EndpointUrl} did not answer S3 requests within {timeout.TotalSeconds} s: {ex.Message}\n{diagnostics()}", ex);
            }
        }
    }
}
