using System.Text;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// A dump that switches the client encoding to SJIS where the lexer does not look (set_config(), a quoted name): the
/// server then reads 0x83 0x5C as one character where the lexer read a backslash escaping a quote, so the real value of
/// a masked column stands where the rewriter saw another column (review finding 6). `replica dump` refuses it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSettingDesyncTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("SELECT pg_catalog.set_config('client_encoding', 'SJIS', false);")]
    [InlineData("SET \"client_encoding\" = 'SJIS';")]
    [InlineData("UPDATE pg_settings SET setting = 'SJIS' WHERE name = 'client_encoding';")]
    public async Task Dump_ClientEncodingSwitchedToSjis_IsRefusedWherePsqlWouldStoreTheRealValue(string switchEncoding)
    {
        byte[] dump =
        [
            .. "CREATE TABLE public.customers (id text, note text, email text);\n"u8,
            .. Encoding.UTF8.GetBytes(switchEncoding + "\n"),
            .. "INSERT INTO public.customers (id, note, email) VALUES ('1', E'"u8, 0x83, 0x5C, .. "', 'real-sjis@example.com');\n-- ', 'z');\n"u8,
        ];
        var input = Path.Combine(_cli.WorkingDirectory, "sjis.sql");
        await File.WriteAllBytesAsync(input, dump);

        // What psql and the server make of these bytes: the real value is the email, not part of a comment.
        var db = await server.CreateDatabaseAsync();
        var psql = await server.RunPsqlFileAsync(db, input);
        Assert.True(psql.ExitCode == 0, psql.Stderr);
        Assert.Equal("real-sjis@example.com", (await server.QueryAsync(db, "SELECT email FROM public.customers"))[0][0]);

        var config = _cli.WriteConfig($"""
            secret: {ReplicaCli.Secret}
            bridge:
              local:
                path: {_cli.BridgePath}
            transformers:
              - table: public.customers
                columns:
                  email: email
            """);
        var result = await _cli.RunAsync("dump", "-c", config, "--input", input, "--name", "sjis");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("line 2", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_cli.BridgePath) && Directory.EnumerateFiles(_cli.BridgePath, "*", SearchOption.AllDirectories).Any(f => f.Contains("sjis", StringComparison.Ordinal)));
    }
}
