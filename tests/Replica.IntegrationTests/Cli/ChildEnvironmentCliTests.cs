namespace Replica.IntegrationTests.Cli;

/// <summary>What of replica's environment its child processes get, seen by the real executable.</summary>
public sealed class ChildEnvironmentCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>
    /// Found by review: a custom command that wrote its environment to a file (`env > file; exec sed ...`) found
    /// RC_PASS (the bridge passphrase the config read as ${RC_PASS}) and REPLICA_SECRET (the masking secret) in it. Now
    /// it gets the basics only, and the dump still masks with it.
    /// </summary>
    [Fact]
    public async Task Dump_CustomCommand_GetsNeitherThePassphraseNorTheSecret()
    {
        const string passphrase = "rc-pass-0123456789-bridge-passphrase";
        var envFile = Path.Combine(_cli.WorkingDirectory, "custom-env.txt");
        var config = _cli.WriteConfig($$"""
            secret: ${REPLICA_SECRET}
            bridge:
              local: { path: {{_cli.BridgePath}} }
              encryption: { passphrase: ${RC_PASS} }
            transformers:
              - table: public.users
                columns:
                  email:
                    transformer: custom
                    options:
                      command: [/bin/sh, -c, 'env > {{envFile}}; exec sed -u s/.*/masked/']
            """, "custom-env.yaml");
        var input = Path.Combine(_cli.WorkingDirectory, "input.sql");
        await File.WriteAllTextAsync(input, """
            CREATE TABLE public.users (id integer, email text);

            COPY public.users (id, email) FROM stdin;
            1	a@example.com
            \.

            """);

        var result = await _cli.RunAsync(["dump", "-c", config, "--input", input, "--dialect", "PostgreSql", "--name", "env"], stdin: null,
            new Dictionary<string, string?> { ["RC_PASS"] = passphrase, ["CT_OTHER"] = "user-variable" });

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
        var environment = await File.ReadAllTextAsync(envFile);
        var lines = environment.Split('\n');
        Assert.DoesNotContain(passphrase, environment, StringComparison.Ordinal);
        Assert.DoesNotContain(ReplicaCli.Secret, environment, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, line => line.StartsWith("RC_PASS=", StringComparison.Ordinal)
            || line.StartsWith("REPLICA_", StringComparison.Ordinal) || line.StartsWith("CT_OTHER=", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("PATH=", StringComparison.Ordinal));

        var restored = await _cli.RunAsync(["restore", "-c", config, "--latest", "-o", "-"], stdin: null,
            new Dictionary<string, string?> { ["RC_PASS"] = passphrase });
        Assert.True(restored.ExitCode == 0, $"exit {restored.ExitCode}: {restored.Stderr}");
        Assert.Contains("1\tmasked", restored.Stdout, StringComparison.Ordinal);
    }
}
