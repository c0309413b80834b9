using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Config;

public class SanitizeConfigTests
{
    [Fact]
    public void Parse_Sanitize_ScratchUriAndStepsInOrderWithVariablesExpandedInBoth()
    {
        string file = Path.Combine(Path.GetTempPath(), $"replica-sanitize-{Guid.NewGuid():N}.sql");
        File.WriteAllText(file, "DELETE FROM customers WHERE country = '${COUNTRY}';\n");
        try
        {
            var config = Parse(
                "source:\n"
                + "  connection_uri: postgres://u@h/shop\n"
                + "sanitize:\n"
                + "  scratch_uri: postgres://u@h/${SCRATCH}\n"
                + "  statements:\n"
                + "    - UPDATE users SET password_hash = '${HASH}' WHERE role <> 'admin'\n"
                + $"    - {{ file: {file} }}\n",
                Env(("COUNTRY", "DE"), ("HASH", "x"), ("SCRATCH", "replica_scratch")));

            Assert.Equal("postgres://u@h/replica_scratch", config.Sanitize!.ScratchUri);
            Assert.Equal(
                [("UPDATE users SET password_hash = 'x' WHERE role <> 'admin'", "sanitize.statements[0]"),
                 ("DELETE FROM customers WHERE country = 'DE';\n", $"sanitize.statements[1] (file {file})")],
                config.Sanitize.Statements.Select(s => (s.Sql, s.Origin)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("", false, LeaveOut.None)]
    [InlineData("  allow_privileged_role: true\n", true, LeaveOut.None)]
    [InlineData("  no_owner: true\n", false, LeaveOut.Owners)]
    [InlineData("  no_owner: true\n  no_privileges: true\n", false, LeaveOut.Owners | LeaveOut.Privileges)]
    public void Parse_Sanitize_RoleKeys_DefaultToTheSafeChoice(string keys, bool allowPrivilegedRole, LeaveOut leaveOut)
    {
        // A privileged scratch role is refused unless the config says so, whatever the source (a live database too).
        var config = Parse("source:\n  connection_uri: postgres://u@h/shop\nsanitize:\n  scratch_uri: postgres://u@h/scratch\n"
            + keys + "  statements: [ 'DELETE FROM t' ]\n", Env());

        Assert.Equal(allowPrivilegedRole, config.Sanitize!.AllowPrivilegedRole);
        Assert.Equal(leaveOut, config.Sanitize.LeaveOut);
    }

    [Fact]
    public void Parse_NoSanitize_IsNull() => Assert.Null(Parse("locale: en\n").Sanitize);

    [Theory]
    [InlineData("{ statements: [ 'DELETE FROM t' ] }", "sanitize.scratch_uri", "missing")]
    [InlineData("{ scratch_uri: postgres://u@h/scratch }", "sanitize.statements", "missing")]
    [InlineData("{ scratch_uri: postgres://u@h/scratch, statements: [] }", "sanitize.statements", "at least one")]
    [InlineData("{ scratch_uri: postgres://u@h/shop, statements: [ 'DELETE FROM t' ] }", "sanitize.scratch_uri", "has the name of the source's database")]
    [InlineData("{ scratch_uri: 'mysql://u@h', statements: [ 'DELETE FROM t' ] }", "sanitize.scratch_uri", "the URI names none")]
    [InlineData("{ scratch_uri: postgres://u@h/scratch, statements: [ '' ] }", "sanitize.statements[0]", "empty")]
    [InlineData("{ scratch_uri: postgres://u@h/scratch, statements: [ 'x' ], keep: true }", "sanitize", "unknown key 'keep'")]
    public void Parse_Sanitize_Bad_IsAConfigErrorNamingTheKey(string body, string key, string message)
    {
        var ex = Fails($"source:\n  connection_uri: postgres://u@h/shop\nsanitize: {body}\n", Env());

        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }
}
