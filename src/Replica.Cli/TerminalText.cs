using System.Buffers;
using System.Globalization;
using System.Text;

namespace Replica.Cli;

/// <summary>
/// Text made safe to show on a terminal: what the CLI prints holds names, messages and values that come from a bridge, a
/// share link, a dump's SQL or a database, and someone who can write the bucket must not be able to drive the terminal
/// with them (found by review: an encryption header's "algorithm" of "ESC]0;owned BEL ESC[2J ESC[32mreplica: d1 is intact"
/// set the window title, cleared the screen and printed a fake "intact" line under `replica verify`). Control characters
/// (C0 but the newline and the tab, DEL, C1 with its one-character CSI U+009B) and the bidirectional overrides and
/// isolates (which reorder what is shown, "Trojan Source") are shown as escapes: \x1b, \x9b, \u202e. A tab only moves
/// the cursor right and a newline ends a line: both are kept.
/// </summary>
internal static class TerminalText
{
    static readonly SearchValues<char> s_unsafe = SearchValues.Create(
        "\0\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
        + "\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f"
        // Arabic letter mark, left-to-right and right-to-left marks, line and paragraph separators, embeddings and
        // overrides (U+202A-202E), isolates (U+2066-2069).
        + "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069");

    /// <summary>True when <paramref name="text"/> holds nothing <see cref="Escape(ReadOnlySpan{char})"/> would change.</summary>
    public static bool IsSafe(ReadOnlySpan<char> text) => Unsafe(text) < 0;

    /// <summary><paramref name="text"/> with every character that could drive a terminal shown as an escape (\x1b, \u202e).</summary>
    public static string Escape(string text) => IsSafe(text) ? text : Escape(text.AsSpan());

    /// <inheritdoc cref="Escape(string)"/>
    public static string Escape(ReadOnlySpan<char> text)
    {
        var escaped = new StringBuilder(text.Length + 16);
        while (text.Length > 0)
        {
            int at = Unsafe(text);
            if (at < 0)
            {
                escaped.Append(text);
                break;
            }
            escaped.Append(text[..at]);
            char c = text[at];
            escaped.Append(c <= '\xff'
                ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}")
                : string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"));
            text = text[(at + 1)..];
        }
        return escaped.ToString();
    }

    /// <summary>The index of the first character to escape, or -1. A carriage return that ends a line ("\r\n") is kept.</summary>
    static int Unsafe(ReadOnlySpan<char> text)
    {
        int from = 0;
        while (true)
        {
            int at = text[from..].IndexOfAny(s_unsafe);
            if (at < 0)
            {
                return -1;
            }
            at += from;
            if (text[at] != '\r' || at + 1 >= text.Length || text[at + 1] != '\n')
            {
                return at;
            }
            from = at + 2;
        }
    }
}
