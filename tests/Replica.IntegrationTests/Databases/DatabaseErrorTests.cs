using System.Globalization;
using Replica.Catalog;
using Replica.Clients;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>Connection failures: clear, typed, exit code 7, and never the password.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseErrorTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>
    /// The fixture trusts every local connection; this adds a role that must give a password (scram-sha-256), by a
    /// pg_hba.conf line put before the trust lines, and reloads the server's configuration.
    /// </summary>
    async Task<(string Role, string Password)> PasswordRoleAsync()
    {
        var role = "replica_pw_" + Guid.NewGuid().ToString("N")[..8];
        var password = "S3cret-" + Guid.NewGuid().ToString("N");
        await server.ExecuteAsync("postgres", $"CREATE ROLE {role} LOGIN PASSWORD '{password}'");
        var hba = Path.Combine(server.DataDirectory, "pg_hba.conf");
        var lines = await File.ReadAllTextAsync(hba);
        await File.WriteAllTextAsync(hba, $"host all {role} {PostgresServer.Host}/32 scram-sha-256\n" + lines);
        await server.ExecuteAsync("postgres", "SELECT pg_reload_conf()");
        return (role, password);
    }

    string Uri(string role, string password, string db, int? port = null) =>
        $"postgres://{role}:{System.Uri.EscapeDataString(password)}@{PostgresServer.Host}:{(port ?? server.Port).ToString(CultureInfo.InvariantCulture)}/{db}";

    [Fact]
    public async Task ReadAsync_RightAndWrongPassword_WrongOneIsADatabaseErrorWithoutThePassword()
    {
        var db = await server.CreateDatabaseAsync();
        var (role, password) = await PasswordRoleAsync();

        var catalog = await PostgresCatalog.ReadAsync(DatabaseUri.Parse(Uri(role, password, db)), CancellationToken.None);
        Assert.Equal(db, catalog.Database);

        var wrong = password + "-wrong";
        var e = await Assert.ThrowsAsync<DatabaseException>(() => PostgresCatalog.ReadAsync(DatabaseUri.Parse(Uri(role, wrong, db)), CancellationToken.None));
        Assert.Contains("password authentication failed", e.Message);
        Assert.Contains(role, e.Message);
        Assert.DoesNotContain(password, e.ToString());
        Assert.Equal(ReplicaErrorKind.Database, e.Kind);

        var cli = await _cli.RunAsync("schema", "--source", Uri(role, wrong, db));
        Assert.Equal(7, cli.ExitCode);
        Assert.Contains("password authentication failed", cli.Stderr);
        Assert.DoesNotContain(password, cli.Stderr + cli.Stdout);
    }

    [Fact]
    public async Task ReadAsync_NothingListening_IsADatabaseErrorNamingTheServer()
    {
        var port = ServerFixture.FreePort();

        var e = await Assert.ThrowsAsync<DatabaseException>(() =>
            PostgresCatalog.ReadAsync(DatabaseUri.Parse(Uri("someone", "Pa55-unreachable", "db", port)), CancellationToken.None));

        Assert.Contains($"database db on {PostgresServer.Host}:{port}", e.Message);
        Assert.DoesNotContain("Pa55-unreachable", e.ToString());
    }
}
