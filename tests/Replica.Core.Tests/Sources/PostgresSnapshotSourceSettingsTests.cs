using Replica.Sources;

namespace Replica.Core.Tests.Sources;

/// <summary>The snapshot source's session settings per server version (only PostgreSQL 15 runs in the integration tests).</summary>
public sealed class PostgresSnapshotSourceSettingsTests
{
    [Theory]
    [InlineData(13)]
    [InlineData(16)]
    public void SessionSettings_Before17_LeaveTransactionTimeoutOut(int major)
    {
        // The server refuses an unknown setting: transaction_timeout came with 17.
        Assert.DoesNotContain("transaction_timeout", PostgresSnapshotSource.SessionSettings(new Version(major, 4)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(17)]
    [InlineData(18)]
    public void SessionSettings_From17_DisableTransactionTimeout(int major)
    {
        Assert.Contains("SET transaction_timeout = 0;", PostgresSnapshotSource.SessionSettings(new Version(major, 0)), StringComparison.Ordinal);
    }

    [Fact]
    public void SessionSettings_AnyVersion_EmptySearchPathAndNoTimeouts()
    {
        var settings = PostgresSnapshotSource.SessionSettings(new Version(15, 14));

        Assert.Contains("SET search_path = ''", settings, StringComparison.Ordinal);
        Assert.Contains("SET statement_timeout = 0;", settings, StringComparison.Ordinal);
        Assert.Contains("SET idle_in_transaction_session_timeout = 0;", settings, StringComparison.Ordinal);
    }
}
