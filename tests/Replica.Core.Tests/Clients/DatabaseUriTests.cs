using Replica.Clients;
using Replica.Config;
using Replica.Sources;

namespace Replica.Core.Tests.Clients;

public sealed class DatabaseUriTests
{
    [Fact]
    public void Parse_FullPostgresUri_SplitsEveryPart()
    {
        var uri = DatabaseUri.Parse("postgresql://app%40corp:p%40ss%3Aw0rd@db.example.com:6543/shop%20prod?sslmode=require&application_name=replica");

        Assert.Equal(DatabaseKind.PostgreSql, uri.Kind);
        Assert.Equal("app@corp", uri.User);
        Assert.Equal("p@ss:w0rd", uri.Password);
        Assert.Equal("db.example.com", uri.Host);
        Assert.Equal(6543, uri.Port);
        Assert.Equal("shop prod", uri.Database);
        Assert.Equal("require", uri.Parameters["sslmode"]);
    }

    [Fact]
    public void ToString_Always_LeavesThePasswordOut()
    {
        var uri = DatabaseUri.Parse("postgres://u:hunter2@h:5432/db?sslmode=verify-full&password=hunter3");

        Assert.Equal("postgres://u@h:5432/db?sslmode=verify-full", uri.ToString());
        Assert.Equal("hunter3", uri.Password);
        Assert.DoesNotContain("hunter", uri.Describe());
    }

    [Fact]
    public void ToString_UnknownParameter_HidesItsValue()
    {
        var uri = DatabaseUri.Parse("mysql://u@h/db?token=hunter2&ssl-ca=/etc/ca.pem");

        Assert.Equal("mysql://u@h/db?token=***&ssl-ca=%2Fetc%2Fca.pem", uri.ToString());
    }

    [Theory]
    [InlineData("postgres://u@h/db?sslkey=hunter2%00", "parameter 'sslkey'")]
    [InlineData("postgres://u@h/db?options=%00hunter2", "parameter 'options'")]
    [InlineData("postgres://u@/db?host=%00hunter2", "parameter 'host'")]
    [InlineData("postgres://u:hunter2%00@h/db", "password")]
    [InlineData("postgres://u@h/hunter2%00", "database name")]
    [InlineData("postgres://u@h/db?%00=hunter2", "parameter name")]
    public void Parse_NulCharacter_IsAConfigErrorWithoutTheValue(string text, string part)
    {
        var ex = Assert.Throws<ConfigException>(() => DatabaseUri.Parse(text));

        Assert.Contains(part, ex.Message);
        Assert.DoesNotContain("hunter2", ex.Message);
    }

    [Fact]
    public void Parse_ParameterWithoutNameOrValue_DoesNotRepeatIt()
    {
        var ex = Assert.Throws<ConfigException>(() => DatabaseUri.Parse("postgres://u@h/db?hunter2:secret"));

        Assert.DoesNotContain("hunter2", ex.Message);
        Assert.Contains("sslmode", Assert.Throws<ConfigException>(() => DatabaseUri.Parse("postgres://u@h/db?sslmode")).Message);
    }

    [Fact]
    public void LibpqEnvironment_CarriesConnectionAndPassword_OnlyWhatTheUriNames()
    {
        var env = DatabaseUri.Parse("postgres://u:pw@h/db?sslmode=require&service=prod").LibpqEnvironment();

        Assert.Equal(new Dictionary<string, string>
        {
            ["PGHOST"] = "h", ["PGUSER"] = "u", ["PGPASSWORD"] = "pw", ["PGDATABASE"] = "db", ["PGSSLMODE"] = "require", ["PGSERVICE"] = "prod",
        }, env);
        Assert.Empty(DatabaseUri.Parse("postgres://").LibpqEnvironment());
    }

    [Fact]
    public void Parse_SocketDirectoryAndIpv6_AreHosts()
    {
        Assert.Equal("/var/run/postgresql", DatabaseUri.Parse("postgres:///shop?host=/var/run/postgresql").Host);
        var v6 = DatabaseUri.Parse("postgres://[::1]:5433/shop");
        Assert.Equal("::1", v6.Host);
        Assert.Equal(5433, v6.Port);
        Assert.Equal("postgres://[::1]:5433/shop", v6.ToString());
    }

