using Replica.Scanning;

namespace Replica.Core.Tests.Scanning;

public sealed class ValuePatternsTests
{
    [Theory]
    [InlineData("jane.doe@example.com", true)]
    [InlineData("  j+tag@mail.example.co.uk ", true)]
    [InlineData("o'brien@example.ie", true)]
    [InlineData("jane@localhost", false)]
    [InlineData("jane@@example.com", false)]
    [InlineData("@example.com", false)]
    [InlineData("jane..doe@example.com", false)]
    [InlineData("jane@example.c0m", false)]
    [InlineData("jane@exa mple.com", false)]
    [InlineData("call jane@example.com today", false)]
    public void IsEmail_Values(string value, bool expected) => Assert.Equal(expected, ValuePatterns.IsEmail(value));

    [Theory]
    [InlineData("+4930123456789", true)]
    [InlineData("+1 (555) 123-4567", true)]
    [InlineData("030 12345678", true)]
    [InlineData("(030) 1234-5678", true)]
    [InlineData("555-123-4567", true)]
    [InlineData("03012345678", true)]
    [InlineData("12345678", false)]        // a bare number: an order number as likely as a phone
    [InlineData("2024-05-01", false)]      // an ISO date has digits and dashes too
    [InlineData("+123", false)]
    [InlineData("555-CALL-NOW", false)]
    [InlineData("", false)]
    public void IsPhoneNumber_Values(string value, bool expected) => Assert.Equal(expected, ValuePatterns.IsPhoneNumber(value));

    [Theory]
    [InlineData("4111111111111111", true)]      // Visa test number
    [InlineData("4111 1111 1111 1111", true)]
    [InlineData("5500-0000-0000-0004", true)]   // Mastercard test number
    [InlineData("378282246310005", true)]       // Amex test number, 15 digits
    [InlineData("4111111111111112", false)]     // check digit off by one
    [InlineData("411111111111", false)]         // 12 digits: too short
    [InlineData("41111111111111111111", false)] // 20 digits: too long
    [InlineData("4111x111111111111", false)]
    public void IsCardNumber_Values(string value, bool expected) => Assert.Equal(expected, ValuePatterns.IsCardNumber(value));

    [Theory]
    [InlineData(new byte[] { 7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3 }, true)] // the classic example 79927398713
    [InlineData(new byte[] { 7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 0 }, false)]
    [InlineData(new byte[] { 0, 0 }, true)]
    [InlineData(new byte[] { 5 }, false)]
    public void LuhnValid_Digits(byte[] digits, bool expected) => Assert.Equal(expected, ValuePatterns.LuhnValid(digits));

    [Theory]
    [InlineData("192.168.0.1", true)]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("::1/128", true)]
    [InlineData("256.1.1.1", false)]
    [InlineData("1.2.3", false)]
    [InlineData("1", false)]         // IPAddress.TryParse would take it as 0.0.0.1
    [InlineData("0x7f.0.0.1", false)]
    [InlineData("12:30", false)]
    [InlineData("1.2.3.4/200", false)]
    public void IsIpAddress_Values(string value, bool expected) => Assert.Equal(expected, ValuePatterns.IsIpAddress(value));

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 32", true)] // ISO 13616 / ECBS example
    [InlineData("DE89370400440532013000", true)]
    [InlineData("de89370400440532013000", true)]
    [InlineData("FR1420041010050500013M02606", true)]
    [InlineData("GB82 WEST 1234 5698 7654 33", false)] // one digit changed
    [InlineData("DE89370400440532013001", false)]
    [InlineData("DE8937040044", false)]
    [InlineData("1234567890123456", false)]
    public void IsIban_Values(string value, bool expected) => Assert.Equal(expected, ValuePatterns.IsIban(value));

    [Fact]
    public void IbanRemainder_ValidIban_IsOne()
    {
        Assert.Equal(1, ValuePatterns.IbanRemainder("GB82WEST12345698765432"));
        Assert.NotEqual(1, ValuePatterns.IbanRemainder("GB00WEST12345698765432"));
    }
}
