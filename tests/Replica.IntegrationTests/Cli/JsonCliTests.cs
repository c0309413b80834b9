using System.Text.Json;

namespace Replica.IntegrationTests.Cli;

/// <summary>--json: one JSON object on stdout per command, so a script reads the figures instead of parsing text.</summary>
public sealed class JsonCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    static string SampleDump => TestPaths.Example("sample-dump.sql");

    async Task<JsonElement> JsonOfAsync(params string[] args)
    {
        var result = await _cli.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"replica {string.Join(' ', args)} failed ({result.ExitCode}): {result.Stderr}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task DumpVerifyRestoreExportImportDelete_EachPrintsOneJsonObject()
    {
        var config = _cli.WriteConfig();

        var dump = await JsonOfAsync("dump", "-c", config, "--input", SampleDump, "--json");
        var name = dump.GetProperty("name").GetString()!;
        var list = JsonDocument.Parse((await _cli.RunAsync("list", "-c", config, "--json")).Stdout).RootElement;
        var verify = await JsonOfAsync("verify", "-c", config, "--latest", "--json");
        var restore = await JsonOfAsync("restore", "-c", config, "--latest", "-o", "restored.sql", "--json");
        var export = await JsonOfAsync("export", "-c", config, name, "-o", "shop.replica", "--json");
        var delete = await JsonOfAsync("delete", "-c", config, name, "--json");
        var import = await JsonOfAsync("import", "-c", config, "shop.replica", "--json");

        Assert.Equal("dump", dump.GetProperty("command").GetString());
        Assert.Equal(name, Assert.Single(list.EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(new FileInfo(SampleDump).Length, dump.GetProperty("size_in").GetInt64());
        Assert.True(dump.GetProperty("rows").GetInt64() > 0);
        Assert.True(dump.GetProperty("transformed_values").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Array, dump.GetProperty("warnings").ValueKind);
        Assert.Equal(("verify", name, true), (verify.GetProperty("command").GetString(), verify.GetProperty("name").GetString(), verify.GetProperty("intact").GetBoolean()));
        Assert.Equal(dump.GetProperty("chunks").GetInt32(), verify.GetProperty("chunks").GetInt32());
        Assert.Equal(new FileInfo(Path.Combine(_cli.WorkingDirectory, "restored.sql")).Length, restore.GetProperty("bytes").GetInt64());
        Assert.Equal(name, restore.GetProperty("name").GetString());
        Assert.Equal(("export", name), (export.GetProperty("command").GetString(), export.GetProperty("name").GetString()));
        Assert.Equal(Path.Combine(_cli.WorkingDirectory, "shop.replica"), export.GetProperty("file").GetString());
        Assert.Equal([name], delete.GetProperty("deleted").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(("import", name), (import.GetProperty("command").GetString(), import.GetProperty("name").GetString()));
        Assert.Equal(dump.GetProperty("size_out").GetInt64(), import.GetProperty("size_out").GetInt64());
    }

    [Theory]
    [InlineData("restore", "--latest")]
    [InlineData("restore", "--latest", "-o", "-")]
    [InlineData("export", "--latest", "-o", "-")]
    public async Task Json_WhereStdoutCarriesTheDump_IsAUsageErrorAndPrintsNoSql(params string[] args)
    {
        var config = _cli.WriteConfig();
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config, "--input", SampleDump)).ExitCode);

        var result = await _cli.RunAsync([.. args, "-c", config, "--json"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--json prints its report on stdout", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }
}
