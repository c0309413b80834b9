namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// Test classes that need MariaDB join this collection: <c>[Collection(MariaDbCollection.Name)]</c> and take a
/// <see cref="MariaDbServer"/> in their constructor. One server serves the whole collection; tests isolate themselves
/// by creating their own database with <see cref="MariaDbServer.CreateDatabaseAsync"/>.
/// The server itself lives in tests/Replica.TestSupport (the S3 tests use it too); xunit finds collection definitions
/// only in the test assembly, so this one stays here.
/// </summary>
[CollectionDefinition(Name)]
public sealed class MariaDbCollection : ICollectionFixture<MariaDbServer>
{
    public const string Name = "mariadb";
}
