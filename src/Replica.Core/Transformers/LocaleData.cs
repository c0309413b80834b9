using System.Collections.Concurrent;
using System.Text;
using Bogus.Bson;

namespace Replica.Transformers;

/// <summary>
/// Bogus's locale data for one locale, extracted once per process into pre-encoded UTF-8 lists, so a fake costs one
/// SipHash and a few array lookups instead of a seeded Randomizer per value. Lists missing in a locale fall back to
/// "en", as Bogus itself does. Bogus formats such as "#{city_prefix} #{Name.first_name}#{city_suffix}" or "###-####"
/// are compiled here into parts: literal bytes, references to other lists, and digit placeholders.
/// </summary>
internal sealed class LocaleData
{
    static readonly ConcurrentDictionary<string, Lazy<LocaleData>> s_cache = new(StringComparer.OrdinalIgnoreCase);
    static readonly Lazy<string[]> s_allNames = new(() =>
    {
        var names = Bogus.Database.GetAllLocales().ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    });

    // Fewer ASCII names than this in a locale (ru, ja, zh...) and e-mail addresses and usernames use the "en" names.
    const int MinSlugCount = 20;

    LocaleData(string locale)
    {
        Locale = locale;
        var compiler = new Compiler(locale);
        FirstNames = compiler.FirstNames();
        LastNames = compiler.LastNames();
        Cities = compiler.List("address", "city");
        StreetAddresses = compiler.List("address", "street_address");
        Countries = compiler.List("address", "country");
        Companies = compiler.List("company", "name");
        PhoneNumbers = compiler.List("phone_number", "formats");
        ExampleDomains = compiler.List("internet", "example_email").Literals();

        var english = string.Equals(locale, "en", StringComparison.OrdinalIgnoreCase) ? null : Get("en");
        FirstNameSlugs = Slugs(FirstNames, english?.FirstNameSlugs);
        LastNameSlugs = Slugs(LastNames, english?.LastNameSlugs);
    }

    public static IReadOnlyList<string> AllNames => s_allNames.Value;

    public static bool Exists(string locale) => Array.IndexOf(s_allNames.Value, locale) >= 0;

    public static LocaleData Get(string locale) =>
        s_cache.GetOrAdd(locale, static l => new Lazy<LocaleData>(() => new LocaleData(l))).Value;

    public string Locale { get; }

    public FakeList FirstNames { get; }

    public FakeList LastNames { get; }

    public FakeList Cities { get; }

    public FakeList StreetAddresses { get; }

    public FakeList Countries { get; }

    public FakeList Companies { get; }

    public FakeList PhoneNumbers { get; }

    /// <summary>example.com, example.org, example.net: domains nobody receives mail for.</summary>
    public byte[][] ExampleDomains { get; }

    /// <summary>First names as lower-case ASCII letters and digits, for e-mail addresses and usernames.</summary>
    public byte[][] FirstNameSlugs { get; }

    public byte[][] LastNameSlugs { get; }

    static byte[][] Slugs(FakeList names, byte[][]? fallback)
    {
        var slugs = new List<byte[]>();
        foreach (var name in names.Literals())
        {
            var slug = new List<byte>(name.Length);
            bool ascii = true;
            foreach (byte b in name)
            {
                if (b >= 0x80)
                {
                    ascii = false;
                    break;
                }

                char c = char.ToLowerInvariant((char)b);
                if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
                {
                    slug.Add((byte)c);
                }
            }

            if (ascii && slug.Count > 0)
            {
                slugs.Add([.. slug]);
            }
        }

        return slugs.Count < MinSlugCount && fallback is not null ? fallback : [.. slugs];
    }

    /// <summary>Turns Bogus's BSON lists into compiled <see cref="FakeList"/>s, resolving references once.</summary>
    sealed class Compiler
    {
        readonly string _locale;
        readonly BObject _data;
        readonly BObject _english;
        readonly Dictionary<string, FakeList> _lists = new(StringComparer.Ordinal);
        readonly HashSet<string> _compiling = new(StringComparer.Ordinal);
        FakeList? _firstNames;
        FakeList? _lastNames;

