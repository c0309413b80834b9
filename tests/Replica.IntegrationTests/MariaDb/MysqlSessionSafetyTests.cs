using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// Real mariadb-dump output (its header, a table's saved character set, a routine's and a trigger's saved sql_mode)
/// passes `replica dump --input`; the same dump with SET NAMES sjis or NO_BACKSLASH_ESCAPES and a string the server would
/// end elsewhere is refused (exit 3) before anything is stored.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlSessionSafetyTests(MariaDbServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task ReplicaDump_MariaDbDumpPasses_SjisOrNoBackslashEscapesInItIsRefused()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE customers (id varchar(10) PRIMARY KEY, note varchar(100), email varchar(100));
            INSERT INTO customers VALUES ('1', 'a\\b', 'real-1@example.com');
            SET sql_mode = 'STRICT_ALL_TABLES';
            CREATE PROCEDURE touch() SELECT 1;
            CREATE TRIGGER customers_ins BEFORE INSERT ON customers FOR EACH ROW SET NEW.note = CONCAT(NEW.note, '');
            """);
        var config = _cli.WriteConfig($$"""
            secret: mysql-session-secret-0123456789
            bridge:
              local:
                path: {{_cli.BridgePath}}
            transformers:
              - table: customers
                columns:
                  email: email
            """);
        var dumped = await ProcessRunner.RunAsync(server.DumpBinary,
            ["--defaults-file=" + server.ClientConfigPath, "--single-transaction", "--default-character-set=utf8mb4", "--routines", "--triggers", source]);
        Assert.Contains("SET NAMES utf8mb4", dumped.Stdout, StringComparison.Ordinal);
        Assert.Contains("SET sql_mode              = @saved_sql_mode", dumped.Stdout, StringComparison.Ordinal);
        var plain = Path.Combine(_cli.WorkingDirectory, "plain.sql");
        await File.WriteAllTextAsync(plain, dumped.Stdout);
        var passes = await _cli.RunAsync("dump", "-c", config, "--input", plain, "--dialect", "MySql", "--name", "plain", "-q");
        Assert.True(passes.ExitCode == 0, passes.Stderr);

        var tail = "\nINSERT INTO `customers` (`id`, `note`, `email`) VALUES ('2', 'x\\', 'real-2@example.com');\n# ', 'z');\n";
        foreach (var (set, reason) in new[]
        {
            ("/*!40101 SET NAMES sjis */;", "a SET of the client character set to sjis"),
            ("/*!40101 SET SQL_MODE='NO_BACKSLASH_ESCAPES' */;", "a SET of sql_mode with NO_BACKSLASH_ESCAPES"),
        })
        {
            var file = Path.Combine(_cli.WorkingDirectory, "crafted.sql");
            await File.WriteAllTextAsync(file, dumped.Stdout + set + tail);
            var refused = await _cli.RunAsync("dump", "-c", config, "--input", file, "--dialect", "MySql", "--name", "crafted", "-q");
            Assert.Equal(3, refused.ExitCode);
            Assert.Contains("refused: " + reason, refused.Stderr, StringComparison.Ordinal);
        }
        var list = await _cli.RunAsync("list", "-c", config);
        Assert.DoesNotContain("crafted", list.Stdout, StringComparison.Ordinal);
    }
}
