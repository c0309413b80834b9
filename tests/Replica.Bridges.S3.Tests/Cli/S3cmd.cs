using Replica.Bridges.S3.Tests.Servers;

namespace Replica.Bridges.S3.Tests.Cli;

/// <summary>
/// s3cmd against a test server: what a person would use to look into (or damage) the bucket, independent of Replica's
/// own S3 code. Its config file holds the test server's keys and lives in the test's scratch directory.
/// </summary>
public sealed class S3cmd
{
    readonly string _program;
    readonly string _configFile;

    S3cmd(string program, string configFile)
    {
        _program = program;
        _configFile = configFile;
    }

    public static async Task<S3cmd> CreateAsync(S3Server server, string accessKey, string secretKey, string directory)
    {
        string program = ProcessRunner.FindOnPath("s3cmd")
            ?? throw new InvalidOperationException("s3cmd is not installed: apt-get install -y s3cmd (.ci/run does this).");
        string configFile = Path.Combine(directory, "s3cfg");
        // Path-style addressing (host_bucket without %(bucket)s), plain HTTP, SigV4.
        await File.WriteAllTextAsync(configFile, $"""
            [default]
            access_key = {accessKey}
            secret_key = {secretKey}
            host_base = 127.0.0.1:{server.Port}
            host_bucket = 127.0.0.1:{server.Port}
            use_https = False
            signature_v2 = False
            bucket_location = us-east-1
            """);
        return new S3cmd(program, configFile);
    }

    /// <summary>Downloads s3://bucket/key and returns its bytes; fails the test when s3cmd fails.</summary>
    public async Task<byte[]> GetAsync(string bucket, string key, string scratchFile)
    {
        await RunAsync("get", "--force", $"s3://{bucket}/{key}", scratchFile);
        return await File.ReadAllBytesAsync(scratchFile);
    }

    /// <summary>Uploads a file over s3://bucket/key.</summary>
    public Task PutAsync(string file, string bucket, string key) => RunAsync("put", file, $"s3://{bucket}/{key}");

    /// <summary>Deletes s3://bucket/key.</summary>
    public Task DeleteAsync(string bucket, string key) => RunAsync("del", $"s3://{bucket}/{key}");

    async Task RunAsync(params string[] arguments)
    {
        ProcessOutput result = await ProcessRunner.RunAsync(_program, ["-c", _configFile, .. arguments], throwOnError: false);
        Assert.True(result.ExitCode == 0, $"s3cmd {string.Join(' ', arguments)} failed: {result.Describe()}");
    }
}