        public Compiler(string locale)
        {
            _locale = locale;
            _data = Bogus.Database.GetLocale(locale);
            _english = Bogus.Database.GetLocale("en");
        }

        public FakeList FirstNames() => _firstNames ??= Names("first_name", "male_first_name", "female_first_name", "first_name_men", "first_name_women");

        public FakeList LastNames() => _lastNames ??= Names("last_name", "male_last_name", "female_last_name");

        // Some locales split names by gender only (ru, cz, sv): their union is the locale's list.
        FakeList Names(string key, params string[] genderedKeys)
        {
            if (Find(_data, "name", key) is { } own)
            {
                return Compile("name", key, own, isPhone: false);
            }

            var union = new List<string>();
            foreach (var gendered in genderedKeys)
            {
                if (Find(_data, "name", gendered) is { } array)
                {
                    for (int i = 0; i < array.Count; i++)
                    {
                        union.Add(array[i].StringValue);
                    }
                }
            }

            if (union.Count > 0)
            {
                return CompileStrings("name", key, union, isPhone: false);
            }

            return Compile("name", key, Find(_english, "name", key)!, isPhone: false);
        }

        public FakeList List(string category, string key)
        {
            var id = category + "." + key;
            if (_lists.TryGetValue(id, out var list))
            {
                return list;
            }

            if (category == "name" && key == "first_name")
            {
                return FirstNames();
            }

            if (category == "name" && key == "last_name")
            {
                return LastNames();
            }

            var array = Find(_data, category, key) ?? Find(_english, category, key);
            if (array is not null && _compiling.Add(id))
            {
                try
                {
                    list = Compile(category, key, array, isPhone: category == "phone_number");
                }
                finally
                {
                    _compiling.Remove(id);
                }
            }
            else if (key.Contains("first_name", StringComparison.Ordinal))
            {
                // e.g. "Name.man_last_name" in cz is a typo in Bogus's data; names of the right kind are what was meant.
                list = FirstNames();
            }
            else if (key.Contains("last_name", StringComparison.Ordinal))
            {
                list = LastNames();
            }
            else
            {
                list = FakeList.Empty;
            }

            _lists[id] = list;
            return list;
        }

        static BArray? Find(BObject root, string category, string key) =>
            root.TryGetValue(category, out var section) && section is BObject obj
            && obj.TryGetValue(key, out var value) && value is BArray { Count: > 0 } array
                ? array
                : null;

        FakeList Compile(string category, string key, BArray array, bool isPhone)
        {
            var strings = new List<string>(array.Count);
            for (int i = 0; i < array.Count; i++)
            {
                strings.Add(array[i].StringValue);
            }

            return CompileStrings(category, key, strings, isPhone);
        }

        FakeList CompileStrings(string category, string key, List<string> strings, bool isPhone)
        {
            var entries = new FakeEntry[strings.Count];
            for (int i = 0; i < strings.Count; i++)
            {
                entries[i] = CompileEntry(category, strings[i], isPhone);
            }

            var list = new FakeList(entries);
            _lists[category + "." + key] = list;
            return list;
        }

        FakeEntry CompileEntry(string category, string format, bool isPhone)
        {
            if (format.IndexOf('#') < 0 && (!isPhone || format.IndexOf('!') < 0))
            {
                return new FakeEntry(Encoding.UTF8.GetBytes(format));
            }

            var parts = new List<FakePart>();
            var literal = new StringBuilder();
            void Flush()
            {
                if (literal.Length > 0)
                {
                    parts.Add(FakePart.OfLiteral(Encoding.UTF8.GetBytes(literal.ToString())));
                    literal.Clear();
                }
            }

            for (int i = 0; i < format.Length; i++)
            {
                char c = format[i];
                int close;
                if (c == '#' && i + 1 < format.Length && format[i + 1] == '{' && (close = format.IndexOf('}', i + 2)) > 0)
                {
                    Flush();
                    var reference = format.Substring(i + 2, close - i - 2);
                    int dot = reference.IndexOf('.');
                    var refCategory = dot < 0 ? category : reference[..dot].ToLowerInvariant();
                    var refKey = dot < 0 ? reference : reference[(dot + 1)..];
                    parts.Add(FakePart.OfList(List(refCategory, refKey)));
                    i = close;
                }
                else if (c == '#')
                {
                    Flush();
                    parts.Add(FakePart.Digit(0));
                }
                else if (c == '!' && isPhone)
                {
                    Flush();
                    parts.Add(FakePart.Digit(2));
                }
                else
                {
                    literal.Append(c);
                }
            }

            Flush();
            return new FakeEntry([.. parts]);
        }
    }
}

