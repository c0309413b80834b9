namespace Replica;

/// <summary>
/// One SQL step of the config that a destination runs (destination.after_restore, sanitize.statements): its text, ${VAR} expanded, and
/// where it was written, for messages ("destination.after_restore[1] (file /etc/replica/staging.sql)"). Here, beside
/// WipeMode, because both the config and the destinations use it.
/// </summary>
public sealed record SqlStep(string Sql, string Origin);
