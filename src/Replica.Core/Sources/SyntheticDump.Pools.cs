using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Replica.Sources;

/// <summary>How a value is escaped inside the dump; each pool is encoded once per style, never per row.</summary>
internal enum SyntheticEscape
{
    /// <summary>COPY text format: backslash, tab, newline and carriage return as \\ \t \n \r
    /// (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format").</summary>
    CopyText,

    /// <summary>A PostgreSQL string literal with standard_conforming_strings on: only the quote doubles
    /// (https://www.postgresql.org/docs/15/sql-syntax-lexical.html#SQL-SYNTAX-STRINGS).</summary>
    PostgresLiteral,

    /// <summary>A MySQL string literal as mysqldump writes it (mysql_real_escape_string: \0 \n \r \\ \' \" \Z; a tab stays
    /// raw), https://dev.mysql.com/doc/refman/8.0/en/string-literals.html.</summary>
    MySqlLiteral,
}

/// <summary>
/// A pool of values pre-encoded as UTF-8 in one blob. The blob ends with <see cref="Padding"/> spare bytes, so a value is
/// copied with one or two fixed-size vector moves however short it is (the row writer over-copies into its slack).
/// </summary>
internal sealed class SyntheticPool
{
    public const int Padding = 64;

    readonly byte[] _blob;
    /// <summary>Per value: its start in the blob (high 32 bits) and its length (low 32 bits), one load per pick.</summary>
    readonly ulong[] _entries;

    public SyntheticPool(IReadOnlyList<string> values, SyntheticEscape escape)
    {
        var blob = new List<byte>();
        _entries = new ulong[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            var encoded = Escape(values[i], escape);
            _entries[i] = (ulong)blob.Count << 32 | (uint)encoded.Length;
            blob.AddRange(encoded);
            MaxLength = Math.Max(MaxLength, encoded.Length);
        }
        blob.AddRange(new byte[Padding]);
        _blob = [.. blob];
    }

    public int Count => _entries.Length;

    public int MaxLength { get; }

    /// <summary>Value <paramref name="index"/> (0 ≤ index &lt; Count, which the caller's multiply-shift pick guarantees).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref byte Get(int index, out int length)
    {
        var entry = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), index);
        length = (int)(uint)entry;
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_blob), (nint)(entry >> 32));
    }

    /// <summary>Picks an index from 16 random bits without a division: (bits × Count) / 2^16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Pick(ulong bits) => (int)(((uint)bits & 0xFFFF) * (uint)_entries.Length >> 16);

    public static byte[] Escape(string value, SyntheticEscape escape)
    {
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (escape)
            {
                case SyntheticEscape.CopyText:
                    sb.Append(c switch
                    {
                        '\\' => @"\\",
                        '\t' => @"\t",
                        '\n' => @"\n",
                        '\r' => @"\r",
                        _ => c.ToString(),
                    });
                    break;
                case SyntheticEscape.PostgresLiteral:
                    sb.Append(c == '\'' ? "''" : c.ToString());
                    break;
                default:
                    sb.Append(c switch
                    {
                        '\\' => @"\\",
                        '\'' => @"\'",
                        '"' => "\\\"",
                        '\n' => @"\n",
                        '\r' => @"\r",
                        '\0' => @"\0",
                        '\x1a' => @"\Z",
                        _ => c.ToString(),
                    });
                    break;
            }
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}

/// <summary>The raw values the rows are drawn from: names and places of many scripts, awkward notes, multi-line text.</summary>
internal static class SyntheticData
{
    /// <summary>First names and the ASCII form an email address uses.</summary>
    public static readonly (string Name, string Slug)[] FirstNames =
    [
        ("Anna", "anna"), ("Ben", "ben"), ("Zoë", "zoe"), ("Łukasz", "lukasz"), ("José", "jose"), ("François", "francois"),
        ("Søren", "soren"), ("Ana", "ana"), ("Mei", "mei"), ("Hiroshi", "hiroshi"), ("Olga", "olga"), ("Mohammed", "mohammed"),
        ("Aisha", "aisha"), ("Liam", "liam"), ("Emma", "emma"), ("Noah", "noah"), ("Sofía", "sofia"), ("João", "joao"),
        ("Björn", "bjorn"), ("Chloé", "chloe"), ("Dmitri", "dmitri"), ("Priya", "priya"), ("Wei", "wei"), ("Fatima", "fatima"),
        ("Seán", "sean"), ("Ingrid", "ingrid"), ("Mateusz", "mateusz"), ("Yuki", "yuki"), ("Émile", "emile"), ("Ólafur", "olafur"),
        ("花子", "hanako"), ("Jürgen", "jurgen"),
    ];

    public static readonly (string Name, string Slug)[] LastNames =
    [
        ("Müller", "muller"), ("O'Brien", "obrien"), ("Smith", "smith"), ("García", "garcia"), ("Nowak", "nowak"),
        ("Kowalski", "kowalski"), ("Rossi", "rossi"), ("Dubois", "dubois"), ("Jensen", "jensen"), ("Silva", "silva"),
        ("Conceição", "conceicao"), ("Nguyen", "nguyen"), ("Kim", "kim"), ("Tanaka", "tanaka"), ("王", "wang"), ("李", "li"),
        ("Иванов", "ivanov"), ("Schröder", "schroder"), ("Fernández", "fernandez"), ("D'Angelo", "dangelo"),
        ("Ó Súilleabháin", "osullivan"), ("van der Berg", "vanderberg"), ("Öztürk", "ozturk"), ("Papadopoulos", "papadopoulos"),
        ("Håkansson", "hakansson"), ("Kovač", "kovac"), ("Brown", "brown"), ("Wilson", "wilson"), ("Lefèvre", "lefevre"),
        ("Johansson", "johansson"), ("Murphy", "murphy"), ("Weiß", "weiss"),
    ];

