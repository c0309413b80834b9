using Replica.Transformers;

namespace Replica.Scanning;

/// <summary>Kinds of personal data a column can hold, each with a transformer that fits it.</summary>
public enum PersonalDataKind
{
    Email,
    Phone,
    FirstName,
    LastName,
    FullName,
    Username,
    Address,
    City,
    PostalCode,
    BirthDate,
    NationalId,
    Iban,
    BankAccount,
    CardNumber,
    CardSecurityCode,
    IpAddress,
    Password,
    Secret,
    Geolocation,
    Gender,
}

/// <summary>
/// A guess, from a column's name and type alone, that it holds personal data. <see cref="Confidence"/> is 0..1:
/// unambiguous names (email, ssn, iban) score 0.9, weaker ones (tel, login, a bare 'name' in a people table) less.
/// </summary>
public readonly record struct NameMatch(PersonalDataKind Kind, double Confidence, string Reason);

/// <summary>
/// Decides by name and type whether a column looks like personal data. Names are split into words (<see cref="NameTokens"/>),
/// so 'customer_email', 'customerEmail' and 'EMail' match but 'hotel' is not a phone ('tel') and 'mailing_list' is not
/// an e-mail. A name only counts when the column's type can hold such a value: an integer 'email_count' or a boolean
/// 'email_verified' is not an e-mail, a timestamp 'password_changed_at' is not a password. An inet/cidr column is an
/// IP address whatever its name.
/// </summary>
public static class PersonalData
{
    /// <summary>Last words that make a name describe a value rather than hold it (email_id, phone_type, token_count).</summary>
    static readonly HashSet<string> s_metadataWords = new(StringComparer.Ordinal)
    {
        "id", "ids", "uuid", "count", "at", "on", "verified", "confirmed", "enabled", "disabled", "type", "status", "flag",
        "kind", "format", "length", "len", "sent", "valid", "validated", "pref", "preference", "preferences", "template",
        "provider", "visibility", "visible", "required", "changed", "updated", "created", "expires", "expiry", "expired",
        "attempts", "version", "policy", "opt", "optin", "bounced", "source",
    };

    /// <summary>Table names whose bare 'name' column is a person's name.</summary>
    static readonly HashSet<string> s_peopleTables = new(StringComparer.Ordinal)
    {
        "user", "users", "customer", "customers", "person", "persons", "people", "employee", "employees", "member",
        "members", "contact", "contacts", "patient", "patients", "student", "students", "author", "authors", "account",
        "accounts", "client", "clients", "profile", "profiles", "subscriber", "subscribers", "guest", "guests", "staff",
    };

    /// <summary>The kind of personal data the column's name and type suggest, or null.</summary>
    public static NameMatch? ByName(string table, string column, TypeCategory category)
    {
        if (category == TypeCategory.Inet)
        {
            return new NameMatch(PersonalDataKind.IpAddress, 0.9, "type inet/cidr");
        }
        var match = KindByName(NameTokens.Split(table), NameTokens.Split(column));
        return match is { } m && Holds(m.Kind, category) ? m : null;
    }

    /// <summary>Whether a column of <paramref name="category"/> can hold a value of <paramref name="kind"/>.</summary>
    public static bool Holds(PersonalDataKind kind, TypeCategory category)
    {
        var text = category is TypeCategory.Text or TypeCategory.Other or TypeCategory.Unknown;
        var number = category is TypeCategory.Integer or TypeCategory.Numeric;
        return kind switch
        {
            PersonalDataKind.Phone or PersonalDataKind.CardNumber or PersonalDataKind.BankAccount or PersonalDataKind.NationalId => text || number,
            PersonalDataKind.PostalCode or PersonalDataKind.CardSecurityCode => text || category == TypeCategory.Integer,
            PersonalDataKind.BirthDate => text || category is TypeCategory.Date or TypeCategory.Timestamp,
            PersonalDataKind.IpAddress => text || category == TypeCategory.Inet,
            PersonalDataKind.Password or PersonalDataKind.Secret => text || category == TypeCategory.Bytea,
            PersonalDataKind.Geolocation => text || category == TypeCategory.Numeric,
            _ => text,
        };
    }

