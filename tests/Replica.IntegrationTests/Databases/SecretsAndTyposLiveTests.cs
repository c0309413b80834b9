using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// What a dump of a live PostgreSQL source in parts (--jobs) or as a live subset says when the config is wrong: no value
/// of the source (personal data) and no password in its output, exit 2 or 7, and nothing stored.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SecretsAndTyposLiveTests(PostgresServer server) : IDisposable
{
    const string RealEmail = "jane.real@corp.example";
    const string RealPhone = "+33 6 12 34 56 78";

    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    async Task<string> CreateSourceAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.PsqlAsync(db, $"""
            CREATE TABLE public.customers (id integer PRIMARY KEY, email text, phone text);
            INSERT INTO public.customers VALUES (1, '{RealEmail}', '{RealPhone}');
            CREATE TABLE public.tickets (id integer PRIMARY KEY, customer_email text, body text);
            INSERT INTO public.tickets VALUES (1, '{RealEmail}', 'hello');
            CREATE TABLE public."Staff" (id integer PRIMARY KEY, "Email" text);
            INSERT INTO public."Staff" VALUES (1, '{RealEmail}');
            """);
        return db;
    }

    string Config(string db, string transformers, string subset = "") => _cli.WriteConfig($"""
        secret: ${"{"}REPLICA_SECRET{"}"}
        source:
          connection_uri: '{server.PasswordUri(db)}'
        bridge:
          local:
            path: {_cli.BridgePath}
        transformers:
        {transformers}
        {subset}
        """, $"config-{Guid.NewGuid():N}.yaml");

    const string Subset = """
        subset:
          roots: [{ table: public.customers, where: "id = 1" }]
        """;

    async Task AssertRefusedAsync(string config, ProcessOutput dump, int exitCode)
    {
        Assert.True(dump.ExitCode == exitCode, dump.Stderr);
        Assert.DoesNotContain(RealEmail, dump.Stderr + dump.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(RealPhone, dump.Stderr + dump.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(PostgresServer.Password, dump.Stderr + dump.Stdout, StringComparison.Ordinal);
        Assert.Empty(await _cli.ListedNamesAsync(config));
        _cli.AssertNoDumpFolder();
    }

    const string MaskedTickets = """
          - table: public.tickets
            columns:
              customer_email: email
        """;

    [Theory]
    [InlineData("2", false, "  - table: public.customers\n    columns:\n      emial: email\n      phone: phone-number\n",
        "the rule for column emial of table public.customers matches no column of public.customers (did you mean 'email'?)")]
    [InlineData("2", false, "  - table: public.custmers\n    columns:\n      email: email\n",
        "the rule for table public.custmers matches no table of this dump (did you mean public.customers?)")]
    [InlineData("1", true, "  - table: public.customers\n    columns:\n      emial: email\n      phone: phone-number\n",
        "the rule for column emial of table public.customers matches no column of public.customers (did you mean 'email'?)")]
    [InlineData("2", true, "  - table: public.custmers\n    columns:\n      email: email\n",
        "the rule for table public.custmers matches no table of this dump (did you mean public.customers?)")]
    [InlineData("2", false, "  - table: public.customers\n    columns:\n      email: email\n      phone: phone-number\n  - table: public.Staff\n    columns:\n      Email: email\n",
        "Staff")]
    [InlineData("2", true, "  - table: public.customers\n    columns:\n      email: email\n      phone: phone-number\n  - table: public.\"Staff\"\n    columns:\n      Email: email\n",
        "the rule's column Email of table public.\"Staff\" is a bare name, which folds to lower case")]
    public async Task Dump_RuleNamingNoColumnOrTableInPartsOrSubset_ExitsWith2AndStoresNothing(string jobs, bool subset, string rules, string message)
    {
        var db = await CreateSourceAsync();
        var config = Config(db, rules + MaskedTickets, subset ? Subset : "");

        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", jobs, "--name", "typo");

        await AssertRefusedAsync(config, dump, 2);
        Assert.Contains(message, dump.Stderr, StringComparison.Ordinal);
    }

    const string AllMasked = """
          - table: public.customers
            columns:
              email: email
              phone: phone-number
          - table: public.tickets
            columns:
              customer_email: email
          - table: public."Staff"
            columns:
              '"Email"': email
        """;

    // customers.id where customers.email was meant.
    const string WrongVirtualKey = """
        subset:
          roots: [{ table: public.tickets, where: "id = 1" }]
          virtual_foreign_keys:
            - table: public.tickets
              columns: [customer_email]
              references: { table: public.customers, columns: [id] }
        """;

    [Theory]
    // A virtual foreign key naming the wrong column (customers.id for customers.email): the tickets' emails were cast
    // to integer, and the server's "invalid input syntax for type integer" quoted one.
    [InlineData("1", WrongVirtualKey)]
    [InlineData("2", WrongVirtualKey)]
    // A root's where casting a column whose values do not all cast.
    [InlineData("1", """
        subset:
          roots: [{ table: public.customers, where: "phone::bigint > 0" }]
        """)]
    public async Task Dump_LiveSubsetWhoseQueryCannotCastAValue_ExitsWithoutTheValue(string jobs, string subset)
    {
        var db = await CreateSourceAsync();
        var config = Config(db, AllMasked, subset);

        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", jobs, "--name", "cast");

        await AssertRefusedAsync(config, dump, 7);
        Assert.Contains("computing the subset failed: 22P02", dump.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", "?password=")]
    [InlineData("2", "?password=")]
    [InlineData("2", "")]
    public async Task Dump_LiveSubsetInParts_ShowsNeitherThePasswordNorARealValueInOutputManifestOrIndex(string jobs, string passwordForm)
    {
        var db = await CreateSourceAsync();
        var password = Uri.EscapeDataString(PostgresServer.Password);
        var uri = passwordForm.Length == 0
            ? server.PasswordUri(db)
            : $"postgres://{PostgresServer.PasswordUser}@{PostgresServer.Host}:{server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}/{db}{passwordForm}{password}";
        var config = _cli.WriteConfig($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            source:
              connection_uri: '{uri}'
            bridge:
              local:
                path: {_cli.BridgePath}
              compression: {"{"} algorithm: none {"}"}
            transformers:
            {AllMasked}
            subset:
              roots: [{"{"} table: public.tickets, where: "id = 1" {"}"}]
              virtual_foreign_keys:
                - table: public.tickets
                  columns: [customer_email]
                  references: {"{"} table: public.customers, columns: [email] {"}"}
            """, $"config-{Guid.NewGuid():N}.yaml");

        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", jobs, "--name", "parts", "--json");

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var list = await _cli.RunAsync("list", "-c", config, "--json");
        foreach (var text in new[] { dump.Stdout, dump.Stderr, list.Stdout, list.Stderr }
            .Concat(Directory.EnumerateFiles(_cli.BridgePath, "*", SearchOption.AllDirectories).Select(File.ReadAllText)))
        {
            Assert.DoesNotContain(PostgresServer.Password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(RealEmail, text, StringComparison.Ordinal);
            Assert.DoesNotContain(RealPhone, text, StringComparison.Ordinal);
        }
        Assert.Contains("\"kept\"", dump.Stdout, StringComparison.Ordinal);
    }
}
