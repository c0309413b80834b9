using System.Globalization;

namespace Replica.Clients;

/// <summary>
/// Finds PostgreSQL's client programs (pg_dump, psql) and checks them against a server. pg_dump cannot dump a server of a
/// newer major version (https://www.postgresql.org/docs/current/app-pgdump.html, "Notes"), so the newest installed
/// binaries are chosen and their version is compared with the server's before a dump starts.
/// Search order: $REPLICA_PG_BINDIR, /usr/lib/postgresql/*/bin (Debian, newest first), /usr/pgsql-*/bin (RHEL), then PATH.
/// </summary>
public sealed class PostgresTools
{
    public const string BinDirVariable = "REPLICA_PG_BINDIR";

    PostgresTools(string? binDir, ChildEnvironment childEnvironment)
    {
        BinDir = binDir;
        ChildEnvironment = childEnvironment;
    }

    /// <summary>What the tools are not given of replica's environment (the config's ${VAR}s, replica's own variables).</summary>
    public ChildEnvironment ChildEnvironment { get; }

    /// <summary>The directory holding the tools, or null to use PATH.</summary>
    public string? BinDir { get; }

    public string PgDump => Tool("pg_dump");

    public string Psql => Tool("psql");

    public string Tool(string name) => BinDir is null ? name : Path.Combine(BinDir, name);

    public static PostgresTools Find(ChildEnvironment childEnvironment)
    {
        ArgumentNullException.ThrowIfNull(childEnvironment);
        if (Environment.GetEnvironmentVariable(BinDirVariable) is { Length: > 0 } configured)
        {
            if (!File.Exists(Path.Combine(configured, "pg_dump")))
            {
                throw new ConfigException($"{BinDirVariable}={configured} holds no pg_dump");
            }
            return new PostgresTools(configured, childEnvironment);
        }
        string? best = null;
        var bestVersion = -1;
        foreach (var pattern in new[] { ("/usr/lib/postgresql", ""), ("/usr", "pgsql-") })
        {
            if (!Directory.Exists(pattern.Item1))
            {
                continue;
            }
            foreach (var dir in Directory.EnumerateDirectories(pattern.Item1, pattern.Item2 + "*"))
            {
                var versionText = Path.GetFileName(dir)[pattern.Item2.Length..];
                if (int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                    && version > bestVersion && File.Exists(Path.Combine(dir, "bin", "pg_dump")))
                {
                    best = Path.Combine(dir, "bin");
                    bestVersion = version;
                }
            }
        }
        return new PostgresTools(best, childEnvironment);
    }

    /// <summary>The major version of a tool, from `tool --version` ("pg_dump (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)").</summary>
    public async Task<int> ToolMajorVersionAsync(string tool, CancellationToken cancellationToken)
    {
        var text = await ToolProcess.RunAsync(Tool(tool), ["--version"], new Dictionary<string, string>(), ChildEnvironment, null, cancellationToken).ConfigureAwait(false);
        return ReadVersion(text)?.Major ?? throw new DatabaseException($"cannot read the version of {Tool(tool)} from '{text.Trim()}'");
    }

