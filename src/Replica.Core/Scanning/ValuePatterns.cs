using System.Net;
using System.Net.Sockets;

namespace Replica.Scanning;

/// <summary>
/// Recognizes values that are personal data by their shape: e-mail addresses, phone numbers, payment card numbers
/// (Luhn check digit), IPv4/IPv6 addresses, IBANs (ISO 13616 mod-97). Hand-written rather than regular expressions, so
/// a hostile value cannot make a check slow. Used on small samples, not on the dump's hot path.
/// </summary>
public static class ValuePatterns
{
    /// <summary>local@domain.tld: an RFC 5322 dot-atom local part, a host name with at least one dot and a letter TLD.</summary>
    public static bool IsEmail(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        var at = value.IndexOf('@');
        if (at <= 0 || at != value.LastIndexOf('@') || value.Length > 254)
        {
            return false;
        }
        var local = value[..at];
        var domain = value[(at + 1)..];
        if (local.Length > 64 || local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in local)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || ".!#$%&'*+/=?^_`{|}~-".Contains(c)))
            {
                return false;
            }
        }
        var lastDot = domain.LastIndexOf('.');
        if (lastDot <= 0 || domain.Length - lastDot - 1 < 2)
        {
            return false;
        }
        foreach (var c in domain[(lastDot + 1)..])
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }
        var labelLength = 0;
        foreach (var c in domain)
        {
            if (c == '.')
            {
                if (labelLength == 0)
                {
                    return false;
                }
                labelLength = 0;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '-')
            {
                labelLength++;
            }
            else
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A phone number: E.164 (+ and 8 to 15 digits) or a national format with separators ("(030) 1234-5678",
    /// "030 12345678", "555-123-4567"): 7 to 15 digits, only digits, spaces, '-', '.', '/', parentheses and a leading '+'.
    /// Bare digit strings qualify only when they start with '0' or '+' (else an order number would count), and ISO
    /// dates (2024-05-01) never do.
    /// </summary>
    public static bool IsPhoneNumber(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        if (value.Length == 0)
        {
            return false;
        }
        var plus = value[0] == '+';
        var digits = 0;
        var separators = 0;
        for (var i = plus ? 1 : 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (c is ' ' or '-' or '.' or '(' or ')' or '/')
            {
                separators++;
            }
            else
            {
                return false;
            }
        }
        if (plus)
        {
            return digits is >= 8 and <= 15;
        }
        if (digits is < 7 or > 15 || IsIsoDate(value))
        {
            return false;
        }
        return separators > 0 || value[0] == '0';
    }

    static bool IsIsoDate(ReadOnlySpan<char> value) =>
        value.Length >= 10 && value[4] == '-' && value[7] == '-'
        && char.IsAsciiDigit(value[0]) && char.IsAsciiDigit(value[3]) && char.IsAsciiDigit(value[5]) && char.IsAsciiDigit(value[8]);

    /// <summary>A payment card number: 13 to 19 digits, optionally grouped by spaces or dashes, with a valid Luhn check digit.</summary>
    public static bool IsCardNumber(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        Span<byte> digits = stackalloc byte[19];
        var count = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                if (count == digits.Length)
                {
                    return false;
                }
                digits[count++] = (byte)(c - '0');
            }
            else if (c is not (' ' or '-'))
            {
                return false;
            }
        }
        return count >= 13 && LuhnValid(digits[..count]);
    }

    /// <summary>
    /// The Luhn (mod 10) check: from the rightmost digit (the check digit), double every second digit, subtract 9 from
    /// products over 9, and the sum must be a multiple of 10 (ISO/IEC 7812-1 annex B).
    /// </summary>
    public static bool LuhnValid(ReadOnlySpan<byte> digits)
    {
        if (digits.Length < 2)
        {
            return false;
        }
        var sum = 0;
        var doubled = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i];
            if (doubled)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }
            sum += d;
            doubled = !doubled;
        }
        return sum % 10 == 0;
    }

    /// <summary>A dotted-quad IPv4 address (each part 0-255) or an IPv6 address, optionally with a /prefix as inet writes it.</summary>
    public static bool IsIpAddress(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        var slash = value.IndexOf('/');
        if (slash >= 0)
        {
            if (!int.TryParse(value[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix) || prefix > 128)
            {
                return false;
            }
            value = value[..slash];
        }
        if (value.Contains(':'))
        {
            return IPAddress.TryParse(value, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }
        // IPAddress.TryParse takes "1" or "0x7f.1" as IPv4; an address in a text column is written as four decimal parts.
        var parts = 0;
        var partValue = 0;
        var partDigits = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                partValue = partValue * 10 + (c - '0');
                if (++partDigits > 3 || partValue > 255)
                {
                    return false;
                }
            }
            else if (c == '.' && partDigits > 0)
            {
                parts++;
                partValue = 0;
                partDigits = 0;
            }
            else
            {
                return false;
            }
        }
        return parts == 3 && partDigits > 0;
    }

    /// <summary>
    /// An IBAN (ISO 13616): country letters, two check digits, 11 to 30 letters or digits (spaces allowed), 15 to 34
    /// characters without spaces, and the mod-97 check: moved to the end with letters as 10..35, the number mod 97 is 1.
    /// </summary>
    public static bool IsIban(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        Span<char> compact = stackalloc char[34];
        var length = 0;
        foreach (var c in value)
        {
            if (c == ' ')
            {
                continue;
            }
            if (!char.IsAsciiLetterOrDigit(c) || length == compact.Length)
            {
                return false;
            }
            compact[length++] = char.ToUpperInvariant(c);
        }
        if (length < 15 || !char.IsAsciiLetterUpper(compact[0]) || !char.IsAsciiLetterUpper(compact[1])
            || !char.IsAsciiDigit(compact[2]) || !char.IsAsciiDigit(compact[3]))
        {
            return false;
        }
        return IbanRemainder(compact[..length]) == 1;
    }

    /// <summary>The IBAN's value mod 97 after moving its first four characters to the end (A=10 ... Z=35), digit by digit.</summary>
    public static int IbanRemainder(ReadOnlySpan<char> iban)
    {
        var remainder = 0;
        for (var k = 0; k < iban.Length; k++)
        {
            var c = iban[(k + 4) % iban.Length];
            if (char.IsAsciiDigit(c))
            {
                remainder = (remainder * 10 + (c - '0')) % 97;
            }
            else
            {
                var n = char.ToUpperInvariant(c) - 'A' + 10;
                remainder = (remainder * 100 + n) % 97;
            }
        }
        return remainder;
    }
}
