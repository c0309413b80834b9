using System.Globalization;
using System.Text;
using Replica.Config;
using Replica.Core.Tests.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Sources;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// `replica leakcheck` on dumps stored by the real dump job from small dump files: what a user checks is the leaking
/// column named with its counts, transient columns listed and never counted, small pools not counted by chance, and
/// examples that never show a whole value.
/// </summary>
public sealed class LeakCheckJobTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("replica-leakcheck-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    const string LeakyRules = """
          - table: public.people
            columns:
              email: transient
              notes: { transformer: template, options: { template: '{{email}}' } }
              city: city
              nickname: { transformer: template, options: { template: '{{nickname}}' } }
        """;

    /// <summary>A pg_dump-like file: a table of <paramref name="rows"/> people with its primary key declared after the data.</summary>
    static string PeopleDump(int rows, bool primaryKey = true, bool inserts = false)
    {
        var sql = new StringBuilder("""
            CREATE TABLE public.people (
                id integer NOT NULL,
                email text,
                notes text,
                city text,
                nickname text,
                born date
            );

            """);
        if (!inserts)
        {
            sql.Append("COPY public.people (id, email, notes, city, nickname, born) FROM stdin;\n");
        }
        for (var i = 1; i <= rows; i++)
        {
            var email = $"person{i}.secret@example.org";
            var nickname = i % 5 == 0 ? "\\N" : $"nick-{i:D5}";
            var born = new DateOnly(1970, 1, 1).AddDays(i % 300).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            sql.Append(inserts
                ? $"INSERT INTO public.people (id, email, notes, city, nickname, born) VALUES ({i}, '{email}', 'note {i}', 'Town {i % 7}', {(nickname == "\\N" ? "NULL" : $"'{nickname}'")}, '{born}');\n"
                : $"{i}\t{email}\tnote {i}\tTown {i % 7}\t{nickname}\t{born}\n");
        }
        if (!inserts)
        {
            sql.Append("\\.\n\n");
        }
        if (primaryKey)
        {
            sql.Append("ALTER TABLE ONLY public.people\n    ADD CONSTRAINT people_pkey PRIMARY KEY (id);\n");
        }
        return sql.ToString();
    }

    ReplicaConfig Config(string rules) => ConfigTestHelpers.Parse($"""
        secret: ${"{"}REPLICA_SECRET{"}"}
        locale: en
        bridge:
          local:
            path: {Path.Combine(_directory, "bridge")}
        transformers:
        {rules}
        """);

    string Write(string name, string sql)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, sql);
        return path;
    }

    /// <summary>Stores <paramref name="dumpPath"/> masked by <paramref name="config"/> as dump <paramref name="name"/>, as `replica dump --input` does.</summary>
    static async Task StoreAsync(ReplicaConfig config, string dumpPath, string name, SqlDialect? dialect = null)
    {
        await using var request = await DumpRequest.CreateAsync(config, new DumpOptions { Input = dumpPath, Name = name, Dialect = dialect }, BridgeFactory.Local, CancellationToken.None);
        using var rewriter = request.CreateRewriter();
        await request.RunAsync(rewriter, CancellationToken.None);
    }

    static Task<LeakCheckResult> CheckAsync(ReplicaConfig config, string originalPath, string? name = null, long memory = 64L << 20, SqlDialect dialect = SqlDialect.PostgreSql,
        bool everywhere = false) =>
        LeakCheckJob.RunAsync(config, BridgeFactory.Local.Open(config.Bridge), name, new FileDumpSource(originalPath),
            new LeakCheckOptions { Dialect = dialect, MemoryBytes = memory, Everywhere = everywhere }, null, CancellationToken.None);

    static LeakColumnReport Column(LeakCheckResult result, string column) => Assert.Single(result.Columns, c => c.Column == column);

    [Fact]
    public async Task RunAsync_TemplateCopyingATransientEmail_NamesTheLeakingColumnsAndListsTheTransientOneUnchecked()
    {
        var config = Config(LeakyRules);
        var original = Write("people.sql", PeopleDump(200));
        await StoreAsync(config, original, "leaky");

        var result = await CheckAsync(config, original);

        Assert.Equal(200 + 160, result.Leaks);
        var notes = Column(result, "notes");
        Assert.Equal((200L, 0L, 200L, 200L), (notes.Compared, notes.Unchanged, notes.Copied, notes.Leaks));
        Assert.Equal(["email"], notes.CopiedFrom);
        Assert.Equal("primary key (id)", notes.MatchedBy);
        // The template of nickname writes the value back: 160 of 200 (every 5th is NULL, nothing to leak).
        var nickname = Column(result, "nickname");
        Assert.Equal((160L, 160L, 160L), (nickname.Compared, nickname.Unchanged, nickname.Leaks));
        Assert.Equal(0, Column(result, "city").Leaks);
        Assert.Equal(["public.people.email"], result.Unchecked);
        Assert.DoesNotContain(result.Columns, c => c.Column == "email");
        Assert.Equal((1, 200L, 200L, 0L), (result.Tables, result.OriginalRows, result.StoredRows, result.RowsWithoutOriginal));
        Assert.Equal("leaky", result.Name);
    }

    [Fact]
    public async Task RunAsync_LeakExamples_NeverHoldAWholeOriginalValue()
    {
        var config = Config(LeakyRules);
        var original = Write("people.sql", PeopleDump(50));
        await StoreAsync(config, original, "leaky");

        var result = await CheckAsync(config, original);

        var examples = result.Columns.SelectMany(c => c.Examples).ToList();
        Assert.NotEmpty(examples);
        foreach (var example in examples)
        {
            Assert.Matches(@"^.{0,2}… \(\d+ chars?\)$", example);
            Assert.DoesNotContain("@", example, StringComparison.Ordinal);
            Assert.DoesNotContain("nick-", example, StringComparison.Ordinal);
        }
        // person1.secret@example.org: its first two characters and its length.
        Assert.Contains("pe… (26 chars)", Column(result, "notes").Examples);
    }

    [Fact]
    public async Task RunAsync_QuickstartConfigOnTheSampleDump_FindsNoLeaks()
    {
        var root = ConfigTestHelpers.RepoRoot();
        var yaml = File.ReadAllText(Path.Combine(root, "examples", "replica.yaml")).Replace("path: ./replica-bridge", $"path: {Path.Combine(_directory, "bridge")}", StringComparison.Ordinal);
        var config = ConfigTestHelpers.Parse(yaml);
        var original = Path.Combine(root, "examples", "sample-dump.sql");
        await StoreAsync(config, original, "quickstart");

        var result = await CheckAsync(config, original);

        Assert.Equal(0, result.Leaks);
        Assert.Equal(13, result.Columns.Count);
        Assert.All(result.Columns, c => Assert.True(c.Compared > 0, $"{c.Table}.{c.Column} compared nothing"));
        Assert.Empty(result.Unchecked);
        Assert.Equal(0, result.RowsWithoutOriginal);
    }

    [Fact]
    public async Task RunAsync_SmallPoolGivingValuesBackByChance_IsNoLeak()
    {
        // The originals are the last-name fake's own pool, each 10 times: the fake (deterministic per value) gives a few
        // of them back by chance, with all their rows.
        var names = Replica.Transformers.LocaleData.Get("en").LastNames.Literals().Select(n => Encoding.UTF8.GetString(n)).Distinct().ToList();
        var sql = new StringBuilder("CREATE TABLE public.people (id integer NOT NULL, last_name text);\nCOPY public.people (id, last_name) FROM stdin;\n");
        for (var i = 0; i < names.Count * 10; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"{i + 1}\t{names[i % names.Count]}\n");
        }
        sql.Append("\\.\nALTER TABLE ONLY public.people ADD CONSTRAINT people_pkey PRIMARY KEY (id);\n");
        var config = Config("""
              - table: public.people
                columns:
                  last_name: last-name
            """);
        var original = Write("people.sql", sql.ToString());
        await StoreAsync(config, original, "pool");

        var result = await CheckAsync(config, original);

        var lastName = Column(result, "last_name");
        Assert.Equal(Math.Round(Replica.Transformers.LocaleData.Get("en").LastNames.PoolSize, 1), lastName.PoolSize);
        Assert.True(lastName.Unchanged > 0, "this secret gives some names back");
        Assert.Equal(10 * lastName.UnchangedDistinct, lastName.Unchanged);
        Assert.Equal(0, lastName.Leaks);
        Assert.Empty(lastName.Examples);
        Assert.Equal(0, result.Leaks);
    }

    /// <summary>Items with small quantities, two-character codes and prices: what number-noise and random give back by design.</summary>
    string ItemsDump(int rows, Func<int, int> quantity)
    {
        var sql = new StringBuilder("CREATE TABLE public.items (id integer NOT NULL, quantity integer, code text, price numeric(10,2));\n"
            + "COPY public.items (id, quantity, code, price) FROM stdin;\n");
        for (var i = 1; i <= rows; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"{i}\t{quantity(i)}\t{(char)('A' + i % 26)}{i / 26 % 10}\t{i % 50}.{i % 100:D2}\n");
        }
        sql.Append("\\.\nALTER TABLE ONLY public.items ADD CONSTRAINT items_pkey PRIMARY KEY (id);\n");
        return Write("items.sql", sql.ToString());
    }

    const string NoisyRules = """
          - table: public.items
            columns:
              quantity: { transformer: number-noise, options: { percent: 10 } }
              code: random
              price: { transformer: number-noise, options: { percent: 10 } }
        """;

    [Fact]
    public async Task RunAsync_NumberNoiseOnSmallNumbersAndRandomOnShortCodes_GiveValuesBackByChance_NoLeak()
    {
        var config = Config(NoisyRules);
        var original = ItemsDump(3000, i => i % 12);
        await StoreAsync(config, original, "noisy");

        var result = await CheckAsync(config, original);

        var quantity = Column(result, "quantity");
        Assert.True(quantity.Unchanged > 1000, $"10% noise leaves 0-5 as they are ({quantity.Unchanged} unchanged)");
        Assert.True(quantity.ChanceRate > 0.5, $"chance rate {quantity.ChanceRate}");
        Assert.Null(quantity.PoolSize);
        Assert.Equal(0, quantity.Leaks);
        var code = Column(result, "code");
        Assert.InRange(code.ChanceRate!.Value, 1.0 / 260 - 1e-9, 1.0 / 260 + 1e-9);
        Assert.Equal(0, code.Leaks);
        Assert.Equal(0, Column(result, "price").Leaks);
        Assert.Equal(0, result.Leaks);
    }

    [Fact]
    public async Task RunAsync_NumberNoiseRuleTheDumpDidNotApply_IsALeakBeyondChance()
    {
        // Stored without the rule for quantity (values of 1,000 and more: 10% noise almost always changes them), checked with it.
        var original = ItemsDump(2000, i => 1000 + 37 * i);
        await StoreAsync(Config(NoisyRules.Replace("quantity: { transformer: number-noise, options: { percent: 10 } }", "quantity: transient")), original, "kept");

        var result = await CheckAsync(Config(NoisyRules), original, "kept");

        var quantity = Column(result, "quantity");
        Assert.Equal(2000, quantity.Unchanged);
        Assert.True(quantity.ExpectedDistinctByChance < 5, $"chance explains {quantity.ExpectedDistinctByChance}");
        Assert.InRange(quantity.Leaks, 1990, 2000);
        Assert.NotEmpty(quantity.Examples);
        Assert.Equal(0, Column(result, "code").Leaks);
    }

    [Fact]
    public async Task RunAsync_LatestWithAnOlderCleanDumpsCreatedAtMovedAheadInTheIndex_RefusedAsRestoreRefusesIt()
    {
        // Found by review: leakcheck --latest took the entry index.json put first and checked the older clean dump
        // ("no leak") where restore --latest refuses the edited entry.
        var original = ItemsDump(500, i => 1000 + 37 * i);
        await StoreAsync(Config(NoisyRules), original, "clean");
        await StoreAsync(Config(NoisyRules.Replace("quantity: { transformer: number-noise, options: { percent: 10 } }", "quantity: transient")), original, "kept");
        var indexPath = Path.Combine(_directory, "bridge", "index.json");
        var index = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(indexPath))!;
        var dumps = index["dumps"]!.AsArray();
        long newest = dumps.Max(d => d!["created_at"]!.GetValue<long>());
        dumps.Single(d => d!["name"]!.GetValue<string>() == "clean")!["created_at"] = newest + 60_000;
        File.WriteAllText(indexPath, index.ToJsonString());

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => CheckAsync(Config(NoisyRules), original));

        Assert.Contains("'clean'", ex.Message);
        Assert.Contains("index.json says created_at", ex.Message);
    }

    [Fact]
    public async Task RunAsync_TinyMemoryBudget_SpillsToDiskAndFindsTheSame()
    {
        var config = Config(LeakyRules);
        var original = Write("people.sql", PeopleDump(3000));
        await StoreAsync(config, original, "leaky");

        var inMemory = await CheckAsync(config, original);
        var spilled = await CheckAsync(config, original, memory: 1024);

        Assert.Equal(0, inMemory.SpilledBytes);
        Assert.True(spilled.SpilledBytes > 0);
        Assert.Equal(Counts(inMemory), Counts(spilled));
        Assert.Equal(inMemory.Leaks, spilled.Leaks);

        static string Counts(LeakCheckResult r) => string.Join("; ", r.Columns.Select(c => $"{c.Column} {c.Compared} {c.Unchanged} {c.Copied} {c.Leaks} {c.Examples.Count}"));
    }

    [Fact]
    public async Task RunAsync_TableWithoutPrimaryKey_MatchesRowsByPositionAndSaysSo()
    {
        var config = Config(LeakyRules);
        var original = Write("people.sql", PeopleDump(100, primaryKey: false));
        await StoreAsync(config, original, "nokey");

        var result = await CheckAsync(config, original);

        Assert.Equal("position", Column(result, "notes").MatchedBy);
        Assert.Equal(100, Column(result, "notes").Leaks);
        Assert.Contains(result.Warnings, w => w.Contains("no primary key", StringComparison.Ordinal) && w.Contains("public.people", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_MaskedPrimaryKey_MatchesRowsByPositionAndSaysSo()
    {
        var config = Config(LeakyRules + "\n      id: { transformer: number-noise }");
        var original = Write("people.sql", PeopleDump(100));
        await StoreAsync(config, original, "maskedkey");

        var result = await CheckAsync(config, original);

        Assert.Equal("position", Column(result, "notes").MatchedBy);
        Assert.Equal(100, Column(result, "notes").Leaks);
        Assert.Contains(result.Warnings, w => w.Contains("primary key column id is masked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_InsertStatements_ReadAsCopyRowsAre()
    {
        var config = Config(LeakyRules);
        var original = Write("people.sql", PeopleDump(100, inserts: true));
        await StoreAsync(config, original, "inserts");

        var result = await CheckAsync(config, original);

        Assert.Equal((100L, 80L), (Column(result, "notes").Leaks, Column(result, "nickname").Leaks));
    }

    [Fact]
    public async Task RunAsync_MysqldumpFile_MatchesByItsInlinePrimaryKey()
    {
        var config = Config(LeakyRules.Replace("public.people", "people", StringComparison.Ordinal));
        var rows = string.Join(",", Enumerable.Range(1, 40).Select(i => $"({i},'person{i}@example.org','note {i}','Town {i % 3}',NULL)"));
        var original = Write("people.sql", $"""
            CREATE TABLE `people` (
              `id` int NOT NULL,
              `email` varchar(100) DEFAULT NULL,
              `notes` text,
              `city` varchar(50) DEFAULT NULL,
              `nickname` varchar(50) DEFAULT NULL,
              PRIMARY KEY (`id`)
            ) ENGINE=InnoDB;
            INSERT INTO `people` VALUES {rows};

            """);
        await StoreAsync(config, original, "mysql", SqlDialect.MySql);

        var result = await CheckAsync(config, original, dialect: SqlDialect.MySql);

        var notes = Column(result, "notes");
        Assert.Equal(("primary key (id)", 40L), (notes.MatchedBy, notes.Leaks));
    }

    [Fact]
    public async Task RunAsync_PartitionOfARuledTable_IsCheckedByItsParentsRules()
    {
        var rows = string.Join("", Enumerable.Range(1, 30).Select(i => $"{i}\tperson{i}@example.org\n"));
        var original = Write("events.sql", $"""
            CREATE TABLE public.events (id integer NOT NULL, email text) PARTITION BY RANGE (id);
            CREATE TABLE public.events_1 (id integer NOT NULL, email text);
            ALTER TABLE ONLY public.events ATTACH PARTITION public.events_1 FOR VALUES FROM (0) TO (1000);
            COPY public.events_1 (id, email) FROM stdin;
            {rows}\.

            ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (id);
            ALTER TABLE ONLY public.events_1 ADD CONSTRAINT events_1_pkey PRIMARY KEY (id);

            """);
        var config = Config("""
              - table: public.events
                columns:
                  email: { transformer: template, options: { template: '{{email}}' } }
            """);
        await StoreAsync(config, original, "partitions");

        var result = await CheckAsync(config, original);

        var email = Column(result, "email");
        Assert.Equal(("public.events_1", "primary key (id)", 30L), (email.Table, email.MatchedBy, email.Leaks));
    }

    [Fact]
    public async Task RunAsync_StoredRowsThatTheOriginalLacks_AreCountedNotLeaks()
    {
        var config = Config(LeakyRules);
        var bigger = Write("bigger.sql", PeopleDump(120));
        await StoreAsync(config, bigger, "bigger");
        var original = Write("people.sql", PeopleDump(100));

        var result = await CheckAsync(config, original);

        Assert.Equal(20, result.RowsWithoutOriginal);
        Assert.Equal(100, Column(result, "notes").Leaks);
        Assert.Contains(result.Warnings, w => w.Contains("20 stored rows have no original row", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_OriginalWithoutATableTheDumpHas_IsAClearConfigError()
    {
        var config = Config(LeakyRules);
        await StoreAsync(config, Write("people.sql", PeopleDump(10)), "people");
        var other = Write("other.sql", "CREATE TABLE public.other (id integer);\nCOPY public.other (id) FROM stdin;\n1\n\\.\n");

        var e = await Assert.ThrowsAsync<ConfigException>(() => CheckAsync(config, other));

        Assert.Contains("has no table public.people that dump 'people' holds rows of", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_MalformedOriginal_IsAPositionedDumpError()
    {
        var config = Config(LeakyRules);
        await StoreAsync(config, Write("people.sql", PeopleDump(10)), "people");
        var broken = Write("broken.sql", PeopleDump(10).Replace("\\.\n", "", StringComparison.Ordinal).Replace("3\tperson3", "3\tperson3\textra\tfields\tmore\tthan\tcolumns", StringComparison.Ordinal));

        var e = await Assert.ThrowsAnyAsync<ReplicaException>(() => CheckAsync(config, broken));

        Assert.Equal(ReplicaErrorKind.MalformedDump, e.Kind);
    }

    [Fact]
    public async Task RunAsync_Everywhere_FindsMaskedEmailsCopiedIntoAColumnWithoutARule()
    {
        // email is masked, but notes (no rule) quotes it in free text: only --everywhere sees that.
        var sql = new StringBuilder("CREATE TABLE public.people (id integer NOT NULL, email text, notes text);\nCOPY public.people (id, email, notes) FROM stdin;\n");
        for (var i = 1; i <= 300; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"{i}\tperson{i}.secret@example.org\t{(i % 3 == 0 ? $"write to person{i}.secret@example.org, thanks" : "nothing here")}\n");
        }
        sql.Append("\\.\nALTER TABLE ONLY public.people ADD CONSTRAINT people_pkey PRIMARY KEY (id);\n");
        var config = Config("""
              - table: public.people
                columns:
                  email: email
            """);
        var original = Write("people.sql", sql.ToString());
        await StoreAsync(config, original, "quoted");

        var plain = await CheckAsync(config, original);
        var everywhere = await CheckAsync(config, original, everywhere: true);
        var tiny = await CheckAsync(config, original, memory: 1024, everywhere: true);

        Assert.Equal(0, plain.Leaks);
        Assert.Null(plain.Everywhere);
        var found = everywhere.Everywhere!;
        Assert.Equal((300L, 100L), (found.OriginalTokens, found.Found));
        Assert.Equal(100, found.FoundByKind["e-mail"]);
        Assert.Equal(100, everywhere.Leaks);
        Assert.All(found.Examples, e => Assert.Matches(@"^e-mail pe… \(2\d chars\)$", e));
        Assert.Equal(100, tiny.Everywhere!.Found);
    }

    [Fact]
    public async Task RunAsync_Everywhere_FindsAPhoneNumberWrittenWithOrWithoutItsCountryCode()
    {
        // phone is masked; notes (no rule) quotes the same number in another form in three rows of four, and in one of
        // eight as written (an international number in both: one match, not one per country-code length).
        var sql = new StringBuilder("CREATE TABLE public.people (id integer NOT NULL, phone text, notes text);\nCOPY public.people (id, phone, notes) FROM stdin;\n");
        for (var i = 1; i <= 200; i++)
        {
            var (phone, notes) = (i % 4) switch
            {
                0 => ($"+49 30 1234{i:D4}", $"call 030 1234{i:D4} after 6"),
                1 => ($"030 5555{i:D4}", $"ring +49 (30) 5555{i:D4}"),
                2 => ($"+1 555 123 {i:D4}", $"US office: (555) 123-{i:D4}"),
                _ => ($"+44 20 7946 {i:D4}", i % 8 == 3 ? $"again +44 20 7946 {i:D4} (once)" : "no number here"),
            };
            sql.Append(CultureInfo.InvariantCulture, $"{i}\t{phone}\t{notes}\n");
        }
        sql.Append("\\.\nALTER TABLE ONLY public.people ADD CONSTRAINT people_pkey PRIMARY KEY (id);\n");
        var config = Config("""
              - table: public.people
                columns:
                  phone: phone-number
            """);
        var original = Write("people.sql", sql.ToString());
        await StoreAsync(config, original, "phones");

        var result = await CheckAsync(config, original, everywhere: true);

        Assert.Equal(175, result.Everywhere!.Found);
        Assert.Equal(175, result.Everywhere.FoundByKind["phone"]);
    }

    [Theory]
    [InlineData("493012345678", true, "493012345678 3012345678 03012345678")]
    [InlineData("00493012345678", false, "493012345678 3012345678 03012345678")]
    [InlineData("15551234567", true, "15551234567 5551234567")]
    [InlineData("74951234567", true, "74951234567 4951234567 84951234567")]
    [InlineData("902121234567", true, "902121234567 2121234567 02121234567")]
    [InlineData("35312345678", true, "35312345678 012345678")]
    // +420 2 4010210: its national number has 8 digits, too few to be told from any other; a timestamp's digits
    // 2024-01-02 10 (2024010210) are not a form of it (a country code taken as 1 digit would make 2024010210 one).
    [InlineData("42024010210", true, "42024010210")]
    [InlineData("0301234567", false, "0301234567")]
    [InlineData("030123456", false, "")]
    // A run of digits after a + shorter than its country code (+21 in a sentence): nothing, not an error.
    [InlineData("21", true, "")]
    [InlineData("0035", false, "")]
    public void PhoneForms_InternationalNumbersAreAlsoKnownByTheirNationalForms(string digits, bool international, string expected)
    {
        Span<byte> forms = stackalloc byte[3 * 20];
        Span<int> lengths = stackalloc int[3];
        Span<bool> derived = stackalloc bool[3];

        var count = LeakEverywhere.PhoneForms(Encoding.ASCII.GetBytes(digits), international, forms, lengths, derived);

        var written = new List<string>();
        for (var f = 0; f < count; f++)
        {
            written.Add(Encoding.ASCII.GetString(forms.Slice(f * 20, lengths[f])));
            Assert.Equal(f > 0, derived[f]);
        }
        Assert.Equal(expected.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(f => f.Length is >= 10 and <= 19), written);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("7", 1)]
    [InlineData("20", 2)]
    [InlineData("212", 3)]
    [InlineData("27", 2)]
    [InlineData("30", 2)]
    [InlineData("353", 3)]
    [InlineData("36", 2)]
    [InlineData("380", 3)]
    [InlineData("39", 2)]
    [InlineData("420", 3)]
    [InlineData("44", 2)]
    [InlineData("49", 2)]
    [InlineData("502", 3)]
    [InlineData("55", 2)]
    [InlineData("598", 3)]
    [InlineData("61", 2)]
    [InlineData("679", 3)]
    [InlineData("81", 2)]
    [InlineData("852", 3)]
    [InlineData("86", 2)]
    [InlineData("880", 3)]
    [InlineData("90", 2)]
    [InlineData("971", 3)]
    [InlineData("98", 2)]
    public void CountryCodeLength_KnowsTheCodesOfE164(string code, int length) =>
        Assert.Equal(length, LeakEverywhere.CountryCodeLength(Encoding.ASCII.GetBytes(code + "123456789")));

    [Fact]
    public void Redacted_ShortAndLongValues_ShowAtMostTwoCharactersAndNeverAShortValue()
    {
        string Show(string value) => LeakColumn.Redacted(LeakColumn.Prefix(Encoding.UTF8.GetBytes(value), out var chars), chars);

        Assert.Equal("an… (24 chars)", Show("anna.smith@example.org.x"));
        Assert.Equal("ü… (5 chars)", Show("über!"));
        Assert.Equal("… (3 chars)", Show("Bob"));
        Assert.Equal("éà… (9 chars)", Show("éàçèùâêîô"));
    }

    [Fact]
    public void Leaks_SmallPoolUnchangedFarBeyondChance_AreCounted()
    {
        using var pool = Replica.Transformers.TransformerRegistry.Create(new Replica.Transformers.TransformerSpec("city", new Dictionary<string, object?>()),
            new Replica.Transformers.ColumnInfo("public", "t", "c") { TypeName = "text", Category = TypeCategory.Text },
            new Replica.Transformers.TransformerEnvironment(Encoding.UTF8.GetBytes(ConfigTestHelpers.Secret), "en"));
        var column = new LeakColumn("city", "city", pool);
        for (var i = 1UL; i <= 500; i++)
        {
            column.AddOriginal(BitConverter.GetBytes(i), i * 0x9E3779B97F4A7C15UL);
            column.Compare();
            column.AddUnchanged(i * 0x9E3779B97F4A7C15UL, 0, 10);
        }

        Assert.InRange(column.Leaks, 490, 500);
        Assert.Equal(3, column.Examples.Count);
    }

    [Fact]
    public void PoolSize_Fakes_AreTheirListsAndUniqueColumnsHaveNone()
    {
        var environment = new Replica.Transformers.TransformerEnvironment(Encoding.UTF8.GetBytes(ConfigTestHelpers.Secret), "en");
        double? Pool(string name, bool unique = false)
        {
            using var transformer = Replica.Transformers.TransformerRegistry.Create(new Replica.Transformers.TransformerSpec(name, new Dictionary<string, object?>()) { Unique = unique },
                new Replica.Transformers.ColumnInfo("public", "t", "c") { TypeName = "text", Category = TypeCategory.Text }, environment);
            return transformer!.PoolSize;
        }

        Assert.Equal(Replica.Transformers.LocaleData.Get("en").FirstNames.PoolSize, Pool("first-name"));
        Assert.Null(Pool("first-name", unique: true));
        Assert.Null(Pool("email"));
        Assert.Null(Pool("hash"));
    }
}
