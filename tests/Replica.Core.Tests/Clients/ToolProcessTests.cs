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

    /// <summary>
    /// psql cuts the statement it repeats ("LINE 1: ...6789abcdefXYZ...QRSTUV' || bogus_colu..."), so a long secret shows
    /// in part, with no whole occurrence to replace: no run of 8 of its characters may remain.
    /// </summary>
    [Fact]
    public void Scrub_SecretCutByTheTool_LeavesNoPieceOfIt()
    {
        const string secret = "sk_live_0123456789abcdefXYZ0123456789abcdefghijklmnopQRSTUVWXYZ0123456789abcdefgh";
        var text = $"ERROR:  column \"bogus\" does not exist\nLINE 1: ...{secret[20..67]}' || bogus_colu...\n"
            + $"ERROR 1062 (23000) at line 1: Duplicate entry '{secret[..64]}' for key 'PRIMARY'\nnear '{secret[70..]}";

        var scrubbed = ToolProcess.Scrub(text, [secret, "hunter2"]);

        for (var start = 0; start + ToolProcess.MinPieceLength <= secret.Length; start++)
        {
            Assert.DoesNotContain(secret.Substring(start, ToolProcess.MinPieceLength), scrubbed, StringComparison.Ordinal);
        }
        Assert.Equal("ERROR:  column \"bogus\" does not exist\nLINE 1: ...********' || bogus_colu...\n"
            + "ERROR 1062 (23000) at line 1: Duplicate entry '********' for key 'PRIMARY'\nnear '********", scrubbed);
        Assert.Equal("no secret here", ToolProcess.Scrub("no secret here", [secret]));
    }
}
