namespace Replica.Bridges.S3.Tests;

public sealed class S3BridgeOptionsTests
{
    static S3BridgeOptions Valid() => new() { Bucket = "bucket", Prefix = "replica/", AccessKey = "AKIDEXAMPLE", SecretKey = "s3cr3t-value" };

    [Fact]
    public void Constructor_OnlyBucket_AwsBucketRootWithDocumentedDefaults()
    {
        var options = new S3BridgeOptions { Bucket = "bucket" };

        // The region is the AWS chain's; given here so that the client can be set up without one in the environment.
        using var bridge = new S3Bridge(options with { Region = "eu-west-1" });

        Assert.Equal("S3 bucket s3://bucket/", bridge.Description);
        Assert.Equal("", options.Prefix);
        Assert.Null(options.EndpointUrl);
        Assert.False(options.ForcePathStyle);
        Assert.Null(options.AccessKey);
        Assert.Equal(4, options.MaxRetries);
        Assert.Equal(16 * 1024 * 1024, options.MultipartThreshold);
        Assert.Equal(8 * 1024 * 1024, options.PartSize);
        Assert.Equal(TimeSpan.FromMinutes(1), options.MarkerRefreshInterval);
    }

    [Theory]
    [InlineData("replica", "prefix")]
    [InlineData("/replica/", "prefix")]
    [InlineData("a//b/", "prefix")]
    [InlineData("a/../b/", "prefix")]
    [InlineData("../b/", "prefix")]
    [InlineData("a/./b/", "prefix")]
    [InlineData("./", "prefix")]
    [InlineData("a\\b/", "prefix")]
    [InlineData("a\nb/", "prefix")]
    public void Validate_BadPrefix_NamesTheSetting(string prefix, string key)
    {
        var ex = Assert.Throws<ConfigException>(() => (Valid() with { Prefix = prefix }).Validate());
        Assert.Equal(key, ex.Key);
        Assert.Contains(prefix, ex.Message);
    }

    [Fact]
    public void Validate_AccessKeyWithoutSecret_Rejected()
    {
        var ex = Assert.Throws<ConfigException>(() => (Valid() with { SecretKey = null }).Validate());
        Assert.Equal("secret_access_key", ex.Key);
    }

    [Fact]
    public void Validate_PartSizeBelowS3Minimum_Rejected()
    {
        var ex = Assert.Throws<ConfigException>(() => (Valid() with { PartSize = 1024 * 1024 }).Validate());
        Assert.Equal("part_size", ex.Key);
    }

    [Fact]
    public void Validate_EndpointNotHttp_Rejected()
    {
        var ex = Assert.Throws<ConfigException>(() => (Valid() with { EndpointUrl = "ftp://host" }).Validate());
        Assert.Equal("endpoint", ex.Key);
    }

    /// <summary>
    /// Regression: an endpoint with user-info was accepted, and its password appeared in every message naming the bridge
    /// ("There is no complete dump in S3 bucket ... at http://user:TOPSECRETPW@...").
    /// </summary>
    [Theory]
    [InlineData("http://user:TOPSECRETPW@127.0.0.1:47311")]
    [InlineData("https://TOPSECRETPW@s3.example.com/")]
    [InlineData("ftp://user:TOPSECRETPW@host")]
    public void Validate_EndpointWithUserInfo_RejectedWithoutShowingIt(string endpoint)
    {
        var ex = Assert.Throws<ConfigException>(() => (Valid() with { EndpointUrl = endpoint }).Validate());
        Assert.Equal("endpoint", ex.Key);
        Assert.DoesNotContain("TOPSECRETPW", ex.ToString());
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsConfigException()
    {
        Assert.Throws<ConfigException>(() => new S3Bridge(Valid() with { Bucket = " " }));
    }

    [Fact]
    public void ToString_NeverShowsTheKeys()
    {
        string text = Valid().ToString();
        Assert.DoesNotContain("s3cr3t-value", text);
        Assert.DoesNotContain("AKIDEXAMPLE", text);
        Assert.Contains("bucket", text);
    }

    [Fact]
    public void Description_NamesBucketPrefixAndEndpoint()
    {
        using var bridge = new S3Bridge(Valid() with { EndpointUrl = "http://127.0.0.1:9000", Region = "us-east-1" });
        Assert.Equal("S3 bucket s3://bucket/replica/ at http://127.0.0.1:9000", bridge.Description);
    }
}