/// <summary>A compiled list of fake values; one is picked per value by the value's <see cref="HashStream"/>.</summary>
internal sealed class FakeList(FakeEntry[] entries)
{
    public static readonly FakeList Empty = new([new FakeEntry(Array.Empty<byte>())]);

    readonly FakeEntry[] _entries = entries;

    public int Count => _entries.Length;

    /// <summary>
    /// 1 / the chance that two draws give the same value: an entry is picked uniformly and its placeholders each
    /// uniformly, so a value of an entry with m outcomes has probability 1/(n·m), and the chance is Σ 1/(n²·m).
    /// For a list of plain values it is the number of entries.
    /// </summary>
    public double PoolSize
    {
        get
        {
            var chance = 0.0;
            foreach (var entry in _entries)
            {
                chance += 1.0 / entry.Outcomes;
            }
            return (double)_entries.Length * _entries.Length / chance;
        }
    }

    public void Append(ref HashStream random, ByteBuilder builder) =>
        _entries[random.NextBelow(_entries.Length)].Append(ref random, builder);

    /// <summary>The entries that are plain values (no placeholders).</summary>
    public byte[][] Literals()
    {
        var literals = new List<byte[]>(_entries.Length);
        foreach (var entry in _entries)
        {
            if (entry.Literal is { Length: > 0 } literal)
            {
                literals.Add(literal);
            }
        }

        return [.. literals];
    }
}

internal sealed class FakeEntry
{
    readonly FakePart[]? _parts;

    public FakeEntry(byte[] literal) => Literal = literal;

    public FakeEntry(FakePart[] parts) => _parts = parts;

    public byte[]? Literal { get; }

    /// <summary>How many values this entry can give (a placeholder multiplies them).</summary>
    public double Outcomes
    {
        get
        {
            if (Literal is not null)
            {
                return 1;
            }
            var outcomes = 1.0;
            foreach (var part in _parts!)
            {
                outcomes *= part.Bytes is not null ? 1 : part.List is not null ? part.List.PoolSize : 10 - part.MinDigit;
            }
            return outcomes;
        }
    }

    public void Append(ref HashStream random, ByteBuilder builder)
    {
        if (Literal is not null)
        {
            builder.Append(Literal);
            return;
        }

        foreach (var part in _parts!)
        {
            if (part.Bytes is not null)
            {
                builder.Append(part.Bytes);
            }
            else if (part.List is not null)
            {
                part.List.Append(ref random, builder);
            }
            else
            {
                builder.Append((byte)('0' + part.MinDigit + random.NextBelow(10 - part.MinDigit)));
            }
        }
    }
}

/// <summary>Literal bytes, a reference to another list, or a digit placeholder ('#' any digit, '!' 2-9).</summary>
internal readonly struct FakePart
{
    FakePart(byte[]? bytes, FakeList? list, int minDigit)
    {
        Bytes = bytes;
        List = list;
        MinDigit = minDigit;
    }

    public byte[]? Bytes { get; }

    public FakeList? List { get; }

    public int MinDigit { get; }

    public static FakePart OfLiteral(byte[] bytes) => new(bytes, null, 0);

    public static FakePart OfList(FakeList list) => new(null, list, 0);

    public static FakePart Digit(int minDigit) => new(null, null, minDigit);
}
