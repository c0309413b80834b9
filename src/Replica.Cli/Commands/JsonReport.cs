using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

/// <summary>
/// --json on dump, restore, verify, delete, export, import, share and leakcheck: one JSON object on stdout (snake_case, "command" first)
/// instead of the text there, so scripts never parse text lines. Progress, warnings and errors still go to stderr,
/// and the exit code is the same.
/// </summary>
internal static class JsonReport
{
    static readonly JsonSerializerOptions s_options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // The report goes to a terminal or a script, never into HTML: a link's '&' and a name's 'ü' stay as they are
        // instead of \u0026 and \u00FC (JSON escapes of quotes, backslashes and control characters remain).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Option<bool> Option(string what) => new("--json") { Description = $"Print {what} as one JSON object on stdout." };

    public static void Write(object report) => Console.Out.WriteLine(JsonSerializer.Serialize(report, report.GetType(), s_options));

    public static double Seconds(TimeSpan elapsed) => Math.Round(elapsed.TotalSeconds, 3);

    /// <summary>The "manifest" field of `verify --json` and `restore --json`: how far the dump read is authenticated.</summary>
    public static string Manifest(ManifestAuthentication manifest) => manifest switch
    {
        ManifestAuthentication.AuthenticatedWithEntry => "authenticated",
        // A new value, not "authenticated": a script that trusted that word must not trust this dump.
        ManifestAuthentication.OpenedWithPrivateKey => "intact, not authenticated (opened with a private key: anyone holding the recipient's public key could have written it)",
        ManifestAuthentication.Authenticated => "chunk list authenticated; index entry not covered (written by an older version)",
        ManifestAuthentication.WrittenBeforeTags => "not authenticated (written before tags)",
        _ => "not encrypted",
    };
}
