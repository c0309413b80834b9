namespace Replica;

/// <summary>
/// Which of replica's environment variables its child processes do not get. A config's ${VAR} is usually a secret (the
/// bridge passphrase, a password, the masking secret), and a child has no use for it: pg_dump and psql get the
/// connection details replica sets for them, and a custom command reads values on its stdin. So a database tool
/// (pg_dump, psql, mysqldump, mysql) gets replica's environment without replica's own variables (REPLICA_*), without
/// cloud credentials (<see cref="IsCloudCredential"/>: the S3 bridge's AWS_*, other clouds' alike) and without the
/// variables the config read, and a custom transformer's command gets only <see cref="IsBasic">the basics</see>.
/// Kept even when the config read them: the basics, and the client tools' own settings (PGHOST, PGSSLMODE, MYSQL_HOST
/// ...) but for their passwords (PGPASSWORD, MYSQL_PWD), since a user may set those for every tool and use them in the
/// config too. One instance per config, filled by the config's reader.
/// </summary>
public sealed class ChildEnvironment
{
    /// <summary>For runs without a config (and tests): only replica's own variables and cloud credentials are held back.</summary>
    public static readonly ChildEnvironment WithoutConfig = new();

    static readonly StringComparer s_names = OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    // Not secrets, and what programs need to run at all: the search path, the user's home and name, language, time
    // zone, temporary directory (and Windows' own, without which a process may not start).
    static readonly HashSet<string> s_basic = new(
        ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
            "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE"], s_names);

    // The client tools' own settings, not secrets: libpq's (https://www.postgresql.org/docs/current/libpq-envars.html)
    // but PGPASSWORD, and the MySQL clients' (https://dev.mysql.com/doc/refman/8.4/en/environment-variables.html) but MYSQL_PWD.
    static readonly HashSet<string> s_toolSettings = new(
        ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSFILE", "PGREQUIREAUTH", "PGCHANNELBINDING",
            "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR", "PGOPTIONS", "PGAPPNAME", "PGSSLMODE", "PGREQUIRESSL",
            "PGSSLCOMPRESSION", "PGSSLCERT", "PGSSLKEY", "PGSSLROOTCERT", "PGSSLCRL", "PGSSLCRLDIR", "PGSSLSNI",
            "PGREQUIREPEER", "PGSSLMINPROTOCOLVERSION", "PGSSLMAXPROTOCOLVERSION", "PGSSLNEGOTIATION", "PGGSSENCMODE",
            "PGKRBSRVNAME", "PGGSSLIB", "PGGSSDELEGATION", "PGCONNECT_TIMEOUT", "PGCLIENTENCODING", "PGTARGETSESSIONATTRS",
            "PGLOADBALANCEHOSTS", "PGDATESTYLE", "PGTZ", "PGGEQO", "PGLOCALEDIR",
            "MYSQL_HOST", "MYSQL_TCP_PORT", "MYSQL_UNIX_PORT", "MYSQL_HOME", "MYSQL_TEST_LOGIN_FILE", "MYSQL_GROUP_SUFFIX",
            "MARIADB_HOME"], s_names);

    // Cloud credentials that are no prefix's: Google's key file (its AWS and Azure peers are AWS_*, AZURE_*).
    static readonly HashSet<string> s_cloudCredentials = new(["GOOGLE_APPLICATION_CREDENTIALS"], s_names);

    readonly HashSet<string> _read = new(s_names);

    internal ChildEnvironment()
    {
    }

    /// <summary>The variables the config read, in no order (for tests and messages; their values are never kept).</summary>
    public IReadOnlyCollection<string> ReadByConfig => _read;

    /// <summary>The config read variable <paramref name="name"/> (for ${NAME}), so children do not get it.</summary>
    internal void ReadByTheConfig(string name)
    {
        lock (_read)
        {
            _read.Add(name);
        }
    }

    /// <summary>A variable every child keeps: PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, LC_*, TZ, TMPDIR (and TEMP, TMP, Windows' own).</summary>
    public static bool IsBasic(string name) =>
        s_basic.Contains(name) || name.StartsWith("LC_", StringComparison.Ordinal);

    /// <summary>
    /// A cloud's credentials or what leads to them: every AWS_* (the S3 bridge's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_SESSION_TOKEN, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE ...), every AZURE_* (AZURE_STORAGE_KEY,
    /// AZURE_CLIENT_SECRET ...) and GOOGLE_APPLICATION_CREDENTIALS. Held back whole, by prefix: neither libpq nor the
    /// MySQL clients read any of them, and a list of single names would miss the next one a cloud adds.
    /// </summary>
    public static bool IsCloudCredential(string name) =>
        name.StartsWith("AWS_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("AZURE_", StringComparison.OrdinalIgnoreCase)
        || s_cloudCredentials.Contains(name);

    /// <summary>Whether a database tool does not get variable <paramref name="name"/> of replica's environment.</summary>
    public bool HidesFromTools(string name)
    {
        if (IsBasic(name))
        {
            return false;
        }
        if (name.StartsWith("REPLICA_", StringComparison.OrdinalIgnoreCase) || IsCloudCredential(name))
        {
            return true;
        }
        if (s_toolSettings.Contains(name))
        {
            return false;
        }
        lock (_read)
        {
            return _read.Contains(name);
        }
    }

    /// <summary>Removes from <paramref name="environment"/> (a ProcessStartInfo's, a copy of replica's) what a database tool does not get.</summary>
    public void ForTool(IDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        foreach (var name in environment.Keys.Where(HidesFromTools).ToList())
        {
            environment.Remove(name);
        }
    }

    /// <summary>Keeps only <see cref="IsBasic">the basics</see> in <paramref name="environment"/>: what a custom command gets.</summary>
    public static void ForCommand(IDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        foreach (var name in environment.Keys.Where(name => !IsBasic(name)).ToList())
        {
            environment.Remove(name);
        }
    }
}
