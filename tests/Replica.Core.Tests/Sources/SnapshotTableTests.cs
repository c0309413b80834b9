using System.Text;
using Replica.Lexing;
using Replica.Sources;

namespace Replica.Core.Tests.Sources;

public sealed class SnapshotTableTests
{
    /// <summary>
    /// The name a data part carries in the manifest: without control characters (the manifest reader refuses them, since
    /// names reach terminals), yet the same table when restore --jobs reads it as SQL.
    /// </summary>
    [Theory]
    [InlineData("public", "users", "public.users", "public.users")]
    [InlineData("public", "line\nbreak", "public.\"line\nbreak\"", "\"public\".U&\"line\\000Abreak\"")]
    [InlineData("s\tx", "a\"b\\c\u001b[31m", "\"s\tx\".\"a\"\"b\\c\u001b[31m\"", "U&\"s\\0009x\".U&\"a\"\"b\\\\c\\001B[31m\"")]
    [InlineData("public", "del\u007fc1\u0085", "public.\"del\u007fc1\u0085\"", "\"public\".U&\"del\\007Fc1\\0085\"")]
    public void PrintableName_ControlCharacters_EscapedAndReadBackAsTheSameTable(string schema, string name, string qualified, string expected)
    {
        var table = new SnapshotTable(schema, name, qualified, "", 0);

        Assert.Equal(expected, table.PrintableName);
        Assert.DoesNotContain(table.PrintableName, char.IsControl);
        var t = new SqlTokenizer(Encoding.UTF8.GetBytes(table.PrintableName));
        Assert.True(t.Next());
        Assert.True(StatementParser.TryReadQualifiedName(ref t, out var read));
        Assert.Equal(TokenKind.End, t.Kind);
        Assert.Equal(new TableName(schema, name), read);
    }
}
