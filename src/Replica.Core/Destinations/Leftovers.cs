using System.Globalization;

namespace Replica.Destinations;

/// <summary>
/// What a killed restore leaves behind carries its process id in its name (a <c>.NAME.PID.RANDOM.partial</c> file, a
/// <c>&lt;db&gt;_replica_&lt;pid&gt;_&lt;time&gt;</c> staging database); the next restore removes those whose process is gone.
/// One place for the "is it gone" rule, shared by every destination.
/// </summary>
internal static class Leftovers
{
    /// <summary>Whether <paramref name="pid"/> is a live process on this machine (this process counts as live).</summary>
    public static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether <paramref name="name"/> is <paramref name="prefix"/> followed by <c>&lt;pid&gt;_&lt;time&gt;_&lt;machine&gt;</c>
    /// (<see cref="TaggedStagingName"/>: a staging database on a server that keeps no comment on a database, MySQL), the
    /// machine is this one (<see cref="MachineTag"/>) and that process no longer runs here. Without the machine in the
    /// name a restore of the same destination from another machine or container, whose process id means nothing here,
    /// had its staging database dropped in a gap with no session on it.
    /// </summary>
    public static bool IsAbandonedStaging(string? name, string prefix) =>
        name is not null && name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith("_" + MachineTag, StringComparison.Ordinal)
        && StagingProcessId(name[..^(MachineTag.Length + 1)], prefix) is { } pid && !IsRunning(pid);

    /// <summary>
    /// Whether <paramref name="name"/> is a staging database's name whose <paramref name="mark"/> (the database's comment)
    /// is <see cref="StagingMark"/> of the process in the name, on this machine, and that process no longer runs here. The
    /// name alone is not enough: a restore of the same destination from another machine or container names its staging
    /// database the same way, with a process id that means nothing here (found by review: a live restore's staging
    /// database was dropped by another host's restore in a gap with no session on it).
    /// </summary>
    public static bool IsAbandonedStaging(string? name, string prefix, string? mark) =>
        StagingProcessId(name, prefix) is { } pid && string.Equals(mark, StagingMark(pid), StringComparison.Ordinal) && !IsRunning(pid);

    /// <summary>The comment a staging database (or a replaced one waiting to be dropped) carries: which process on which machine made it.</summary>
    public static string StagingMark(int processId) =>
        string.Create(CultureInfo.InvariantCulture, $"replica staging database of process {processId} on {Environment.MachineName}");

    /// <summary>The process id in a staging database's name (<paramref name="prefix"/><c>&lt;pid&gt;_&lt;time&gt;</c>), or null.</summary>
    static int? StagingProcessId(string? name, string prefix)
    {
        if (name is null || !name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = name[prefix.Length..].Split('_');
        return rest.Length == 2
            && int.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && long.TryParse(rest[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? pid : null;
    }

    /// <summary>
    /// The most a staging name's <c>&lt;pid&gt;_&lt;time&gt;</c> takes: an int's 10 digits, '_', and 10 digits of Unix
    /// seconds (until the year 2286). A prefix this much shorter than the server's limit keeps every staging name whole.
    /// </summary>
    public const int MaxStagingSuffixLength = 21;

    /// <summary>What <see cref="TaggedStagingName"/> adds to <see cref="MaxStagingSuffixLength"/>: '_' and <see cref="MachineTag"/>.</summary>
    public const int MachineTagSuffixLength = 9;

    /// <summary>
    /// This machine in 8 hex digits (the start of SHA-256 of its host name, as <see cref="StagingMark"/> names it): what a
    /// staging name carries where the server has no comment to hold <see cref="StagingMark"/>.
    /// </summary>
    public static string MachineTag { get; } =
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Environment.MachineName)))[..8];

    /// <summary>A staging database's name: <paramref name="prefix"/>, a process id and a time, as <see cref="IsAbandonedStaging(string?, string, string?)"/> reads them.</summary>
    public static string StagingName(string prefix, int processId, long unixSeconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{processId}_{unixSeconds}");

    /// <summary>A new staging database's name for this process, now.</summary>
    public static string NewStagingName(string prefix) => StagingName(prefix, Environment.ProcessId, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <summary><see cref="StagingName"/> and this machine's <see cref="MachineTag"/>, as <see cref="IsAbandonedStaging(string?, string)"/> reads them.</summary>
    public static string TaggedStagingName(string prefix, int processId, long unixSeconds) => StagingName(prefix, processId, unixSeconds) + "_" + MachineTag;

    /// <summary>A new tagged staging database's name for this process, now.</summary>
    public static string NewTaggedStagingName(string prefix) => TaggedStagingName(prefix, Environment.ProcessId, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <summary>
    /// The longest start of <paramref name="s"/> that takes at most <paramref name="maxBytes"/> bytes in UTF-8, cut between
    /// characters (never inside a character's bytes or a surrogate pair; a lone surrogate counts as the 3 bytes of the
    /// replacement character it is encoded as).
    /// </summary>
    public static string CutToUtf8Bytes(string s, int maxBytes)
    {
        var bytes = 0;
        var end = 0;
        foreach (var rune in s.EnumerateRunes())
        {
            bytes += rune.Utf8SequenceLength;
            if (bytes > maxBytes)
            {
                break;
            }
            end += rune.Utf16SequenceLength;
        }
        return s[..end];
    }

    /// <summary><paramref name="prefix"/> as a SQL LIKE pattern matching every name that starts with it.</summary>
    public static string LikePrefix(string prefix) =>
        prefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal) + "%";
}
