using Replica.Scanning;

namespace Replica.Core.Tests.Scanning;

public sealed class NameTokensTests
{
    [Theory]
    [InlineData("email", "email")]
    [InlineData("customer_email", "customer|email")]
    [InlineData("customerEmailAddress2", "customer|email|address|2")]
    [InlineData("IPAddress", "ip|address")]
    [InlineData("EMail", "e|mail")]
    [InlineData("Mixed Case-name", "mixed|case|name")]
    [InlineData("__first__name__", "first|name")]
    [InlineData("address_line1", "address|line|1")]
    [InlineData("HTTPRequestID", "http|request|id")]
    [InlineData("", "")]
    public void Split_Names_GivesLowerCaseWords(string name, string expected)
    {
        Assert.Equal(expected, string.Join('|', NameTokens.Split(name)));
    }
}
