using Npgsql;
using Replica.Catalog;
using Replica.Clients;

namespace Replica.Core.Tests.Catalog;

public sealed class PostgresConnectionStringTests
{
    static NpgsqlConnectionStringBuilder Build(string uri, params (string Name, string Value)[] env)
    {
        var map = env.ToDictionary(e => e.Name, e => e.Value);
        return new NpgsqlConnectionStringBuilder(PostgresCatalog.ConnectionString(DatabaseUri.Parse(uri), name => map.GetValueOrDefault(name)));
    }

    [Fact]
    public void ConnectionString_FullUri_MapsEveryPart()
    {
        var b = Build("postgres://alice:p%40ss@db.example.com:6543/shop?sslmode=verify-full&application_name=nightly&connect_timeout=7");

        Assert.Equal(("db.example.com", 6543, "alice", "p@ss", "shop"), (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal((SslMode.VerifyFull, "nightly", 7), (b.SslMode, b.ApplicationName, b.Timeout));
    }

    [Fact]
    public void ConnectionString_PartsLeftOut_ComeFromTheLibpqEnvironment()
    {
        var b = Build("postgres://", ("PGHOST", "envhost"), ("PGPORT", "5444"), ("PGUSER", "bob"), ("PGDATABASE", "envdb"),
            ("PGPASSWORD", "envpw"), ("PGSSLMODE", "require"));

        Assert.Equal(("envhost", 5444, "bob", "envpw", "envdb", SslMode.Require), (b.Host, b.Port, b.Username, b.Password, b.Database, b.SslMode));
        Assert.Equal("urlhost", Build("postgres://urlhost", ("PGHOST", "envhost")).Host); // the URI wins
    }

    [Fact]
    public void ConnectionString_UnsupportedParameter_IsAConfigError()
    {
        var e = Assert.Throws<ConfigException>(() => Build("postgres://h/db?service=prod"));
        Assert.Contains("'service' is not supported", e.Message);
        Assert.Throws<ConfigException>(() => Build("postgres://h/db?sslmode=sometimes"));
    }

    /// <summary>A dump's sessions wait as long as pg_dump (no 30 s command timeout) and notice a dead server by TCP keepalives.</summary>
    [Fact]
    public void LongRunning_DumpSession_HasNoCommandTimeoutAndTcpKeepalives()
    {
        var plain = Build("postgres://h/db");
        var b = new NpgsqlConnectionStringBuilder(PostgresCatalog.LongRunning(plain.ConnectionString));

        Assert.Equal(30, plain.CommandTimeout);
        Assert.Equal((0, true, 60, 10), (b.CommandTimeout, b.TcpKeepAlive, b.TcpKeepAliveTime, b.TcpKeepAliveInterval));
        Assert.Equal((plain.Host, plain.Database), (b.Host, b.Database));
    }
}