    /// <summary>
    /// The version in a `tool --version` text, after the ')': its major, its minor (0 without one) and whether it is a
    /// release (a '.' after the major: "15.10", not "18beta1" or "18devel"); null without digits there.
    /// </summary>
    internal static (int Major, int Minor, bool Release)? ReadVersion(string text)
    {
        var digits = text.AsSpan(text.IndexOf(')') + 1).TrimStart();
        var dot = digits.IndexOfAnyExceptInRange('0', '9') is var d and >= 0 ? d : digits.Length;
        if (dot == 0 || !int.TryParse(digits[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var major))
        {
            return null;
        }
        var release = dot < digits.Length && digits[dot] == '.';
        var rest = release ? digits[(dot + 1)..] : [];
        var end = rest.IndexOfAnyExceptInRange('0', '9') is var e and >= 0 ? e : rest.Length;
        return (major, int.TryParse(rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var minor) ? minor : 0, release);
    }

    /// <summary>
    /// Whether the local psql has \restrict (13.22, 14.19, 15.14, 16.10, 17.6, 18 and later; CVE-2025-8714): after
    /// "\restrict KEY" it refuses every meta-command but "\unrestrict KEY". Read once from psql --version.
    /// https://www.postgresql.org/docs/current/app-psql.html#APP-PSQL-META-COMMAND-RESTRICT
    /// </summary>
    public async Task<bool> PsqlRestrictsAsync(CancellationToken cancellationToken)
    {
        if (_psqlRestricts is bool known)
        {
            return known;
        }
        var text = await ToolProcess.RunAsync(Psql, ["--version"], new Dictionary<string, string>(), ChildEnvironment, null, cancellationToken).ConfigureAwait(false);
        var restricts = HasRestrict(text);
        _psqlRestricts = restricts;
        return restricts;
    }

    bool? _psqlRestricts;

    /// <summary>Whether a psql --version text ("psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") names a psql with \restrict.</summary>
    internal static bool HasRestrict(string versionText) =>
        // 18's development and early beta builds ("18devel", "18beta1") lack it: only releases ("18.0") count.
        ReadVersion(versionText) is var (major, minor, release)
        && (major >= 19 || (major == 18 && release) || (major, minor) is (17, >= 6) or (16, >= 10) or (15, >= 14) or (14, >= 19) or (13, >= 22));

    /// <summary>Whether the local pg_dump takes --restrict-key (17.6, 16.10, 15.14 and later), from its --help.</summary>
    public async Task<bool> PgDumpHasRestrictKeyAsync(CancellationToken cancellationToken)
    {
        var help = await ToolProcess.RunAsync(PgDump, ["--help"], new Dictionary<string, string>(), ChildEnvironment, null, cancellationToken).ConfigureAwait(false);
        return help.Contains("--restrict-key", StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs one query with psql and returns its unaligned, tuples-only output. Also the cheapest way to learn early
    /// that the server is unreachable or the password is wrong, with libpq's own words.
    /// </summary>
    public Task<string> QueryAsync(DatabaseUri uri, string sql, CancellationToken cancellationToken) =>
        ToolProcess.RunAsync(Psql, ["--no-psqlrc", "--no-password", "--tuples-only", "--no-align", "--quiet", "--set=ON_ERROR_STOP=1", "--command", sql],
            uri.LibpqEnvironment(), ChildEnvironment, [uri.Password], cancellationToken, context: $"cannot query {uri.Describe()}");

    /// <summary>server_version_num / 10000: 150010 → 15.</summary>
    public async Task<int> ServerMajorVersionAsync(DatabaseUri uri, CancellationToken cancellationToken)
    {
        var text = (await QueryAsync(uri, "SHOW server_version_num", cancellationToken).ConfigureAwait(false)).Trim();
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number / 10000
            : throw new DatabaseException($"unexpected answer to SHOW server_version_num from {uri.Describe()}: '{text}'");
    }

    /// <summary>Throws a clear error when the local pg_dump is older than the server (pg_dump would refuse, less clearly).</summary>
    public async Task CheckPgDumpAsync(DatabaseUri uri, CancellationToken cancellationToken)
    {
        var server = await ServerMajorVersionAsync(uri, cancellationToken).ConfigureAwait(false);
        var local = await ToolMajorVersionAsync("pg_dump", cancellationToken).ConfigureAwait(false);
        if (local < server)
        {
            throw new DatabaseException(
                $"the local pg_dump ({PgDump}) is version {local}, older than the PostgreSQL {server} server of {uri.Describe()}; "
                + $"pg_dump cannot dump a newer server. Install postgresql-client-{server} or point {BinDirVariable} at its bin directory.");
        }
    }
}