    /// <summary>City, country, and the phone prefix of that city (a number follows: "+49 30 1234567").</summary>
    public static readonly (string City, string Country, string Phone)[] Places =
    [
        ("Berlin", "Germany", "+49 30 "), ("München", "Germany", "+49 89 "), ("Köln", "Germany", "+49 221 "),
        ("Paris", "France", "+33 1 "), ("Lyon", "France", "+33 4 "), ("London", "United Kingdom", "+44 20 "),
        ("Dublin", "Ireland", "+353 1 "), ("Madrid", "Spain", "+34 91 "), ("São Paulo", "Brazil", "+55 11 "),
        ("Lisboa", "Portugal", "+351 21 "), ("Kraków", "Poland", "+48 12 "), ("Warszawa", "Poland", "+48 22 "),
        ("Zürich", "Switzerland", "+41 44 "), ("Wien", "Austria", "+43 1 "), ("Roma", "Italy", "+39 06 "),
        ("Milano", "Italy", "+39 02 "), ("Amsterdam", "Netherlands", "+31 20 "), ("København", "Denmark", "+45 3"),
        ("Stockholm", "Sweden", "+46 8 "), ("Oslo", "Norway", "+47 2"), ("Reykjavík", "Iceland", "+354 5"),
        ("Helsinki", "Finland", "+358 9 "), ("Praha", "Czechia", "+420 2 "), ("İstanbul", "Türkiye", "+90 212 "),
        ("東京", "Japan", "+81 3 "), ("北京", "China", "+86 10 "), ("New York", "United States", "+1 212 "),
        ("Montréal", "Canada", "+1 514 "), ("Ciudad de México", "Mexico", "+52 55 "), ("Αθήνα", "Greece", "+30 21 "),
        ("Москва", "Russia", "+7 495 "), ("Sydney", "Australia", "+61 2 "),
    ];

    public static readonly string[] Streets =
    [
        "Hauptstraße", "Rue de la Paix", "Main Street", "Calle Mayor", "Via Roma", "ul. Długa", "Baker Street", "Rua Augusta",
        "Kungsgatan", "Nørrebrogade", "Bahnhofstraße", "O'Connell Street", "Avenue des Champs-Élysées", "Gran Vía",
        "Karl-Marx-Allee", "Avenida Paulista",
    ];

    /// <summary>Reserved example domains (RFC 2606), so a generated address can never reach anyone.</summary>
    public static readonly string[] Domains = ["example.com", "example.org", "example.net", "mail.example.com", "shop.example"];

    public static readonly string[] Tiers = ["bronze", "silver", "gold", "platinum"];

    public static readonly string[] Tags = ["newsletter", "vip", "b2b", "returns", "mobile", "gift", "early-adopter", "wholesale"];

    public static readonly string[] Statuses = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"];

    /// <summary>Delivery notes, several with a tab, a newline, a carriage return, a backslash or quotes in them.</summary>
    public static readonly string[] Notes =
    [
        "Leave at the door",
        "Please ring twice\tthen wait",
        "Gate code 4711\nCall on arrival",
        @"Path on the label: C:\orders\new",
        "It's a gift – don't open",
        "Fragile: \"glass\"",
        "Nachbar: Frau Müller, 2. OG",
        "配達前に電話してください",
        "Multi-line:\r\nfloor 3\r\nflat 12",
        "Backslash \\ tab\there\nand 'quotes'",
        "line one\n\\.\nnot the end of the data",
        "Bitte nicht knicken",
    ];

    public static readonly string[] Adjectives =
    [
        "Ergonomic", "Rustic", "Sleek", "Handmade", "Gorgeous", "Practical", "Refined", "Small", "Licensed", "Generic",
        "Incredible", "Unbranded", "Crème", "Große", "Tiny", "Awesome",
    ];

    public static readonly string[] Nouns =
    [
        "Chair", "Table", "Lamp", "Shoes", "Gloves", "Bike", "Keyboard", "Mug", "Brûlée Set", "Käsehobel", "Teapot 急須",
        "Ski – 180 cm", "Backpack", "Wallet", "Scarf", "Umbrella",
    ];

    /// <summary>Product descriptions: several lines each, some with quotes, a backslash or a tab.</summary>
    public static readonly string[] Descriptions =
    [
        "Solid oak.\nAssembly required.\nCare: wipe with a damp cloth.",
        "Size: 10\" x 12\"\nWeight: 2 kg",
        "Made in Portugal.\nMaterial: 100 % cotton\nWash at 30 °C",
        "Der Klassiker.\nMit Zubehör.",
        "It's the one you've been waiting for.\n\nNow in blue.",
        "Dimensions:\tW 40 cm\tH 80 cm\nPath: \\\\server\\catalog",
        "手作りの急須。\n容量 350 ml",
        "Single line, no surprises",
    ];
}