    static NameMatch? KindByName(string[] tableWords, string[] w)
    {
        if (w.Length == 0)
        {
            return null;
        }
        var joined = string.Concat(w);

        // Checked before the metadata words, whose 'id' they end with.
        if (Has(w, "ssn") || Pair(w, "social", "security") || Pair(w, "national", "id") || Pair(w, "national", "number")
            || Pair(w, "national", "insurance") || Has(w, "passport") || Pair(w, "tax", "id") || Has(w, "taxid")
            || (Has(w, "license") || Has(w, "licence")) && (Has(w, "driver") || Has(w, "drivers") || Has(w, "driving")))
        {
            return new NameMatch(PersonalDataKind.NationalId, 0.9, "name (national identifier)");
        }
        if (s_metadataWords.Contains(w[^1]) && w.Length > 1)
        {
            return null;
        }
        if (Has(w, "password") || Has(w, "passwd") || Has(w, "pwd") || Pair(w, "pass", "word") || Pair(w, "pass", "hash")
            || Has(w, "passphrase") || Has(w, "passcode") || joined is "pin" or "pincode")
        {
            return new NameMatch(PersonalDataKind.Password, 0.9, "name (password)");
        }
        if (Has(w, "token") || Has(w, "secret") || Pair(w, "api", "key") || Has(w, "apikey") || Pair(w, "access", "key")
            || Pair(w, "private", "key") || Has(w, "otp") || Has(w, "totp"))
        {
            return new NameMatch(PersonalDataKind.Secret, 0.8, "name (secret or token)");
        }
        if (Has(w, "email") || Has(w, "emails") || Pair(w, "e", "mail") || Has(w, "mail") || joined.StartsWith("email", StringComparison.Ordinal))
        {
            return new NameMatch(PersonalDataKind.Email, 0.9, "name (e-mail)");
        }
        if (Has(w, "mac"))
        {
            return null; // mac_address: a device, not a postal address
        }
        if (Has(w, "ip") || Has(w, "ipv") || Has(w, "ipaddr") || Has(w, "ipaddress")
            || (Has(w, "remote") || Has(w, "client")) && (Has(w, "addr") || Has(w, "address")))
        {
            return new NameMatch(PersonalDataKind.IpAddress, 0.9, "name (IP address)");
        }
        if (Has(w, "cvv") || Has(w, "cvc") || Has(w, "csc") || Pair(w, "security", "code") || Pair(w, "card", "verification"))
        {
            return new NameMatch(PersonalDataKind.CardSecurityCode, 0.9, "name (card security code)");
        }
        if (Pair(w, "credit", "card") || Pair(w, "debit", "card") || Has(w, "creditcard")
            || NumberAfter(w, "card") || NumberAfter(w, "cc") || joined is "ccnum" or "ccnumber" or "cardnumber" or "pan" || Pair(w, "pan", "number"))
        {
            return new NameMatch(PersonalDataKind.CardNumber, 0.9, "name (card number)");
        }
        if (Has(w, "iban"))
        {
            return new NameMatch(PersonalDataKind.Iban, 0.9, "name (IBAN)");
        }
        if (NumberAfter(w, "account") || NumberAfter(w, "acct") || NumberAfter(w, "bank") || joined is "accountnumber" or "accountno")
        {
            return new NameMatch(PersonalDataKind.BankAccount, 0.7, "name (account number)");
        }
        if (Has(w, "phone") || Has(w, "phones") || Has(w, "telephone") || Has(w, "tel") || Has(w, "fax") || Has(w, "msisdn")
            || joined.StartsWith("phone", StringComparison.Ordinal) || joined.EndsWith("phone", StringComparison.Ordinal)
            || LastOrNumber(w, "mobile") || LastOrNumber(w, "cell"))
        {
            return new NameMatch(PersonalDataKind.Phone, Has(w, "tel") ? 0.7 : 0.9, "name (phone number)");
        }
        if (w[0].StartsWith("birth", StringComparison.Ordinal) || Has(w, "birth") || Has(w, "dob") || Has(w, "born") || joined.Contains("birthday", StringComparison.Ordinal))
        {
            return new NameMatch(PersonalDataKind.BirthDate, 0.9, "name (birth date)");
        }
        if (NameAfter(w, "first", "given", "fore", "middle") || joined is "firstname" or "givenname" or "forename" or "fname" or "middlename")
        {
            return new NameMatch(PersonalDataKind.FirstName, 0.9, "name (first name)");
        }
        if (NameAfter(w, "last", "family", "sur", "maiden") || joined is "lastname" or "surname" or "familyname" or "lname")
        {
            return new NameMatch(PersonalDataKind.LastName, 0.9, "name (last name)");
        }
        if (Has(w, "username") || Has(w, "login") || Has(w, "nickname") || NameAfter(w, "user", "screen", "nick"))
        {
            return new NameMatch(PersonalDataKind.Username, 0.8, "name (username)");
        }
        if (NameAfter(w, "full", "display", "contact", "person", "customer", "legal", "real", "holder", "cardholder")
            || joined is "fullname" or "displayname")
        {
            return new NameMatch(PersonalDataKind.FullName, 0.8, "name (full name)");
        }
        if (w is ["name"] && tableWords.Length > 0 && s_peopleTables.Contains(tableWords[^1]))
        {
            return new NameMatch(PersonalDataKind.FullName, 0.6, "name ('name' in a table of people)");
        }
        if (Has(w, "address") || Has(w, "addr") || Has(w, "street") || joined.StartsWith("address", StringComparison.Ordinal))
        {
            return new NameMatch(PersonalDataKind.Address, 0.8, "name (street address)");
        }
        if (Has(w, "city") || Has(w, "town"))
        {
            return new NameMatch(PersonalDataKind.City, 0.7, "name (city)");
        }
        if (Has(w, "zip") || Has(w, "zipcode") || Has(w, "postcode") || Has(w, "postal") || Has(w, "postalcode") || Has(w, "plz"))
        {
            return new NameMatch(PersonalDataKind.PostalCode, 0.7, "name (postal code)");
        }
        if (Has(w, "lat") || Has(w, "latitude") || Has(w, "lng") || Has(w, "lon") || Has(w, "longitude") || Has(w, "geolocation")
            || Has(w, "coordinates") || Has(w, "coords"))
        {
            return new NameMatch(PersonalDataKind.Geolocation, 0.7, "name (geolocation)");
        }
        if (Has(w, "gender") || Has(w, "sex"))
        {
            return new NameMatch(PersonalDataKind.Gender, 0.6, "name (gender)");
        }
        return null;
    }

    static bool Has(string[] words, string word) => Array.IndexOf(words, word) >= 0;

    static bool Pair(string[] words, string first, string second)
    {
        for (var i = 0; i + 1 < words.Length; i++)
        {
            if (words[i] == first && words[i + 1] == second)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>'name' right after one of <paramref name="firsts"/>: first_name, FamilyName.</summary>
    static bool NameAfter(string[] words, params string[] firsts)
    {
        foreach (var first in firsts)
        {
            if (Pair(words, first, "name"))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>card_number, cc_no, acct_num.</summary>
    static bool NumberAfter(string[] words, string first) =>
        Pair(words, first, "number") || Pair(words, first, "no") || Pair(words, first, "num") || Pair(words, first, "nr");

    /// <summary>'mobile' as the last word or before number/phone/no (mobile, mobile_number) but not mobile_app_version.</summary>
    static bool LastOrNumber(string[] words, string word) =>
        words[^1] == word || NumberAfter(words, word) || Pair(words, word, "phone");
}
