namespace Replica.Scanning;

/// <summary>
/// Splits a column or table name into lower-case words: snake_case, kebab-case, camelCase, PascalCase, "Spaced Names",
/// and letters apart from digits. "customerEmailAddress2" → customer, email, address, 2; "IPAddress" → ip, address.
/// </summary>
public static class NameTokens
{
    public static string[] Split(string name)
    {
        var tokens = new List<string>();
        var start = -1;
        for (var i = 0; i <= name.Length; i++)
        {
            var boundary = i == name.Length || !char.IsLetterOrDigit(name[i]);
            if (!boundary && start >= 0)
            {
                var previous = name[i - 1];
                var current = name[i];
                boundary =
                    // fooBar: lower → upper.
                    (char.IsLower(previous) && char.IsUpper(current))
                    // IPAddress: the last capital of a run starts the next word when a lower-case letter follows it.
                    || (char.IsUpper(previous) && char.IsUpper(current) && i + 1 < name.Length && char.IsLower(name[i + 1]))
                    // address1, 2fa: letters apart from digits.
                    || (char.IsDigit(previous) != char.IsDigit(current));
                if (boundary)
                {
                    tokens.Add(name[start..i].ToLowerInvariant());
                    start = i;
                }
                continue;
            }
            if (boundary)
            {
                if (start >= 0)
                {
                    tokens.Add(name[start..i].ToLowerInvariant());
                    start = -1;
                }
            }
            else
            {
                start = i;
            }
        }
        return [.. tokens];
    }
}
