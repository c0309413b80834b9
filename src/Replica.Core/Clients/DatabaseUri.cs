using System.Text;

namespace Replica.Clients;

/// <summary>Which kind of database a connection URI names.</summary>
public enum DatabaseKind
{
    PostgreSql,
    MySql,
}

/// <summary>
/// A parsed connection URI: postgres://user:password@host:port/database?sslmode=require (libpq's URI form,
/// https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS) or mysql:// / mariadb:// with the
/// same shape. Every part is optional: what the URI leaves out comes from the tools' own environment (PGHOST, PGPASSWORD,
/// PGSERVICE, ~/.pgpass; ~/.my.cnf). The password is kept apart and never shown: <see cref="ToString"/> leaves it out.
/// </summary>
public sealed class DatabaseUri
{
    DatabaseUri(DatabaseKind kind, string scheme)
    {
        Kind = kind;
        Scheme = scheme;
    }

    public DatabaseKind Kind { get; }

    /// <summary>The scheme as written (postgres, postgresql, mysql, mariadb).</summary>
    public string Scheme { get; }

    /// <summary>A host name, an IP address, or (PostgreSQL) a Unix socket directory starting with '/'.</summary>
    public string? Host { get; private set; }

    public int? Port { get; private set; }

    public string? User { get; private set; }

    /// <summary>The password, when the URI has one. Pass it through a child's environment or a 0600 file, never an argument.</summary>
    public string? Password { get; private set; }

    public string? Database { get; private set; }

    /// <summary>Query parameters (sslmode, connect_timeout, application_name, service ...), decoded.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; private set; } = new Dictionary<string, string>();

    /// <summary>Parses <paramref name="uri"/>; the message of a failure never repeats the URI (it may hold a password).</summary>
    public static DatabaseUri Parse(string uri)
    {
        var schemeEnd = uri.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw new ConfigException("a connection URI starts with postgres://, postgresql://, mysql:// or mariadb://");
        }
        var scheme = uri[..schemeEnd].ToLowerInvariant();
        var kind = scheme switch
        {
            "postgres" or "postgresql" => DatabaseKind.PostgreSql,
            "mysql" or "mariadb" => DatabaseKind.MySql,
            _ => throw new ConfigException($"'{uri[..schemeEnd]}://' databases are not supported; use postgres://, postgresql://, mysql:// or mariadb://"),
        };
        var result = new DatabaseUri(kind, scheme);
        var rest = uri[(schemeEnd + 3)..];

        var query = rest.IndexOf('?');
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (query >= 0)
        {
            foreach (var pair in rest[(query + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0)
                {
                    // Named only when it looks like a parameter name: a stray '?hunter2' may be a misplaced password.
                    var text = eq < 0 ? pair : pair[..eq];
                    throw new ConfigException(IsParameterName(text)
                        ? $"connection URI parameter '{text}' has no value (expected name=value)"
                        : "a connection URI parameter has no name or no value (expected ?name=value&name=value)");
                }
                var key = Decode(pair[..eq]);
                parameters[key] = Decode(pair[(eq + 1)..], IsParameterName(key) ? $"parameter '{key}'" : "a parameter name");
            }
            rest = rest[..query];
        }

        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        if (slash >= 0 && slash + 1 < rest.Length)
        {
            result.Database = Decode(rest[(slash + 1)..], "database name");
        }

        // The password may contain '@' when it is percent-encoded; an unencoded one would make the last '@' the split.
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            result.User = NullIfEmpty(Decode(colon < 0 ? userInfo : userInfo[..colon], "user name"));
            if (colon >= 0)
            {
                result.Password = Decode(userInfo[(colon + 1)..], "password");
            }
        }

        if (authority.Length > 0)
        {
            string host;
            string? port = null;
            if (authority.StartsWith('['))
            {
                var close = authority.IndexOf(']');
                if (close < 0)
                {
                    throw new ConfigException("the connection URI's IPv6 host has no closing ']'");
                }
                host = authority[1..close];
                if (close + 1 < authority.Length)
                {
                    if (authority[close + 1] != ':')
                    {
                        throw new ConfigException("the connection URI has characters after the IPv6 host that are not ':port'");
                    }
                    port = authority[(close + 2)..];
                }
            }
            else
            {
                if (authority.Contains(','))
                {
                    throw new ConfigException("connection URIs with several hosts are not supported; name one host");
                }
                var colon = authority.LastIndexOf(':');
                host = colon < 0 ? authority : authority[..colon];
                port = colon < 0 ? null : authority[(colon + 1)..];
            }
            result.Host = NullIfEmpty(Decode(host, "host"));
            if (!string.IsNullOrEmpty(port))
            {
                result.Port = ParsePort(port);
            }
        }

        // libpq lets parameters name what the authority leaves out (e.g. ?host=/var/run/postgresql for a socket).
        if (parameters.Remove("host", out var h))
        {
            result.Host = h;
        }

        if (parameters.Remove("port", out var p))
        {
            result.Port = ParsePort(p);
        }

