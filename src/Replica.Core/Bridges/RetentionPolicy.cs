namespace Replica.Bridges;

/// <summary>
/// Which dumps `replica delete` removes. A dump is kept when it is among the newest <see cref="KeepLast"/> or younger
/// than <see cref="OlderThan"/>; every other dump is deleted. With only --older-than, every dump older than it goes;
/// with only --keep-last, all but the newest N go; with both, old dumps go except the newest N (so a bridge that stopped
/// receiving dumps is never emptied by age alone).
/// </summary>
public sealed class RetentionPolicy
{
    /// <summary>Validates and builds a policy; see <see cref="Parse"/> for user input.</summary>
    public RetentionPolicy(TimeSpan? olderThan, int? keepLast)
    {
        if (olderThan is null && keepLast is null)
        {
            throw new ArgumentException("A retention policy needs an age (older than) or a count (keep last), or both.");
        }
        if (olderThan < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan, "The age must not be negative.");
        }
        if (keepLast < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(keepLast), keepLast, "The count must not be negative.");
        }
        OlderThan = olderThan;
        KeepLast = keepLast;
    }

    /// <summary>Dumps whose age (now - created_at) is greater than this may be deleted; null: age does not matter.</summary>
    public TimeSpan? OlderThan { get; }

    /// <summary>The newest N dumps are always kept; null: count does not matter.</summary>
    public int? KeepLast { get; }

    /// <summary>
    /// Builds a policy from the options of `replica delete`. Bad input is a <see cref="ConfigException"/> whose key
    /// names the option ("--older-than", "--keep-last"), so the CLI shows its message as is and exits with the
    /// configuration exit code.
    /// </summary>
    public static RetentionPolicy Parse(string? olderThan, int? keepLast)
    {
        TimeSpan? age = null;
        if (olderThan is not null)
        {
            if (!TryParseDuration(olderThan, out TimeSpan parsed))
            {
                throw new ConfigException(
                    $"'{olderThan}' is not a duration; write a whole number and a unit: d (days), h (hours), m (minutes), "
                    + "s (seconds) or w (weeks), e.g. 14d, 12h, 30m, or combined as 1d12h.",
                    key: "--older-than");
            }
            age = parsed;
        }
        if (keepLast < 0)
        {
            throw new ConfigException($"{keepLast} is not a count of dumps to keep; give 0 or more.", key: "--keep-last");
        }
        if (age is null && keepLast is null)
        {
            throw new ConfigException("Say which dumps to delete: --older-than <duration>, --keep-last <count>, or both.");
        }
        return new RetentionPolicy(age, keepLast);
    }

    /// <summary>
    /// Parses "14d", "12h", "30m", "45s", "2w" or a sequence such as "1d12h". Units are lower case only ('m' is minutes,
    /// never months). Zero is allowed; signs, spaces, fractions and overflow are not.
    /// </summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        long totalSeconds = 0;
        int i = 0;
        while (i < text.Length)
        {
            int digitsStart = i;
            long number = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                number = number * 10 + (text[i] - '0');
                if (number > 1_000_000_000)
                {
                    return false;
                }
                i++;
            }
            if (i == digitsStart || i == text.Length)
            {
                return false;
            }
            long unitSeconds = text[i] switch
            {
                'w' => 7 * 86_400,
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => 0,
            };
            if (unitSeconds == 0)
            {
                return false;
            }
            i++;
            totalSeconds += number * unitSeconds;
            if (totalSeconds > (long)TimeSpan.MaxValue.TotalSeconds)
            {
                return false;
            }
        }
        duration = TimeSpan.FromSeconds(totalSeconds);
        return true;
    }

    /// <summary>
    /// The dumps to delete from <paramref name="dumps"/> (e.g. <see cref="IBridge.ListAsync"/>), oldest first. Pure: the
    /// caller deletes them, or only prints them for --dry-run.
    /// </summary>
    public IReadOnlyList<DumpEntry> SelectForDeletion(IReadOnlyList<DumpEntry> dumps, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(dumps);
        var newestFirst = new List<DumpEntry>(dumps);
        newestFirst.Sort((x, y) => DumpOrdering.OldestFirst(y, x));

        long nowMs = now.ToUnixTimeMilliseconds();
        var selected = new List<DumpEntry>();
        for (int i = 0; i < newestFirst.Count; i++)
        {
            DumpEntry dump = newestFirst[i];
            if (KeepLast is int keep && i < keep)
            {
                continue;
            }
            if (OlderThan is TimeSpan age && nowMs - dump.CreatedAt <= (long)age.TotalMilliseconds)
            {
                continue;
            }
            selected.Add(dump);
        }
        selected.Reverse();
        return selected;
    }
}
