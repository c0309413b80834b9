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

    /// <summary>
    /// Parses <paramref name="uri"/>; the message of a failure never repeats the URI (it may hold a password), its scheme
    /// or its port, and names a parameter only when it can be no piece of a password: it stands after the last '@', and
    /// no parameter whose value is not shown (password=, sslpassword=, an unknown one) stands before it.
    /// </summary>
    /// <remarks>
    /// A password may hold '/', '?', '#', ':' and '@' as they are (libpq requires them percent-encoded), but only where
    /// the URI reads one way: libpq's reading (the user information ends at the first '@', unless a '/' comes before it)
    /// and the readings whose user information ends at a later '@' (an '@' in the password) are all tried, and when
    /// one is well formed and a later '@' could end the user information too, the URI is refused rather than guessed:
    /// postgres://u:p@h/db@x is password p on h with database db@x to libpq, password p@h/db on x to the other reading,
    /// and whichever was wrong would send the password to a host it is not meant for. A '%' followed by two hex digits
    /// is an escape.
    /// </remarks>
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
            // The text before "://" is not shown: a URI written without its scheme puts the user and password there.
            _ => throw new ConfigException("the connection URI's scheme is not supported; use postgres://, postgresql://, mysql:// or mariadb://"),
        };
        var result = new DatabaseUri(kind, scheme);
        var rest = uri[(schemeEnd + 3)..];

        var lastAt = rest.LastIndexOf('@');
        var at = FindUserInfoEnd(rest, kind, lastAt);
        if (at >= 0)
        {
            var userInfo = rest[..at];
            var colon = userInfo.IndexOf(':');
            result.User = NullIfEmpty(Decode(colon < 0 ? userInfo : userInfo[..colon], "user name"));
            if (colon >= 0)
            {
                result.Password = Decode(userInfo[(colon + 1)..], "password");
            }
        }

        var address = ReadAddress(rest[(at + 1)..], kind);
        if (address.Error is { } error)
        {
            throw new ConfigException(error);
        }
        if (address.Port is { } portText)
        {
            result.Port = ParsePort(portText);
        }
        if (address.Host is { } hostText)
        {
            result.Host = NullIfEmpty(Decode(hostText, "host"));
        }
        if (address.Database is { } databaseText)
        {
            result.Database = Decode(databaseText, "database name");
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var unnamed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (keyText, valueText, index, number, afterHidden) in address.Parameters)
        {
            var key = Decode(keyText);
            // password=Secr3t&abcdef=1 is one password with an unencoded '&' as much as two parameters: 'abcdef' is not shown.
            if (IsParameterName(key) && !afterHidden && at + 1 + index > lastAt)
            {
                unnamed.Remove(key);
            }
            else
            {
                unnamed[key] = number;
            }
            parameters[key] = Decode(valueText, NameOfParameter(key, unnamed));
        }
        result._unnamedParameters = unnamed;

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
    /// Where the user information ends: the index of its '@', or -1 for none. The readings tried are libpq's (up to the
    /// first '@' when no '/' comes before it, as conninfo_uri_parse_options in libpq's fe-connect.c reads it) and each
    /// later '@' after a user name (up to its ':') without '/', '?' or '#'. The one well-formed reading must be the last
    /// of them: with none, the rest after the last '@' says what is wrong; with another after it, the URI is refused unread.
    /// </summary>
    static int FindUserInfoEnd(string rest, DatabaseKind kind, int lastAt)
    {
        var firstAt = rest.IndexOf('@');
        var firstSlash = rest.IndexOf('/');
        var libpqAt = firstAt >= 0 && (firstSlash < 0 || firstAt < firstSlash) ? firstAt : -1;
        var found = -2;
        for (var at = libpqAt; ; at = rest.IndexOf('@', at + 1))
        {
            if (at == libpqAt || IsUserInfo(rest.AsSpan(0, at)))
            {
                // Not guessed: the password (or a piece of it) would reach the host of whichever reading was wrong. A later
                // '@' that could end the user information is one too many even where its own reading is not well formed
                // (postgres://u:q@h:99/db@db.internal:99999/shop would send q to h).
                if (found != -2)
                {
                    throw new ConfigException(ReadsTwoWays);
                }
                if (ReadAddress(rest[(at + 1)..], kind).Error is null)
                {
                    found = at;
                }
            }
            if (at == lastAt)
            {
                break;
            }
        }
        if (found == -2)
        {
            // The rest after the last '@' then says what is wrong with it, unless only the user name is.
            if (lastAt >= 0 && ReadAddress(rest[(lastAt + 1)..], kind).Error is null)
            {
                throw new ConfigException(UnclearUserInfo);
            }
            return lastAt;
        }
        // A parameter the reading does not know may be a piece of a password that holds '?': name none before the last '@'.
        var offset = found + 1;
        foreach (var parameter in ReadAddress(rest[offset..], kind).Parameters)
        {
            if (!IsKnownParameter(parameter.Key, kind) && offset + parameter.Index < lastAt)
            {
                throw new ConfigException("a connection URI parameter is not supported, or the password holds '?' or '@': percent-encode the password (%3F, %40)");
            }
        }
        return found;
    }

    const string ReadsTwoWays =
        "the connection URI reads two ways: an '@' in it may end the password or stand in the password, the host, the database name "
        + "or a parameter, and each reading sends the password to another host; percent-encode every '@' but the one before the host "
        + "(as %40), in the password and in the database name alike";

    const string UnclearUserInfo =
        "the connection URI's user name and password cannot be told apart from the rest: percent-encode '/', '?' and '#' in the user name "
        + "and '@' in the database name or a parameter (%2F, %3F, %23, %40)";

    /// <summary>A user name (up to the first ':') holds none of the characters that end libpq's authority.</summary>
    static bool IsUserInfo(ReadOnlySpan<char> userInfo)
    {
        var colon = userInfo.IndexOf(':');
        return (colon < 0 ? userInfo : userInfo[..colon]).IndexOfAny('/', '?', '#') < 0;
    }

    /// <summary>Whether <see cref="ToString"/> leaves the parameter's value out (a password, or one Replica does not know).</summary>
    static bool HidesValue(string key, DatabaseKind kind) => key is "password" or "sslpassword" || !IsKnownParameter(key, kind);

    static bool IsKnownParameter(string key, DatabaseKind kind) =>
        key is "host" or "port" or "user" or "password" or "dbname"
        || (kind == DatabaseKind.PostgreSql ? s_libpqVariables.ContainsKey(key) : MysqlOptionFile.IsSupportedParameter(key));

    /// <summary>
    /// One parameter as written: <c>Index</c> is its offset in the text read, <c>Number</c> its 1-based place among the
    /// parameters, <c>AfterHidden</c> whether a parameter whose value is never shown stands before it (its '&amp;' may
    /// be one inside that value, a password's).
    /// </summary>
    readonly record struct Parameter(string Key, string Value, int Index, int Number, bool AfterHidden);

    /// <summary>host[:port][/database][?name=value&amp;...] as written (undecoded), or the first thing wrong with it.</summary>
    readonly record struct Address(string? Host, string? Port, string? Database, List<Parameter> Parameters, string? Error);

    /// <summary>
    /// Reads what follows the user information. The messages name no part of <paramref name="text"/> but a parameter name
    /// (the caller reads the rest after the last '@' when it reports one, so that name is no part of a password), and
    /// that only before any parameter whose value is not shown.
    /// </summary>
    static Address ReadAddress(string text, DatabaseKind kind)
    {
        var parameters = new List<Parameter>();
        var query = text.IndexOf('?');
        if (query >= 0)
        {
            var index = query + 1;
            var number = 0;
            var afterHidden = false;
            foreach (var pair in text[(query + 1)..].Split('&'))
            {
                number++;
                var eq = pair.IndexOf('=');
                if (pair.Length > 0)
                {
                    if (eq <= 0)
                    {
                        // Named only when it looks like a parameter name and follows no hidden value: a stray '?hunter2'
                        // may be a misplaced password, '&abcdef' the tail of password=Secr3t&abcdef.
                        var name = eq < 0 ? pair : pair[..eq];
                        return Failure(IsParameterName(name) && !afterHidden
                            ? $"connection URI parameter '{name}' has no value (expected name=value)"
                            : $"connection URI parameter number {number} has no name or no value (expected ?name=value&name=value; its text is not shown, "
                                + "it may be a piece of a password: percent-encode '&' in a password as %26)");
                    }
                    parameters.Add(new(pair[..eq], pair[(eq + 1)..], index, number, afterHidden));
                    afterHidden |= HidesValue(Uri.UnescapeDataString(pair[..eq]), kind);
                }
                index += pair.Length + 1;
            }
            text = text[..query];
        }

        string? database = null;
        var slash = text.IndexOf('/');
        if (slash >= 0)
        {
            // An '@' in the database name is libpq's reading; FindUserInfoEnd refuses the URI when another reads too.
            if (slash + 1 < text.Length)
            {
                database = text[(slash + 1)..];
            }
            text = text[..slash];
        }

        if (text.Contains('@'))
        {
            return Failure(UnclearUserInfo);
        }
        if (text.Length == 0)
        {
            return new(null, null, database, parameters, null);
        }
        string host;
        string? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0)
            {
                return Failure("the connection URI's IPv6 host has no closing ']'");
            }
            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':')
                {
                    return Failure("the connection URI has characters after the IPv6 host that are not ':port'");
                }
                port = text[(close + 2)..];
            }
        }
        else
        {
            if (text.Contains(','))
            {
                return Failure("connection URIs with several hosts are not supported; name one host");
            }
            var colon = text.LastIndexOf(':');
            host = colon < 0 ? text : text[..colon];
            port = colon < 0 ? null : text[(colon + 1)..];
            if (host.AsSpan().IndexOfAny(":#[]") >= 0)
            {
                return Failure("the connection URI's host holds ':', '#', '[' or ']' (an IPv6 address is written in [brackets])");
            }
        }
        if (port is { Length: 0 })
        {
            port = null;
        }
        if (port is not null && !TryParsePort(port, out _))
        {
            return Failure(PortError);
        }
        return new(host, port, database, parameters, null);

        static Address Failure(string error) => new(null, null, null, [], error);
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
                : throw new ConfigException($"connection URI {NameOfParameter(key)} is not supported; supported: {string.Join(", ", s_libpqVariables.Keys)}")] = value;
        }
        return env;
    }

    /// <summary>
    /// How a message names parameter <paramref name="key"/>: "parameter 'sslmod'", or "parameter number 3 ..." without its
    /// name when the name may be a piece of a password (it follows password= or stands before the user information's '@').
    /// </summary>
    public string NameOfParameter(string key) => NameOfParameter(key, _unnamedParameters);

    static string NameOfParameter(string key, Dictionary<string, int> unnamed) =>
        unnamed.TryGetValue(key, out var number)
            ? $"parameter number {number} (its name is not shown, it may be a piece of a password: percent-encode '&', '?' and '@' in a password)"
            : $"parameter '{key}'";

    // The parameters whose names messages do not show, with their 1-based numbers.
    Dictionary<string, int> _unnamedParameters = new(StringComparer.Ordinal);

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

    const string PortError = "the connection URI's port is not a number between 1 and 65535";

    // The port's text is not shown: a password with an unencoded '/' or '?' once ended up there.
    static int ParsePort(string port) => TryParsePort(port, out var value) ? value : throw new ConfigException(PortError);

    static bool TryParsePort(string port, out int value) =>
        int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value) && value is > 0 and < 65536;

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
