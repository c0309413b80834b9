namespace Replica;

/// <summary>
/// One SQL step of the config that a destination runs (destination.after_restore, sanitize.statements): its text, ${VAR} expanded, and
/// where it was written, for messages ("destination.after_restore[1] (file /etc/replica/staging.sql)"). Here, beside
/// WipeMode, because both the config and the destinations use it.
/// </summary>
public sealed record SqlStep(string Sql, string Origin)
{
    /// <summary>
    /// The values ${VAR} put into <see cref="Sql"/> (tokens, passwords ...): the client that runs the step repeats its
    /// text in its errors (psql's "LINE 1: ..."), so they are scrubbed from what it prints.
    /// </summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>
    /// The values worth scrubbing: of 3 characters or more (scrubbing a "1" would hide every line number and hides no
    /// secret), each once. ToolProcess scrubs them longest first.
    /// </summary>
    public static IReadOnlyList<string> SecretsOf(IEnumerable<string> values) =>
        [.. values.Where(value => value.Length >= 3).Distinct(StringComparer.Ordinal)];
}
