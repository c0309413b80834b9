namespace Replica;

/// <summary>"Did you mean" for config keys and transformer names: the closest candidate within a small edit distance.</summary>
internal static class Suggestions
{
    /// <summary>The closest candidate (case-insensitive, '-' and '_' alike), or null when none is close enough to be a typo.</summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        var normalized = Normalize(input);
        // A third of the length, at least 1 and at most 3 edits: 'colums' -> 'columns', but 'id' does not suggest 'ssn'.
        var limit = Math.Clamp(normalized.Length / 3, 1, 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            // The distance is at least the difference in length; skipping those keeps a huge unknown name (found by
            // fuzzing: a 95 KB transformer name took a second per candidate's distance matrix) from costing anything.
            if (Math.Abs(normalized.Length - candidate.Length) > limit)
            {
                continue;
            }
            var distance = Distance(normalized, Normalize(candidate));
            if (distance <= limit && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>" (did you mean 'x'?)" or "".</summary>
    public static string DidYouMean(string input, IEnumerable<string> candidates)
    {
        var best = Closest(input, candidates);
        return best is null ? "" : $" (did you mean '{best}'?)";
    }

    static string Normalize(string s) => s.ToLowerInvariant().Replace('_', '-');

    /// <summary>Optimal string alignment distance: Levenshtein plus adjacent transpositions ('emial' is one edit from 'email').</summary>
    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    v = Math.Min(v, d[i - 2, j - 2] + 1);
                }
                d[i, j] = v;
            }
        }
        return d[a.Length, b.Length];
    }
}
