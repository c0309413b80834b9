using Replica.Scanning;
using Replica.Transformers;

namespace Replica.Core.Tests.Scanning;

public sealed class PersonalDataTests
{
    [Theory]
    [InlineData("users", "email", TypeCategory.Text, PersonalDataKind.Email)]
    [InlineData("users", "EMailAddress", TypeCategory.Text, PersonalDataKind.Email)]
    [InlineData("users", "e_mail", TypeCategory.Text, PersonalDataKind.Email)]
    [InlineData("users", "phone_number", TypeCategory.Text, PersonalDataKind.Phone)]
    [InlineData("users", "phone", TypeCategory.Integer, PersonalDataKind.Phone)]
    [InlineData("users", "mobile", TypeCategory.Text, PersonalDataKind.Phone)]
    [InlineData("users", "first_name", TypeCategory.Text, PersonalDataKind.FirstName)]
    [InlineData("users", "givenName", TypeCategory.Text, PersonalDataKind.FirstName)]
    [InlineData("users", "surname", TypeCategory.Text, PersonalDataKind.LastName)]
    [InlineData("users", "full_name", TypeCategory.Text, PersonalDataKind.FullName)]
    [InlineData("customers", "name", TypeCategory.Text, PersonalDataKind.FullName)]
    [InlineData("users", "username", TypeCategory.Text, PersonalDataKind.Username)]
    [InlineData("users", "login", TypeCategory.Text, PersonalDataKind.Username)]
    [InlineData("users", "street_address", TypeCategory.Text, PersonalDataKind.Address)]
    [InlineData("users", "city", TypeCategory.Text, PersonalDataKind.City)]
    [InlineData("users", "zip", TypeCategory.Integer, PersonalDataKind.PostalCode)]
    [InlineData("users", "postal_code", TypeCategory.Text, PersonalDataKind.PostalCode)]
    [InlineData("users", "date_of_birth", TypeCategory.Date, PersonalDataKind.BirthDate)]
    [InlineData("users", "dob", TypeCategory.Date, PersonalDataKind.BirthDate)]
    [InlineData("users", "birthday", TypeCategory.Text, PersonalDataKind.BirthDate)]
    [InlineData("users", "ssn", TypeCategory.Text, PersonalDataKind.NationalId)]
    [InlineData("users", "national_id", TypeCategory.Text, PersonalDataKind.NationalId)]
    [InlineData("users", "passport_number", TypeCategory.Text, PersonalDataKind.NationalId)]
    [InlineData("payments", "iban", TypeCategory.Text, PersonalDataKind.Iban)]
    [InlineData("payments", "account_number", TypeCategory.Text, PersonalDataKind.BankAccount)]
    [InlineData("payments", "credit_card", TypeCategory.Text, PersonalDataKind.CardNumber)]
    [InlineData("payments", "cc_number", TypeCategory.Text, PersonalDataKind.CardNumber)]
    [InlineData("payments", "pan", TypeCategory.Text, PersonalDataKind.CardNumber)]
    [InlineData("payments", "cvv", TypeCategory.Text, PersonalDataKind.CardSecurityCode)]
    [InlineData("sessions", "ip_address", TypeCategory.Text, PersonalDataKind.IpAddress)]
    [InlineData("sessions", "remote_addr", TypeCategory.Text, PersonalDataKind.IpAddress)]
    [InlineData("sessions", "anything", TypeCategory.Inet, PersonalDataKind.IpAddress)]
    [InlineData("users", "password_hash", TypeCategory.Text, PersonalDataKind.Password)]
    [InlineData("users", "passwd", TypeCategory.Bytea, PersonalDataKind.Password)]
    [InlineData("users", "api_key", TypeCategory.Text, PersonalDataKind.Secret)]
    [InlineData("users", "reset_token", TypeCategory.Text, PersonalDataKind.Secret)]
    [InlineData("places", "latitude", TypeCategory.Numeric, PersonalDataKind.Geolocation)]
    [InlineData("users", "gender", TypeCategory.Text, PersonalDataKind.Gender)]
    public void ByName_PersonalNames_AreFound(string table, string column, TypeCategory category, PersonalDataKind kind)
    {
        var match = PersonalData.ByName(table, column, category);
        Assert.True(match is not null, $"{column} ({category}) was not recognized");
        Assert.Equal(kind, match!.Value.Kind);
    }

    [Theory]
    [InlineData("users", "email_verified", TypeCategory.Boolean)]  // describes the address, holds none
    [InlineData("users", "email_count", TypeCategory.Integer)]
    [InlineData("users", "email_id", TypeCategory.Integer)]
    [InlineData("users", "email_sent_at", TypeCategory.Timestamp)]
    [InlineData("users", "password_changed_at", TypeCategory.Timestamp)]
    [InlineData("users", "email_status", TypeCategory.Text)]
    [InlineData("users", "mailing_list", TypeCategory.Text)]
    [InlineData("hotels", "hotel", TypeCategory.Text)]            // 'tel' only as a word
    [InlineData("devices", "mac_address", TypeCategory.Text)]
    [InlineData("products", "name", TypeCategory.Text)]           // a product's name is not a person's
    [InlineData("users", "first_name", TypeCategory.Integer)]     // no text fits an integer
    [InlineData("orders", "notes", TypeCategory.Text)]
    [InlineData("users", "mobile_app_version", TypeCategory.Text)]
    [InlineData("users", "address_id", TypeCategory.Integer)]
    [InlineData("users", "emails", TypeCategory.Array)]
    public void ByName_OtherNames_AreNotPersonalData(string table, string column, TypeCategory category)
    {
        Assert.Null(PersonalData.ByName(table, column, category));
    }

    [Theory]
    [InlineData(PersonalDataKind.Email, "character varying(200)", false, "email")]
    [InlineData(PersonalDataKind.Email, "text", true, "email")]
    [InlineData(PersonalDataKind.Email, "character varying(12)", true, null)]      // too short for a unique fake or hash
    [InlineData(PersonalDataKind.Password, "character varying(40)", false, "hash")] // hash cut to the column's length
    [InlineData(PersonalDataKind.Phone, "text", false, "phone-number")]
    [InlineData(PersonalDataKind.Phone, "bigint", false, "random")]
    [InlineData(PersonalDataKind.FirstName, "text", false, "first-name")]
    [InlineData(PersonalDataKind.BirthDate, "date", false, "date-shift")]
    [InlineData(PersonalDataKind.IpAddress, "inet", false, "ip-address")]
    [InlineData(PersonalDataKind.IpAddress, "text", true, "hash")]                 // ip-address cannot stay unique
    [InlineData(PersonalDataKind.CardNumber, "text", false, "credit-card")]
    [InlineData(PersonalDataKind.Password, "text", false, "hash")]
    [InlineData(PersonalDataKind.Password, "bytea", false, "hash")]
    [InlineData(PersonalDataKind.Geolocation, "double precision", false, "number-noise")]
    [InlineData(PersonalDataKind.PostalCode, "integer", false, "random")]
    public void Proposal_FitsTheColumnType(PersonalDataKind kind, string type, bool unique, string? expected)
    {
        var proposal = TransformerProposals.For(kind, "public", "t", "c", type, unique);
        Assert.Equal(expected, proposal?.Name);
    }

    [Fact]
    public void Proposal_NothingFits_IsNull()
    {
        // A unique inet column: ip-address cannot promise uniqueness and hash cannot write an inet.
        Assert.Null(TransformerProposals.For(PersonalDataKind.IpAddress, "public", "t", "c", "inet", unique: true));
    }
}
