using Replica.Clients;

namespace Replica.Core.Tests.Clients;

/// <summary>Which psql has \restrict (the restore's sessions run restricted with it), from psql --version.</summary>
public class PsqlRestrictTests
{
    [Theory]
    [InlineData("psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", true)]
    [InlineData("psql (PostgreSQL) 15.14", true)]
    [InlineData("psql (PostgreSQL) 15.13", false)]
    [InlineData("psql (PostgreSQL) 16.10", true)]
    [InlineData("psql (PostgreSQL) 16.9", false)]
    [InlineData("psql (PostgreSQL) 17.6", true)]
    [InlineData("psql (PostgreSQL) 17.5", false)]
    [InlineData("psql (PostgreSQL) 14.19", true)]
    [InlineData("psql (PostgreSQL) 13.21", false)]
    [InlineData("psql (PostgreSQL) 12.22", false)]
    [InlineData("psql (PostgreSQL) 18.0", true)]
    [InlineData("psql (PostgreSQL) 18beta1", false)]
    [InlineData("psql (PostgreSQL) 18devel", false)]
    [InlineData("psql (PostgreSQL) 19devel", true)]
    [InlineData("not psql at all", false)]
    public void HasRestrict_ByVersion(string version, bool restricts) => Assert.Equal(restricts, PostgresTools.HasRestrict(version));
}
