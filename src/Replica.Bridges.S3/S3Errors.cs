using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace Replica.Bridges.S3;

/// <summary>
/// Classifies S3 failures (retry or not) and turns them into <see cref="BridgeException"/>s that name the bucket, the
/// key and S3's error code. Messages are built from the operation, the key and S3's own error text only: never from the
/// request, so credentials cannot leak into them.
/// </summary>
internal static class S3Errors
{
    /// <summary>Keys of <see cref="Exception.Data"/> on the BridgeExceptions built here, for callers that want them typed.</summary>
    public const string BucketData = "S3Bucket";
    public const string KeyData = "S3Key";
    public const string ErrorCodeData = "S3ErrorCode";

    /// <summary>True for failures worth another try: server errors, throttling, timeouts and broken connections.</summary>
    public static bool IsTransient(Exception ex, CancellationToken cancellationToken)
    {
        if (ex is OperationCanceledException)
        {
            // Our own cancellation is final; any other is the HTTP client's timeout.
            return !cancellationToken.IsCancellationRequested;
        }
        if (ex is AmazonServiceException service && service.StatusCode != 0)
        {
            int status = (int)service.StatusCode;
            if (status >= 500 || status == 429 || status == 408)
            {
                return true;
            }
            if (service.ErrorCode is "SlowDown" or "RequestTimeout" or "Throttling" or "ThrottlingException" or "InternalError"
                or "ServiceUnavailable" or "RequestTimeTooSkewed")
            {
                return true;
            }
            // Any other answer from the server (403, 404, 412 ...) will not change by asking again.
            return false;
        }
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or IOException or SocketException or TimeoutException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True for the exceptions an S3 call fails with (as opposed to bugs such as ArgumentException).</summary>
    public static bool IsS3Failure(Exception ex, CancellationToken cancellationToken) =>
        ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException
            or TimeoutException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    public static bool IsNoSuchKey(AmazonS3Exception ex) =>
        ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode is "NoSuchKey" or "NotFound" or null or "";

    /// <summary>412 Precondition Failed, or 409 ConditionalRequestConflict: another writer changed the object first.</summary>
    public static bool IsConditionFailed(AmazonS3Exception ex) =>
        ex.StatusCode == HttpStatusCode.PreconditionFailed || ex.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict";

    /// <summary>
    /// "Cannot {what} s3://bucket/key: S3 error NoSuchBucket (HTTP 404): The specified bucket does not exist." plus how
    /// many tries were made. Bucket, key and error code are also put in <see cref="Exception.Data"/>.
    /// </summary>
    public static BridgeException Failed(string what, string bucket, string key, Exception ex, int attempts, string? hint = null)
    {
        string code;
        string reason;
        if (ex is AmazonServiceException service && !string.IsNullOrEmpty(service.ErrorCode))
        {
            code = service.ErrorCode;
            reason = $"S3 error {code} (HTTP {(int)service.StatusCode}): {service.Message}";
        }
        else if (ex is AmazonServiceException { StatusCode: not 0 } statusOnly)
        {
            code = $"HTTP{(int)statusOnly.StatusCode}";
            reason = $"HTTP {(int)statusOnly.StatusCode} {statusOnly.StatusCode}: {statusOnly.Message}";
        }
        else if (ex is OperationCanceledException)
        {
            code = "Timeout";
            reason = "the request timed out";
        }
        else
        {
            code = ex.GetType().Name;
            reason = InnermostMessage(ex);
        }
        string tries = attempts > 1 ? $" (after {attempts} tries)" : "";
        string advice = hint is null ? "" : $"; {hint}";
        var failure = new BridgeException($"Cannot {what} s3://{bucket}/{key}: {reason}{tries}{advice}", ex);
        failure.Data[BucketData] = bucket;
        failure.Data[KeyData] = key;
        failure.Data[ErrorCodeData] = code;
        return failure;
    }

    static string InnermostMessage(Exception ex)
    {
        // The SDK wraps socket errors in layers; the innermost message ("Connection refused") is the useful one.
        Exception inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }
        return inner == ex ? ex.Message : $"{ex.Message} ({inner.Message})";
    }
}