    [Theory]
    [InlineData("mongodb://u:secret-pw@h/db", "scheme is not supported")]
    [InlineData("postgres://u:secret-pw@h:99999/db", "port is not a number")]
    [InlineData("postgres://u:secret-pw@h/db?frobnicate=1", "parameter 'frobnicate' is not supported")]
    [InlineData("postgres://u:secret-pw@h1,h2/db", "several hosts")]
    public void Parse_BadUri_SaysWhatWithoutThePassword(string text, string expected)
    {
        var e = Assert.ThrowsAny<ReplicaException>(() => DatabaseUri.Parse(text).LibpqEnvironment());

        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("secret-pw", e.Message);
    }

    /// <summary>Passwords as password managers and `openssl rand -base64` make them, written into the URI unencoded.</summary>
    public static TheoryData<string> UnencodedPasswords =>
    [
        "Sup3rS/ecretPw", "5432/ecretPw", "55432?MySecretTail=9", "p@ss/w0rd", "a/b@c", "pa#ss:wo@rd", "x:y/z?w#v@u",
        "50%Qf/Xw", "100%", "Qz-wx@", "@Xk9q", "//??##::@@", "Zm9v/YmFy+YmF6=", "Zx9?Kq=7", ":Kx:Qz", "9/8?7=6&5@4#3:2",
        "[::1]:5432", "q@h:99/db",
    ];

    /// <summary>
    /// URIs around the password, with what they must read as. The password in a reading that is not these must not show in a message.
    /// </summary>
    static readonly (string Template, string? Host, int? Port, string? Database)[] s_uriShapes =
    [
        ("postgres://reader:{0}@127.0.0.1:6543/shop", "127.0.0.1", 6543, "shop"),
        // The '@' in a parameter is encoded: unencoded, a password ending at it reads too (Parse_UriThatReadsTwoWays_IsRefused).
        ("postgresql://reader:{0}@db.example.com/shop?sslmode=require&application_name=me%40corp", "db.example.com", null, "shop"),
        ("postgres://reader:{0}@[::1]:6543/shop", "::1", 6543, "shop"),
        ("postgres://reader:{0}@127.0.0.1", "127.0.0.1", null, null),
        ("postgres://reader:{0}@/shop?host=/var/run/postgresql", "/var/run/postgresql", null, "shop"),
        ("mysql://root:{0}@127.0.0.1:3307/shop", "127.0.0.1", 3307, "shop"),
        ("mariadb://root:{0}@db.example.com/shop?ssl-ca=/etc/ca.pem", "db.example.com", null, "shop"),
    ];