        if (parameters.Remove("user", out var u))
        {
            result.User = u;
        }

        if (parameters.Remove("password", out var pw))
        {
            result.Password = pw;
        }

        if (parameters.Remove("dbname", out var d))
        {
            result.Database = d;
        }

        result.Parameters = parameters;
        return result;
    }

    /// <summary>
    /// The URI without its password, for messages and manifests: postgres://user@host:5432/db?sslmode=require.
    /// </summary>
    public override string ToString()
    {
        var b = new StringBuilder(Scheme).Append("://");
        if (User is not null)
        {
            b.Append(Uri.EscapeDataString(User)).Append('@');
        }
        if (Host is not null)
        {
            b.Append(Host.Contains(':') ? $"[{Host}]" : Host.StartsWith('/') ? Uri.EscapeDataString(Host) : Host);
        }
        if (Port is { } port)
        {
            b.Append(':').Append(port);
        }
        if (Database is not null)
        {
            b.Append('/').Append(Uri.EscapeDataString(Database));
        }
        var first = true;
        foreach (var (key, value) in Parameters)
        {
            if (key is "password" or "sslpassword")
            {
                continue;
            }
            // Only the values of the parameters Replica passes on are shown: an unknown one may hold anything, a secret too.
            var shown = s_libpqVariables.ContainsKey(key) || MysqlOptionFile.IsSupportedParameter(key) ? Uri.EscapeDataString(value) : "***";
            b.Append(first ? '?' : '&').Append(Uri.EscapeDataString(key)).Append('=').Append(shown);
            first = false;
        }
        return b.ToString();
    }

    /// <summary>A short name for messages: "database shop on db.example.com:5432".</summary>
    public string Describe() =>
        $"database {Database ?? "(default)"} on {Host ?? "(default host)"}{(Port is { } p ? $":{p}" : "")}";

    /// <summary>
    /// The libpq environment variables that carry this URI to pg_dump, psql and friends
    /// (https://www.postgresql.org/docs/current/libpq-envars.html). Only what the URI names is set, so the caller's own
    /// PGHOST, PGSERVICE or ~/.pgpass fill in the rest. Unknown parameters are refused rather than silently dropped.
    /// </summary>
    public Dictionary<string, string> LibpqEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Host is not null)
        {
            env["PGHOST"] = Host;
        }

        if (Port is { } port)
        {
            env["PGPORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (User is not null)
        {
            env["PGUSER"] = User;
        }

        if (Password is not null)
        {
            env["PGPASSWORD"] = Password;
        }

        if (Database is not null)
        {
            env["PGDATABASE"] = Database;
        }

        foreach (var (key, value) in Parameters)
        {
            env[s_libpqVariables.TryGetValue(key, out var name)
                ? name
                : throw new ConfigException($"connection URI parameter '{key}' is not supported; supported: {string.Join(", ", s_libpqVariables.Keys)}")] = value;
        }
        return env;
    }

    static readonly Dictionary<string, string> s_libpqVariables = new(StringComparer.Ordinal)
    {
        ["sslmode"] = "PGSSLMODE",
        ["sslrootcert"] = "PGSSLROOTCERT",
        ["sslcert"] = "PGSSLCERT",
        ["sslkey"] = "PGSSLKEY",
        ["sslcrl"] = "PGSSLCRL",
        ["connect_timeout"] = "PGCONNECT_TIMEOUT",
        ["application_name"] = "PGAPPNAME",
        ["service"] = "PGSERVICE",
        ["passfile"] = "PGPASSFILE",
        ["options"] = "PGOPTIONS",
        ["target_session_attrs"] = "PGTARGETSESSIONATTRS",
        ["gssencmode"] = "PGGSSENCMODE",
        ["channel_binding"] = "PGCHANNELBINDING",
    };

    /// <summary>The same URI pointing at another database on the same server (e.g. 'postgres' for CREATE DATABASE).</summary>
    public DatabaseUri WithDatabase(string? database)
    {
        var copy = (DatabaseUri)MemberwiseClone();
        copy.Database = database;
        return copy;
    }

    static int ParsePort(string port) =>
        int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value is > 0 and < 65536
            ? value
            : throw new ConfigException($"the connection URI's port '{port}' is not a number between 1 and 65535");

    /// <summary>Decodes %-escapes in one part of the URI; <paramref name="part"/> names it in messages (never its value).</summary>
    static string Decode(string s, string part = "parameter name")
    {
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(s);
        }
        catch (UriFormatException)
        {
            throw new ConfigException("the connection URI has a malformed %-escape");
        }
        // No client takes a NUL in an argument, an environment variable or a connection string (Npgsql throws on one).
        if (decoded.Contains('\0', StringComparison.Ordinal))
        {
            throw new ConfigException($"the connection URI's {part} holds a NUL character (%00)");
        }
        return decoded;
    }

    static bool IsParameterName(string s)
    {
        if (s.Length is 0 or > 64)
        {
            return false;
        }
        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-')
            {
                return false;
            }
        }
        return true;
    }

    static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
