using System.Globalization;
using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// mariadb-dump writes the values of generated columns (STORED, VIRTUAL, PERSISTENT), which the source computed from
/// the real data: with a masked column beside them, no path may store them (live source, --input of mariadb-dump's
/// output in its extended and complete-insert forms, a subset), and the restore computes them again from the masked value.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlGeneratedColumnTests(MariaDbServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    const string Schema = """
        CREATE TABLE gen (id int PRIMARY KEY, email varchar(200),
            up varchar(200) AS (upper(email)) STORED,
            dom varchar(200) GENERATED ALWAYS AS (substring_index(email, '@', 1)) VIRTUAL,
            p varchar(210) AS (concat(email, '!')) PERSISTENT) ENGINE=InnoDB;
        CREATE TABLE orders (id int PRIMARY KEY, gen_id int NOT NULL, CONSTRAINT orders_gen FOREIGN KEY (gen_id) REFERENCES gen (id)) ENGINE=InnoDB;
        INSERT INTO gen (id, email) SELECT seq, CONCAT('real-', seq, '@example.com') FROM seq_1_to_30;
        INSERT INTO orders SELECT seq, 1 + seq % 30 FROM seq_1_to_60;
        """;

    string Config(string source, string destination, string name, bool subset = false) => _cli.WriteConfig(name: name, body: $$"""
        secret: mysql-generated-secret-0123456789
        source:
          connection_uri: '{{server.ConnectionUri(source)}}'
        destination:
          connection_uri: '{{server.ConnectionUri(destination)}}'
          allow_privileged_role: true
        bridge:
          local:
            path: {{_cli.BridgePath}}
        transformers:
          - table: gen
            columns:
              email: email
        {{(subset ? "subset: { roots: [{ table: orders, percent: 100 }], unreached: full }" : "")}}
        """);

    [Fact]
    public async Task ReplicaDump_GeneratedColumnsOfAMaskedColumn_AreComputedAgainFromTheMaskedValueOnEveryPath()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, Schema);
        var extended = Path.Combine(_cli.WorkingDirectory, "extended.sql");
        var complete = Path.Combine(_cli.WorkingDirectory, "complete.sql");
        var dumped = await ProcessRunner.RunAsync(server.DumpBinary, ["--defaults-file=" + server.ClientConfigPath, "--single-transaction", source]);
        Assert.Contains("'REAL-1@EXAMPLE.COM'", dumped.Stdout, StringComparison.Ordinal); // mariadb-dump writes generated values
        await File.WriteAllTextAsync(extended, dumped.Stdout);
        await File.WriteAllTextAsync(complete, (await ProcessRunner.RunAsync(server.DumpBinary,
            ["--defaults-file=" + server.ClientConfigPath, "--single-transaction", "--complete-insert", "--skip-extended-insert", source])).Stdout);

        foreach (var (name, args, subset) in new (string, string[], bool)[]
        {
            ("live", [], false),
            ("extended", ["--input", extended, "--dialect", "MySql"], false),
            ("complete", ["--input", complete, "--dialect", "MySql"], false),
            ("subset", [], true),
        })
        {
            var target = "replica_gen_" + Guid.NewGuid().ToString("N")[..8];
            var config = Config(source, target, name + ".yaml", subset);
            var dump = await _cli.RunAsync(["dump", "-c", config, "--name", name, .. args]);
            Assert.True(dump.ExitCode == 0, name + ": " + dump.Stderr);
            var output = Path.Combine(_cli.WorkingDirectory, name + ".out.sql");
            var toFile = await _cli.RunAsync("restore", "-c", config, "--name", name, "--output", output, "-q");
            Assert.True(toFile.ExitCode == 0, name + ": " + toFile.Stderr);
            var text = await File.ReadAllTextAsync(output);
            Assert.DoesNotContain("real-", text, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(",DEFAULT,DEFAULT,DEFAULT)", text, StringComparison.Ordinal);

            var restore = await _cli.RunAsync("restore", "-c", config, "--name", name);
            Assert.True(restore.ExitCode == 0, name + ": " + restore.Stderr);
            Assert.Equal(30, await CountAsync(target, "SELECT count(*) FROM gen"));
            Assert.Equal(0, await CountAsync(target, "SELECT count(*) FROM gen WHERE concat(email, up, dom, p) LIKE '%real%'"));
            Assert.Equal(30, await CountAsync(target, "SELECT count(*) FROM gen WHERE up = upper(email) AND dom = substring_index(email, '@', 1) AND p = concat(email, '!')"));
            Assert.Equal(0, await CountAsync(target, $"SELECT count(*) FROM gen t JOIN `{source}`.gen s ON s.id = t.id AND s.email = t.email"));
        }

        // leakcheck reads the stored DEFAULTs as the dump has them: nothing unchanged.
        var check = await _cli.RunAsync("leakcheck", "-c", Path.Combine(_cli.WorkingDirectory, "live.yaml"), "--name", "live");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Contains("no leaks", check.Stdout, StringComparison.Ordinal);
    }

    async Task<long> CountAsync(string db, string sql) => long.Parse((await server.ScalarAsync(db, sql))!, CultureInfo.InvariantCulture);
}