    [Theory]
    [MemberData(nameof(UnencodedPasswords))]
    public void Parse_UnencodedPassword_ReadsItWholeOrNamesNoPieceOfIt(string password)
    {
        foreach (var (template, host, port, database) in s_uriShapes)
        {
            var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, password);
            var rest = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, "");
            DatabaseUri uri;
            try
            {
                uri = DatabaseUri.Parse(text);
            }
            catch (ConfigException ex)
            {
                AssertNoPieceOf(password, ex.Message, rest);
                continue;
            }
            // '%' followed by two hex digits is an escape by definition; none of these passwords has one.
            Assert.Equal(password, uri.Password);
            Assert.Equal(host, uri.Host);
            Assert.Equal(port, uri.Port);
            Assert.Equal(database, uri.Database);
            AssertNoPieceOf(password, uri.ToString() + " " + uri.Describe(), rest);
        }
    }

    [Theory]
    [MemberData(nameof(UnencodedPasswords))]
    public void Parse_PercentEncodedPassword_ReadsItWhole(string password)
    {
        foreach (var (template, host, port, database) in s_uriShapes)
        {
            var uri = DatabaseUri.Parse(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, Uri.EscapeDataString(password)));

            Assert.Equal(password, uri.Password);
            Assert.Equal((host, port, database), (uri.Host, uri.Port, uri.Database));
        }
    }

    [Theory]
    [InlineData("postgres://reader:{0}@127.0.0.1:99999/shop", "port is not a number")]
    [InlineData("postgres://reader:{0}@127.0.0.1:6543/shop?frobnicate=1", "parameter 'frobnicate' is not supported")]
    [InlineData("mysql://root:{0}@127.0.0.1/shop?token=1", "parameter 'token' is not supported")]
    [InlineData("postgres://reader:{0}@h1,h2/shop", "several hosts")]
    [InlineData("postgres://reader:{0}@127.0.0.1/shop?sslmode", "parameter 'sslmode' has no value")]
    public void Parse_BadUriWithUnencodedPassword_SaysWhatWithoutAPieceOfIt(string template, string expected)
    {
        foreach (var password in UnencodedPasswords)
        {
            var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, password);
            var ex = Assert.ThrowsAny<ReplicaException>(() =>
            {
                var uri = DatabaseUri.Parse(text);
                if (uri.Kind == DatabaseKind.MySql)
                {
                    using var file = MysqlOptionFile.Create(uri);
                }
                else
                {
                    uri.LibpqEnvironment();
                }
            });

            AssertNoPieceOf(password, ex.Message, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, ""));
            if (!ex.Message.Contains("cannot be told apart", StringComparison.Ordinal) && !ex.Message.Contains("percent-encode the password", StringComparison.Ordinal)
                && !ex.Message.Contains("reads two ways", StringComparison.Ordinal))
            {
                Assert.Contains(expected, ex.Message);
            }
        }
    }

    [Theory]
    [InlineData("postgres://h/db?application_name=a@b", "h", null, "db", null, null)]
    [InlineData("postgres://app@corp:pw@db.example.com/db", "db.example.com", null, "db", "app@corp", "pw")]
    [InlineData("postgres://u@h/a/b", "h", null, "a/b", "u", null)]
    public void Parse_AtOutsideThePassword_KeepsLibpqsReading(string text, string host, int? port, string database, string? user, string? password)
    {
        var uri = DatabaseUri.Parse(text);

        Assert.Equal((host, port, database, user, password), (uri.Host, uri.Port, uri.Database, uri.User, uri.Password));
    }

    /// <summary>
    /// URIs where libpq's reading (user information up to the first '@' before any '/') is well formed and a later '@'
    /// could end a password too: each reading sends the password to another host, so neither is guessed.
    /// </summary>
    [Theory]
    [InlineData("postgres://app:S3cret@db.internal:5432/shop@archive", "S3cret")]
    [InlineData("postgresql://app:S3cret@db.internal/shop@archive?sslmode=require", "S3cret")]
    [InlineData("mysql://app:S3cret@db.internal:3306/shop@archive", "S3cret")]
    [InlineData("mariadb://app:S3cret@db.internal/shop@archive", "S3cret")]
    [InlineData("postgres://u:Pw0rd@evil.example?application_name=x@prod/db", "Pw0rd")]
    [InlineData("postgres://u:Pw0rd@db.example.com/shop?application_name=me@corp", "Pw0rd")]
    [InlineData("mysql://u:Pw0rd@evil.example?ssl-ca=x@prod/db", "Pw0rd")]
    [InlineData("postgres://h:5432/db?user=me@corp", "5432/db?user=me")]
    // The later reading is not well formed (port 99999), but the password it holds is: libpq's would send 'q' to h.
    [InlineData("postgres://reader:q@h:99/db@127.0.0.1:99999/shop", "q@h:99/db")]
    public void Parse_UriThatReadsTwoWays_IsRefused(string text, string password)
    {
        var ex = Assert.Throws<ConfigException>(() => DatabaseUri.Parse(text));

        Assert.Contains("reads two ways", ex.Message);
        Assert.Contains("%40", ex.Message);
        AssertNoPieceOf(password, ex.Message, "");
        Assert.DoesNotContain("archive", ex.Message);
        Assert.DoesNotContain("prod", ex.Message);
        Assert.DoesNotContain("evil", ex.Message);
    }

    [Theory]
    [InlineData("postgres://app:S3cret@db.internal:5432/shop%40archive", "S3cret", "db.internal", "shop@archive")]
    [InlineData("postgres://app:S3cret%40db.internal:5432%2Fshop@archive", "S3cret@db.internal:5432/shop", "archive", null)]
    [InlineData("postgres://app@db.internal/shop@archive", null, "db.internal", "shop@archive")]
    [InlineData("mysql://app:S3cret@db.internal:3306/shop%40archive", "S3cret", "db.internal", "shop@archive")]
    public void Parse_AtEncodedOrNoPasswordBeforeIt_ReadsOneWay(string text, string? password, string host, string? database)
    {
        var uri = DatabaseUri.Parse(text);

        Assert.Equal((password, host, database), (uri.Password, uri.Host, uri.Database));
    }

    /// <summary>
    /// A password= parameter with an unencoded '&amp;' reads as two parameters: no message names the second (or any after a
    /// value that is not shown), as it may be the password's tail.
    /// </summary>
    [Theory]
    [InlineData("postgres://h/db?password=Secr3t&abcdef", "abcdef")]
    [InlineData("postgres://h/db?password=Secr3t&abcdef=1", "abcdef")]
    [InlineData("postgres://h/db?password=Secr3t&sslmode", "sslmode")]
    [InlineData("postgres://h/db?password=Secr3t&abcdef=%00", "abcdef")]
    [InlineData("mysql://h/db?password=Secr3t&abcdef=1", "abcdef")]
    public void Parse_ParameterAfterAPassword_IsNotNamed(string text, string piece)
    {
        var ex = Assert.ThrowsAny<ReplicaException>(() =>
        {
            var uri = DatabaseUri.Parse(text);
            if (uri.Kind == DatabaseKind.MySql)
            {
                using var file = MysqlOptionFile.Create(uri);
            }
            else
            {
                uri.LibpqEnvironment();
            }
        });

        Assert.DoesNotContain(piece, ex.Message);
        Assert.Contains("parameter number", ex.Message);
    }

    [Fact]
    public void NameOfParameter_BeforeAnyHiddenValue_NamesIt()
    {
        var uri = DatabaseUri.Parse("postgres://h/db?sslmode=require&frobnicate=1&password=Secr3t&abcdef=1");

        Assert.Equal("parameter 'frobnicate'", uri.NameOfParameter("frobnicate"));
        Assert.StartsWith("parameter number 4 ", uri.NameOfParameter("abcdef"));
        // An unknown parameter's value is not shown either (ToString): what follows it may be a piece of that value.
        var token = DatabaseUri.Parse("postgres://h/db?token=Secr3t&abcdef=1&sslpassword=x&ghijkl=1");
        Assert.Equal("parameter 'token'", token.NameOfParameter("token"));
        Assert.StartsWith("parameter number 2 ", token.NameOfParameter("abcdef"));
        Assert.StartsWith("parameter number 4 ", token.NameOfParameter("ghijkl"));
    }

    /// <summary>No run of 3 or more characters of <paramref name="password"/> shows in <paramref name="message"/> that the URI does not hold elsewhere.</summary>
    internal static void AssertNoPieceOf(string password, string message, string restOfUri)
    {
        for (var length = 3; length <= password.Length; length++)
        {
            for (var start = 0; start + length <= password.Length; start++)
            {
                var piece = password.Substring(start, length);
                Assert.False(message.Contains(piece, StringComparison.Ordinal) && !restOfUri.Contains(piece, StringComparison.Ordinal),
                    $"'{piece}' of the password shows in: {message}");
            }
        }
    }

    [Fact]
    public void Parse_MysqlSchemes_AreMysql()
    {
        Assert.Equal(DatabaseKind.MySql, DatabaseUri.Parse("mysql://root:pw@127.0.0.1:3306/shop").Kind);
        Assert.Equal(DatabaseKind.MySql, DatabaseUri.Parse("mariadb://root@127.0.0.1/shop").Kind);
    }

    [Fact]
    public void PgDumpArguments_MapSourceOptions_AndHoldNoConnectionDetails()
    {
        var uri = DatabaseUri.Parse("postgres://admin:s3cret@db:5432/shop");
        var source = new PgDumpSource(uri, new SourceOptions
        {
            Tables = ["public.users", "sales.*"],
            ExcludeTables = ["public.big"],
            ExcludeTableData = ["public.logs"],
            Schemas = ["public"],
            ExcludeSchemas = ["tmp"],
            DataFormat = DataFormat.Inserts,
        }, PostgresTools.Find(ChildEnvironment.WithoutConfig));

        var arguments = source.Arguments();

        Assert.Equal(["--format=plain", "--no-password", "--encoding=UTF8", "--column-inserts", "--table=public.users", "--table=sales.*",
            "--exclude-table=public.big", "--exclude-table-data=public.logs", "--schema=public", "--exclude-schema=tmp"], arguments);
        Assert.DoesNotContain(arguments, a => a.Contains("s3cret", StringComparison.Ordinal) || a.Contains("db", StringComparison.Ordinal) && a.Contains("5432", StringComparison.Ordinal));
        Assert.DoesNotContain("s3cret", source.Description);
    }
}
