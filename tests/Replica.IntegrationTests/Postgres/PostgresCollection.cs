namespace Replica.IntegrationTests.Postgres;

/// <summary>
/// Test classes that need PostgreSQL join this collection: <c>[Collection(PostgresCollection.Name)]</c> and take a
/// <see cref="PostgresServer"/> in their constructor. One server serves the whole collection; tests isolate
/// themselves by creating their own database with <see cref="PostgresServer.CreateDatabaseAsync"/>.
/// The server itself lives in tests/Replica.TestSupport (the S3 tests use it too); xunit finds collection definitions
/// only in the test assembly, so this one stays here. Tests that need a hot standby of that server also take a
/// <see cref="PostgresStandbyFixture"/>, which starts it on first use.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>, ICollectionFixture<PostgresStandbyFixture>
{
    public const string Name = "postgres";
}
