using System.Text.Json;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// sanitize: `replica dump` restores the masked stream into a scratch database, runs the config's statements there and
/// stores pg_dump of the result; the scratch database is gone afterwards, whatever happened.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SanitizeTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static readonly Dictionary<string, string?> s_environment = new() { ["SAN_CITY"] = "Sanitized City", ["SAN_COUNTRY"] = "GB" };

    readonly string _scratch = "replica_scratch_" + Guid.NewGuid().ToString("N")[..8];

    async Task<string> CreateShopAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.PsqlAsync(db, await File.ReadAllTextAsync(TestPaths.Example("shop.sql")));
        return db;
    }

    /// <summary>
    /// The quickstart's rules, with a live source (or none, for --input), a destination and these sanitize steps; the
    /// scratch database is the server's superuser's (sanitize.allow_privileged_role).
    /// </summary>
    string Config(string? source, string destination, params string[] steps) =>
        _cli.WriteConfig(
            "secret: ${REPLICA_SECRET}\n"
            + (source is null ? "" : $"source:\n  connection_uri: '{server.PasswordUri(source)}'\n")
            + $"destination:\n  connection_uri: '{server.PasswordUri(destination)}'\n  allow_privileged_role: true\n"
            + $"sanitize:\n  scratch_uri: '{server.PasswordUri(_scratch)}'\n  allow_privileged_role: true\n  statements:\n"
            + string.Concat(steps.Select(step => $"    - {step}\n"))
            + $"bridge:\n  local:\n    path: {_cli.BridgePath}\n"
            + Rules());

    /// <summary>The quickstart's transformers section.</summary>
    static string Rules()
    {
        var text = File.ReadAllText(TestPaths.Example("replica.yaml"));
        return text[text.IndexOf("transformers:", StringComparison.Ordinal)..];
    }

    void WriteDeleteCustomersFile() => File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "delete-customers.sql"), """
        -- customers of one country go, with everything that refers to them
        DELETE FROM public.payments WHERE order_id IN
            (SELECT o.id FROM public.orders o JOIN public.customers c ON c.id = o.customer_id WHERE c.country = '${SAN_COUNTRY}');
        DELETE FROM public.orders WHERE customer_id IN (SELECT id FROM public.customers WHERE country = '${SAN_COUNTRY}');
        DELETE FROM public.support_tickets WHERE customer_id IN (SELECT id FROM public.customers WHERE country = '${SAN_COUNTRY}');
        DELETE FROM public.customers WHERE country = '${SAN_COUNTRY}'
        """);

    async Task<bool> ScratchExistsAsync() =>
        (await server.QueryAsync("postgres", $"SELECT count(*) FROM pg_database WHERE datname = '{_scratch}'"))[0][0] == "1";

    async Task<List<JsonElement>> ListAsync(string config)
    {
        var result = await _cli.RunAsync("list", "-c", config, "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray()];
    }

    async Task<string> Scalar(string db, string sql) => (await server.QueryAsync(db, sql))[0][0] ?? "NULL";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dump_UpdateAndDeleteWithVariables_AreInTheStoredDumpAndScratchIsDropped(bool input)
    {
        var source = await CreateShopAsync();
        var destination = "replica_dest_" + Guid.NewGuid().ToString("N")[..8];
        WriteDeleteCustomersFile();
        var config = Config(input ? null : source, destination,
            "\"UPDATE customers SET city = '${SAN_CITY}' WHERE country <> 'DE'\"", "{ file: delete-customers.sql }");
        string[] inputArguments = input ? ["--input", TestPaths.Example("sample-dump.sql")] : [];

        var dump = await _cli.RunAsync(["dump", "-c", config, .. inputArguments], null, s_environment);

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.False(await ScratchExistsAsync(), "the scratch database is left over");
        Assert.DoesNotContain(PostgresServer.Password, dump.Stderr + dump.Stdout);
        var restore = await _cli.RunAsync(["restore", "-c", config, "--latest"], null, s_environment);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        // The statements' work: the UPDATE with ${VAR} in the statement (an unqualified name: pg_dump's empty search_path
        // is reset for the steps), the DELETEs with ${VAR} in the file.
        Assert.NotEqual("0", await Scalar(source, "SELECT count(*) FROM customers WHERE country = 'GB'"));
        Assert.Equal("0", await Scalar(destination, "SELECT count(*) FROM customers WHERE country = 'GB'"));
        Assert.Equal("Sanitized City", await Scalar(destination, "SELECT string_agg(DISTINCT city, ',') FROM customers WHERE country <> 'DE'"));
        Assert.NotEqual("Sanitized City", await Scalar(destination, "SELECT string_agg(DISTINCT city, ',') FROM customers WHERE country = 'DE'"));
        Assert.Equal(await Scalar(source, "SELECT count(*) FROM customers WHERE country <> 'GB'"), await Scalar(destination, "SELECT count(*) FROM customers"));
        // Still masked (once: the stored dump is not masked again), and the e-mails the rules wrote stay unique.
        Assert.Equal("0", await Scalar(destination, "SELECT count(*) FROM customers WHERE email = 'anna.schmidt@example.org'"));
        Assert.Equal(await Scalar(destination, "SELECT count(*) FROM customers"), await Scalar(destination, "SELECT count(DISTINCT email) FROM customers"));
    }

    [Fact]
    public async Task Dump_InputWhoseFunctionRunsAProgram_WithASuperuserScratch_IsRefusedAndRunsNothing()
    {
        // Found by review: the scratch database took any role, as it receives "the stream being dumped from your own
        // source"; but --input is a file whose SQL its author chooses, and a function's EXECUTE, which the guard cannot
        // see into, ran COPY ... TO PROGRAM on the scratch server as its superuser.
        var marker = Path.Combine(Path.GetTempPath(), "replica-scratch-ran-" + Guid.NewGuid().ToString("N")[..8]);
        var sql = await File.ReadAllTextAsync(TestPaths.Example("sample-dump.sql"));
        const string After = "SET row_security = off;\n";
        var at = sql.IndexOf(After, StringComparison.Ordinal) + After.Length;
        var input = Path.Combine(_cli.WorkingDirectory, "from-elsewhere.sql");
        // A function and a SELECT of it (a DO block the dump refuses, as it cannot tell which rows it writes).
        await File.WriteAllTextAsync(input, sql[..at]
            + $"CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {marker}'''; END $$;\n"
            + "SELECT public.f();\n" + sql[at..]);
        var config = Config(null, "replica_dest_" + Guid.NewGuid().ToString("N")[..8], "\"DELETE FROM public.support_tickets\"");

        await AssertSuperuserScratchRefusedAsync(config, marker, "--input", input);
    }

    /// <summary>
    /// `replica dump` with <paramref name="config"/> less its sanitize.allow_privileged_role, whose scratch role is the
    /// server's superuser: refused (exit 2) naming the setting, nothing stored, no scratch database left, and the program
    /// that would touch <paramref name="marker"/> never ran.
    /// </summary>
    async Task AssertSuperuserScratchRefusedAsync(string config, string marker, params string[] arguments)
    {
        File.WriteAllText(config, File.ReadAllText(config).Replace("  allow_privileged_role: true\n  statements:", "  statements:", StringComparison.Ordinal));
        try
        {
            var dump = await _cli.RunAsync(["dump", "-c", config, .. arguments], null, s_environment);

            Assert.False(File.Exists(marker), "the program ran on the scratch server");
            Assert.Equal(2, dump.ExitCode);
            Assert.Contains("is a superuser", dump.Stderr, StringComparison.Ordinal);
            Assert.Contains("sanitize.allow_privileged_role", dump.Stderr, StringComparison.Ordinal);
            Assert.False(await ScratchExistsAsync(), "the scratch database is left over");
            Assert.Empty(await ListAsync(config));
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task Dump_Jobs2_StoresTheSanitizedScratchInPartsThatRestoreJobs2Restores()
    {
        // The masked parts go into the scratch database one at a time; the scratch database is then stored in parts,
        // read on two connections from one snapshot of it, so that restore --jobs 2 restores it in parts.
        var source = await CreateShopAsync();
        var destination = "replica_dest_" + Guid.NewGuid().ToString("N")[..8];
        var config = Config(source, destination, "\"DELETE FROM public.support_tickets\"", "\"UPDATE customers SET city = '${SAN_CITY}'\"");

        var dump = await _cli.RunAsync(["dump", "-c", config, "--jobs", "2", "--name", "parts"], null, s_environment);

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Contains("storing the scratch database in parts (2 jobs)", dump.Stderr, StringComparison.Ordinal);
        Assert.False(await ScratchExistsAsync(), "the scratch database is left over");
        var manifest = await new Replica.Bridges.LocalBridge(_cli.BridgePath).ReadManifestAsync("parts", CancellationToken.None);
        var kinds = manifest.Parts!.Select(p => p.Kind).ToList();
        Assert.Equal(Replica.Bridges.PartKind.PreData, kinds[0]);
        Assert.True(kinds.Count(k => k == Replica.Bridges.PartKind.Data) >= 4, string.Join(",", kinds));
        var restore = await _cli.RunAsync(["restore", "-c", config, "--name", "parts", "--jobs", "2"], null, s_environment);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Contains("data parts in parallel", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal("0", await Scalar(destination, "SELECT count(*) FROM support_tickets"));
        Assert.Equal("Sanitized City", await Scalar(destination, "SELECT string_agg(DISTINCT city, ',') FROM customers"));
        Assert.Equal(await Scalar(source, "SELECT count(*) FROM customers"), await Scalar(destination, "SELECT count(*) FROM customers"));
        Assert.Equal(await Scalar(source, "SELECT count(*) FROM orders"), await Scalar(destination, "SELECT count(*) FROM orders"));
        Assert.Equal("0", await Scalar(destination, "SELECT count(*) FROM customers WHERE email = 'anna.schmidt@example.org'"));
    }

    [Fact]
    public async Task Dump_SubsetOfALiveSource_PartsGoThroughScratchInRestoreOrder()
    {
        // A live subset is read in parts (schema, each table's kept rows, then keys and indexes): one after the other into
        // the scratch database, where the statements see the subset.
        var source = await CreateShopAsync();
        var destination = "replica_dest_" + Guid.NewGuid().ToString("N")[..8];
        var config = Config(source, destination, "\"DELETE FROM public.support_tickets\"");
        File.AppendAllText(config, "subset:\n  roots: [ { table: public.customers, where: \"country = 'DE'\" } ]\n  follow_children: all\n");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Contains("replica: subset: kept", dump.Stderr, StringComparison.Ordinal);
        Assert.False(await ScratchExistsAsync(), "the scratch database is left over");
        var restore = await _cli.RunAsync("restore", "-c", config, "--latest");
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(await Scalar(source, "SELECT count(*) FROM customers WHERE country = 'DE'"), await Scalar(destination, "SELECT count(*) FROM customers"));
        Assert.Equal("DE", await Scalar(destination, "SELECT string_agg(DISTINCT country, ',') FROM customers"));
        Assert.Equal("0", await Scalar(destination, "SELECT count(*) FROM support_tickets"));
        Assert.NotEqual("0", await Scalar(destination, "SELECT count(*) FROM orders"));
        // Keys and indexes (post-data) came after the rows.
        Assert.Equal("orders_customer_id_idx", await Scalar(destination, "SELECT indexname FROM pg_indexes WHERE indexname = 'orders_customer_id_idx'"));
    }

    [Fact]
    public async Task Dump_MaskedOnce_SameValuesAsAPlainMaskedDump()
    {
        // Masking twice would change values: a sanitized dump whose statement changes nothing equals the plain masked dump.
        var source = await CreateShopAsync();
        var plainDestination = "replica_dest_" + Guid.NewGuid().ToString("N")[..8];
        var sanitizedDestination = "replica_dest_" + Guid.NewGuid().ToString("N")[..8];
        var plain = _cli.WriteConfig(
            $"secret: ${{REPLICA_SECRET}}\nsource:\n  connection_uri: '{server.PasswordUri(source)}'\n"
            + $"destination:\n  connection_uri: '{server.PasswordUri(plainDestination)}'\n  allow_privileged_role: true\n"
            + $"bridge:\n  local:\n    path: {_cli.BridgePath}\n"
            + Rules(),
            "plain.yaml");
        var sanitized = Config(source, sanitizedDestination, "\"UPDATE public.customers SET city = city WHERE false\"");

        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", plain, "--name", "plain")).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", sanitized, "--name", "sanitized")).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", plain, "--name", "plain")).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", sanitized, "--name", "sanitized")).ExitCode);

        foreach (var table in new[] { "public.customers", "public.orders", "public.payments", "public.support_tickets", "public.audit_log" })
        {
            Assert.Equal(await server.QueryTableAsync(plainDestination, table), await server.QueryTableAsync(sanitizedDestination, table));
        }
    }

    [Fact]
    public async Task Dump_StatementFails_NamesItStoresNothingAndDropsScratch()
    {
        var source = await CreateShopAsync();
        var config = Config(source, "replica_dest_unused", "\"UPDATE public.customers SET city = 'x'\"", "\"UPDATE no_such_table SET x = 1\"");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.NotEqual(0, dump.ExitCode);
        Assert.Contains("sanitize.statements[1] failed", dump.Stderr, StringComparison.Ordinal);
        Assert.Contains("no_such_table", dump.Stderr, StringComparison.Ordinal);
        Assert.Empty(await ListAsync(config));
        Assert.False(await ScratchExistsAsync(), "the scratch database is left over");
    }

    [Fact]
    public async Task Dump_CtrlCWhileAStepRuns_DropsScratchAndStoresNothing()
    {
        var source = await CreateShopAsync();
        var config = Config(source, "replica_dest_unused", "\"SELECT pg_sleep(60)\"");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = _cli.WorkingDirectory, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "replica.dll"), "dump", "-c", config })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["REPLICA_SECRET"] = ReplicaCli.Secret;
        using var replica = System.Diagnostics.Process.Start(start)!;
        var stderr = replica.StandardError.ReadToEndAsync();
        for (var i = 0; i < 600 && (await server.QueryAsync("postgres", $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{_scratch}' AND query LIKE '%pg_sleep%'"))[0][0] == "0"; i++)
        {
            await Task.Delay(100);
        }
        Assert.True(await ScratchExistsAsync(), "the step never ran: " + (replica.HasExited ? await stderr : ""));

        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", replica.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await replica.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, replica.ExitCode);
        Assert.False(await ScratchExistsAsync(), "the scratch database is left over: " + await stderr);
        Assert.Empty(await ListAsync(config));
    }

    [Fact]
    public async Task Dump_MetaCommandInAStepFile_IsAConfigErrorBeforeAnythingRuns()
    {
        var source = await CreateShopAsync();
        var marker = Path.Combine(_cli.WorkingDirectory, "marker");
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "evil.sql"), $"UPDATE public.customers SET city = 'x';\n\\! touch {marker}\n");
        var config = Config(source, "replica_dest_unused", "{ file: evil.sql }");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("sanitize.statements[0] (file ", dump.Stderr, StringComparison.Ordinal);
        Assert.Contains("psql meta-command \\!", dump.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "the shell command ran");
        Assert.False(await ScratchExistsAsync(), "the scratch database was created");
        Assert.False(Directory.Exists(_cli.BridgePath) && Directory.EnumerateFileSystemEntries(_cli.BridgePath).Any(), "something was stored");
    }

    [Fact]
    public async Task Dump_ScratchDatabaseExists_IsAConfigErrorAndItIsKept()
    {
        var source = await CreateShopAsync();
        await server.CreateDatabaseAsync(_scratch);
        await server.ExecuteAsync(_scratch, "CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)");
        var config = Config(source, "replica_dest_unused", "\"DELETE FROM public.customers\"");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("sanitize.scratch_uri", dump.Stderr, StringComparison.Ordinal);
        Assert.Contains("exists", dump.Stderr, StringComparison.Ordinal);
        Assert.Equal("1", await Scalar(_scratch, "SELECT count(*) FROM precious"));
        Assert.Empty(await ListAsync(config));
    }

    [Fact]
    public async Task Dump_ScratchLeftByAKilledDump_IsDroppedAndTheDumpRuns()
    {
        // kill -9 leaves the scratch database behind; its comment names the dump's process, which is gone.
        var source = await CreateShopAsync();
        int gone;
        using (var exited = System.Diagnostics.Process.Start("true")!)
        {
            await exited.WaitForExitAsync();
            gone = exited.Id;
        }
        await server.CreateDatabaseAsync(_scratch);
        await server.ExecuteAsync(_scratch, "CREATE TABLE half_restored (id int)");
        await server.ExecuteAsync("postgres", $"COMMENT ON DATABASE {_scratch} IS '{Replica.Destinations.PostgresScratchDatabase.MarkOf(gone)}'");
        var config = Config(source, "replica_dest_unused", "\"DELETE FROM public.audit_log\"");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Single(await ListAsync(config));
        Assert.False(await ScratchExistsAsync(), "the scratch database is left over");
    }

    [Fact]
    public async Task Dump_ScratchUriIsTheSourceDatabase_IsAConfigErrorAndTheSourceIsKept()
    {
        var source = await CreateShopAsync();
        var config = _cli.WriteConfig(
            "secret: ${REPLICA_SECRET}\n" + $"source:\n  connection_uri: '{server.PasswordUri(source)}'\n"
            + $"sanitize:\n  scratch_uri: '{server.PasswordUri(source)}'\n  statements: [ 'DELETE FROM public.audit_log' ]\n"
            + $"bridge:\n  local:\n    path: {_cli.BridgePath}\n");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("has the name of the source's database", dump.Stderr, StringComparison.Ordinal);
        Assert.NotEqual("0", await Scalar(source, "SELECT count(*) FROM audit_log"));
    }

    const string Steps = "  statements: [ 'DELETE FROM public.audit_log' ]\n";

    [Theory]
    [InlineData("sanitize:\n" + Steps, "", "sanitize.scratch_uri")]
    [InlineData("sanitize:\n  scratch_uri: 'postgres://u@127.0.0.1/replica_scratch'\n" + Steps, "--input shop.sql --dialect MySql", "a MySQL or MariaDB dump needs a mysql:// scratch_uri")]
    [InlineData("sanitize:\n  scratch_uri: 'mysql://u@127.0.0.1/replica_scratch'\n" + Steps, "", "a PostgreSQL dump needs a postgres:// scratch_uri")]
    public async Task Dump_BadSanitizeConfig_ExitsTwoBeforeAnythingRuns(string sanitize, string arguments, string message)
    {
        var source = await CreateShopAsync();
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "shop.sql"), "CREATE TABLE t (a int);\n");
        sanitize = sanitize.Replace("postgres://u@127.0.0.1/replica_scratch", server.PasswordUri(_scratch), StringComparison.Ordinal);
        var config = _cli.WriteConfig("secret: ${REPLICA_SECRET}\n" + $"source:\n  connection_uri: '{server.PasswordUri(source)}'\n{sanitize}bridge:\n  local:\n    path: {_cli.BridgePath}\n");

        var dump = await _cli.RunAsync(["dump", "-c", config, .. arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains(message, dump.Stderr, StringComparison.Ordinal);
        Assert.False(await ScratchExistsAsync(), "the scratch database was created");
        Assert.NotEqual("0", await Scalar(source, "SELECT count(*) FROM audit_log"));
    }

    /// <summary>
    /// A role of the source that is not a superuser (an application's owner role) writes a function that runs a program
    /// when it can, and a CHECK constraint that calls it: whoever loads the table's rows as a superuser runs the program.
    /// </summary>
    async Task<(string Source, string Marker)> CreateShopWithAppRoleTrapAsync()
    {
        var source = await CreateShopAsync();
        var marker = Path.Combine(Path.GetTempPath(), "replica-scratch-ran-" + Guid.NewGuid().ToString("N")[..8]);
        var role = "app_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync("postgres", $"CREATE ROLE {role} NOSUPERUSER NOLOGIN");
        await server.ExecuteAsync(source, $"GRANT CREATE ON SCHEMA public TO {role}");
        await server.ExecuteAsync(source, $"""
            SET ROLE {role};
            CREATE FUNCTION public.note_ok(note text) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
                EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {marker}''';
                RETURN true;
            EXCEPTION WHEN insufficient_privilege THEN
                RETURN true;
            END $$;
            CREATE TABLE public.app_notes (note text CHECK (public.note_ok(note)));
            INSERT INTO public.app_notes VALUES ('written by the application');
            RESET ROLE;
            """);
        return (source, marker);
    }

    /// <summary>A role that may create databases and nothing more (the test server trusts it).</summary>
    async Task<string> CreateDatabaseOnlyRoleAsync()
    {
        var role = "scratcher_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync("postgres", $"CREATE ROLE {role} LOGIN CREATEDB");
        return role;
    }

    string RoleUri(string role, string database) =>
        $"postgres://{role}:unused@{PostgresServer.Host}:{server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}/{database}";

    [Fact]
    public async Task Dump_LiveSourceWhoseAppRoleFunctionRunsAProgram_WithASuperuserScratch_IsRefusedAndRunsNothing()
    {
        // Found by review: a live source's stream was taken as any role, "your own database"; but its functions are
        // written by its roles, a superuser's or not, and a CHECK constraint calling one ran it as the scratch server's
        // superuser while the rows loaded: COPY ... TO PROGRAM ran a program that the role writing it could not run.
        var (source, marker) = await CreateShopWithAppRoleTrapAsync();
        var config = Config(source, "replica_dest_unused", "\"DELETE FROM public.support_tickets\"");

        await AssertSuperuserScratchRefusedAsync(config, marker);
    }

    [Fact]
    public async Task Dump_LiveSourceWithAScratchRoleThatMayOnlyCreateDatabases_NoOwnerNoPrivileges_SanitizesAndRunsNothing()
    {
        // The way the README recommends: a scratch role with CREATEDB only; sanitize.no_owner and no_privileges leave out
        // pg_dump's OWNER TO and GRANT (the source's roles), as destination.no_owner does. The trap's program is refused.
        var (source, marker) = await CreateShopWithAppRoleTrapAsync();
        var destination = "replica_dest_" + Guid.NewGuid().ToString("N")[..8];
        var config = Config(source, destination, "\"DELETE FROM public.support_tickets\"");
        // The destination is restored as that role too (a superuser would run the trap there, as the config allowed).
        var role = await CreateDatabaseOnlyRoleAsync();
        File.WriteAllText(config, File.ReadAllText(config)
            .Replace($"scratch_uri: '{server.PasswordUri(_scratch)}'\n  allow_privileged_role: true\n", $"scratch_uri: '{RoleUri(role, _scratch)}'\n  no_owner: true\n  no_privileges: true\n", StringComparison.Ordinal)
            .Replace($"connection_uri: '{server.PasswordUri(destination)}'\n  allow_privileged_role: true\n", $"connection_uri: '{RoleUri(role, destination)}'\n", StringComparison.Ordinal));
        Assert.DoesNotContain("allow_privileged_role", File.ReadAllText(config), StringComparison.Ordinal);
        try
        {
            var dump = await _cli.RunAsync(["dump", "-c", config], null, s_environment);

            Assert.True(dump.ExitCode == 0, dump.Stderr);
            Assert.False(File.Exists(marker), "the source role's program ran on the scratch server");
            Assert.False(await ScratchExistsAsync(), "the scratch database is left over");
            var restore = await _cli.RunAsync(["restore", "-c", config, "--latest"], null, s_environment);
            Assert.True(restore.ExitCode == 0, restore.Stderr);
            Assert.False(File.Exists(marker), "the source role's program ran on the destination");
            Assert.Equal("0", await Scalar(destination, "SELECT count(*) FROM support_tickets"));
            Assert.Equal(await Scalar(source, "SELECT count(*) FROM customers"), await Scalar(destination, "SELECT count(*) FROM customers"));
            Assert.Equal("written by the application", await Scalar(destination, "SELECT string_agg(note, ',') FROM app_notes"));
            Assert.Equal("0", await Scalar(destination, "SELECT count(*) FROM customers WHERE email = 'anna.schmidt@example.org'"));
        }
        finally
        {
            File.Delete(marker);
        }
    }
}
