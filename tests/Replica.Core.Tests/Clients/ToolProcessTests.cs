using Replica.Clients;

namespace Replica.Core.Tests.Clients;

public sealed class ToolProcessTests
{
    [Fact]
    public async Task WaitForSuccess_FailedTool_ScrubsEverySecretFromItsError()
    {
        // As psql repeats a failed statement: "LINE 1: UPDATE settingz SET api_token = '<the value of ${VAR}>'".
        await using var tool = ToolProcess.Start("/bin/sh",
            ["-c", "echo 'psql: password hunter2 rejected' >&2; echo \"LINE 1: UPDATE settingz SET api_token = 'tok_live_TOPSECRET_123'\" >&2; exit 3"],
            new Dictionary<string, string>(), ["hunter2", null, "tok_live_TOPSECRET_123", "TOPSECRET"]);

        var ex = await Assert.ThrowsAsync<DatabaseException>(() => tool.WaitForSuccessAsync(CancellationToken.None));

        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("TOPSECRET", ex.Message, StringComparison.Ordinal);
        Assert.Contains("LINE 1: UPDATE settingz SET api_token = '********'", ex.Message, StringComparison.Ordinal);
    }
}
