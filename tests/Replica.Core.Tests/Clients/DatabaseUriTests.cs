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
    [InlineData("mongodb://u:secret-pw@h/db", "'mongodb://' databases are not supported")]
    [InlineData("postgres://u:secret-pw@h:99999/db", "port '99999'")]
    [InlineData("postgres://u:secret-pw@h/db?frobnicate=1", "parameter 'frobnicate' is not supported")]
    [InlineData("postgres://u:secret-pw@h1,h2/db", "several hosts")]
    public void Parse_BadUri_SaysWhatWithoutThePassword(string text, string expected)
    {
        var e = Assert.ThrowsAny<ReplicaException>(() => DatabaseUri.Parse(text).LibpqEnvironment());

        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("secret-pw", e.Message);
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
        }, PostgresTools.Find());

        var arguments = source.Arguments();

        Assert.Equal(["--format=plain", "--no-password", "--encoding=UTF8", "--column-inserts", "--table=public.users", "--table=sales.*",
            "--exclude-table=public.big", "--exclude-table-data=public.logs", "--schema=public", "--exclude-schema=tmp"], arguments);
        Assert.DoesNotContain(arguments, a => a.Contains("s3cret", StringComparison.Ordinal) || a.Contains("db", StringComparison.Ordinal) && a.Contains("5432", StringComparison.Ordinal));
        Assert.DoesNotContain("s3cret", source.Description);
    }
}
