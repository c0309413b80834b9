using System.Buffers;
using System.Text;
using Replica.Config;
using Replica.Core.Tests.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;

namespace Replica.Core.Tests.Rewriting;

/// <summary>Rules that match nothing in a dump, and strict mode from a dump's own CREATE TABLE statements.</summary>
public sealed class RuleCheckerTests
{
    const string Dump = """
        CREATE TABLE public.customers (
            id integer NOT NULL,
            email text,
            phone text
        );

        CREATE TABLE public.orders (
            id integer,
            total numeric
        )
        PARTITION BY RANGE (id);

        CREATE TABLE public.orders_1 (
            id integer,
            total numeric
        );

        ALTER TABLE ONLY public.orders ATTACH PARTITION public.orders_1 FOR VALUES FROM (0) TO (100);

        CREATE TABLE public.scratch (
            id integer,
            note text
        );

        COPY public.customers (id, email, phone) FROM stdin;
        1	a@example.com	555-0100
        \.

        COPY public.orders_1 (id, total) FROM stdin;
        1	9.50
        \.

        COPY public.scratch (id, note) FROM stdin;
        1	x
        \.

        """;

    static readonly byte[] s_dump = Encoding.UTF8.GetBytes(Dump.Replace("\r\n", "\n", StringComparison.Ordinal));

    const string Header = """
        secret: ${REPLICA_SECRET}

        """;

    static RewriteRules RulesOf(string yaml, bool strict = false)
    {
        return DumpRequest.BuildRules(ConfigTestHelpers.Parse(Header + yaml), strictFromDump: strict);
    }

    static (string Output, IReadOnlyList<string> Warnings) Run(RewriteRules rules, byte[]? input = null, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        using var rewriter = new DumpRewriter(rules, dialect: dialect);
        var output = new ArrayBufferWriter<byte>();
        rewriter.Process(input ?? s_dump, output);
        rewriter.Complete(output);
        return (Encoding.UTF8.GetString(output.WrittenSpan), rewriter.Warnings);
    }

    /// <summary>A run that must fail with a config error: the error, and what was written before it.</summary>
    static (ConfigException Error, string Output) RunFailing(RewriteRules rules, string dump)
    {
        using var rewriter = new DumpRewriter(rules);
        var output = new ArrayBufferWriter<byte>();
        var e = Assert.Throws<ConfigException>(() =>
        {
            rewriter.Process(Encoding.UTF8.GetBytes(dump), output);
            rewriter.Complete(output);
        });
        return (e, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    /// <summary>Feeds the dump up to (not including) the given text, as a stream that has not ended; returns what was written.</summary>
    static string ProcessUpTo(DumpRewriter rewriter, string marker, ArrayBufferWriter<byte> output)
    {
        var end = Dump.Replace("\r\n", "\n", StringComparison.Ordinal).IndexOf(marker, StringComparison.Ordinal);
        rewriter.Process(s_dump.AsSpan(0, Encoding.UTF8.GetByteCount(Dump.Replace("\r\n", "\n", StringComparison.Ordinal)[..end])), output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void Rewrite_RuleForMissingColumn_FailsAtTheCreateTableNamingRuleLineAndClosestColumn()
    {
        var rules = RulesOf("""
            transformers:
              - table: public.customers
                columns:
                  email: email
                  phon: phone-number
            """);
        using var rewriter = new DumpRewriter(rules);
        var output = new ArrayBufferWriter<byte>();

        // The stream has not ended and no row was read: the CREATE TABLE alone shows that 'phon' does not exist.
        var e = Assert.Throws<ConfigException>(() => ProcessUpTo(rewriter, "COPY public.customers", output));

        Assert.Contains("replica.yaml:6:7: the rule for column phon of table public.customers matches no column of public.customers (did you mean 'phone'?)", e.Message);
        Assert.Contains("optional: true", e.Message);
        Assert.DoesNotContain("555-0100", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Rewrite_RuleForMissingColumnOfDataOnlyDump_FailsAtTheCopyHeader()
    {
        var rules = RulesOf("""
            transformers:
              - table: public.customers
                columns: { emial: email }
            """);
        var dataOnly = Encoding.UTF8.GetBytes("COPY public.customers (id, email, phone) FROM stdin;\n1\ta@example.com\t555-0100\n\\.\n");
        using var rewriter = new DumpRewriter(rules);
        var output = new ArrayBufferWriter<byte>();

        var e = Assert.Throws<ConfigException>(() => rewriter.Process(dataOnly, output));

        Assert.Contains("replica.yaml:4:16: the rule for column emial of table public.customers matches no column of public.customers (did you mean 'email'?)", e.Message);
        Assert.DoesNotContain("a@example.com", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Rewrite_RuleForMissingTable_FailsAtTheEndOfTheDumpNamingTheClosestTable()
    {
        var rules = RulesOf("""
            transformers:
              - table: public.customers
                columns: { email: email }
              - table: public.custmers
                columns: { phone: phone-number }
              - table: 'archive.*'
                columns: { '*': redact }
            """);
        using var rewriter = new DumpRewriter(rules);
        var output = new ArrayBufferWriter<byte>();
        rewriter.Process(s_dump, output); // the table may still come: no failure before the end

        var e = Assert.Throws<ConfigException>(() => rewriter.Complete(output));

        Assert.Contains("2 rules match nothing in this dump", e.Message);
        Assert.Contains("replica.yaml:5:5: the rule for table public.custmers matches no table of this dump (did you mean public.customers?)", e.Message);
        Assert.Contains("replica.yaml:7:5: the rule for table archive.* matches no table of this dump", e.Message);
    }

    [Fact]
    public void Rewrite_UnmatchedRulesWarn_CompletesAndWarnsForEachRule()
    {
        var rules = RulesOf("""
            unmatched_rules: warn
            transformers:
              - table: public.customers
                columns: { email: email, phon: phone-number }
              - table: public.custmers
                data: skip
            """);

        var (output, warnings) = Run(rules);

        Assert.DoesNotContain("a@example.com", output);
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.StartsWith("replica.yaml:5:", StringComparison.Ordinal) && w.Contains("column phon", StringComparison.Ordinal) && w.EndsWith("it masked nothing", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("replica.yaml:6:", StringComparison.Ordinal) && w.Contains("table public.custmers", StringComparison.Ordinal));
    }

    [Fact]
    public void Rewrite_OptionalRule_MatchesNothingWithoutFailingOrWarning()
    {
        var rules = RulesOf("""
            transformers:
              - table: public.customers
                columns: { email: email }
              - table: public.legacy_users
                optional: true
                columns: { email: email }
              - table: public.customers
                optional: true
                columns: { fax: redact }
            """);

        var (output, warnings) = Run(rules);

        Assert.DoesNotContain("a@example.com", output);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Rewrite_RuleForTableTheConfigRemoves_IsExplainedNotAnError()
    {
        var rules = RulesOf("""
            source:
              exclude_tables: [public.sessions]
            only_tables: [public.customers, public.orders, public.orders_1, public.scratch]
            transformers:
              - table: public.scratch
                drop: true
              - table: public.scratch
                columns: { notes: redact }
              - table: public.sessions
                columns: { token: hash }
              - table: public.audit
                columns: { ip: hash }
            """);

        var (output, warnings) = Run(rules);

        Assert.DoesNotContain("public.scratch", output);
        Assert.Equal(3, warnings.Count);
        Assert.Contains(warnings, w => w.StartsWith("replica.yaml:8:", StringComparison.Ordinal) && w.Contains("has no effect: the rule at replica.yaml:6:5 drops public.scratch", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("replica.yaml:10:", StringComparison.Ordinal) && w.Contains("only_tables leaves it out", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("replica.yaml:12:", StringComparison.Ordinal) && w.Contains("only_tables leaves it out", StringComparison.Ordinal));

        // Without only_tables, the source's exclude_tables explains sessions; audit is a plain mistake.
        var without = RulesOf("""
            source:
              exclude_tables: [public.sessions]
            transformers:
              - table: public.sessions
                columns: { token: hash }
              - table: public.audit
                columns: { ip: hash }
            """);
        var e = Assert.Throws<ConfigException>(() => Run(without));
        Assert.Contains("a rule matches nothing", e.Message);
        Assert.Contains("replica.yaml:7:5: the rule for table public.audit", e.Message);
        Assert.DoesNotContain("sessions", e.Message);
    }

    [Fact]
    public void Rewrite_RuleOnPartitionedParent_MatchesThroughItsPartitions()
    {
        var rules = RulesOf("""
            transformers:
              - table: public.orders
                columns: { total: { transformer: constant, options: { value: '0' } } }
              - table: '*.scratch'
                columns: { '*': transient }
            """);

        var (output, warnings) = Run(rules);

        Assert.Contains("1\t0\n", output);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Rewrite_RuleOnPartitionedParentWithMissingColumn_Fails()
    {
        var rules = RulesOf("""
            transformers:
              - table: public.orders
                columns: { totl: redact }
            """);

        var e = Assert.Throws<ConfigException>(() => Run(rules));

        Assert.Contains("the rule for column totl of table public.orders matches no column of public.orders (did you mean 'total'?)", e.Message);
    }

    [Fact]
    public void Rewrite_MySqlRuleForMissingColumn_FailsAtTheEnd()
    {
        var rules = RulesOf("""
            transformers:
              - table: users
                columns: { emali: email }
            """);
        var dump = Encoding.UTF8.GetBytes("""
            CREATE TABLE `users` (
              `id` int NOT NULL,
              `email` varchar(100) DEFAULT NULL
            );
            INSERT INTO `users` (`id`, `email`) VALUES (1,'a@example.com');

            """.Replace("\r\n", "\n", StringComparison.Ordinal));

        var e = Assert.Throws<ConfigException>(() => Run(rules, dump, SqlDialect.MySql));

        Assert.Contains("the rule for column emali of table public.users matches no column of `users` (did you mean 'email'?)", e.Message);
    }

    [Fact]
    public void Rewrite_RepliByteConfigWithMissingColumn_Fails()
    {
        var config = ConfigLoader.Parse("""
            source:
              transformers:
                - database: public
                  table: customers
                  columns:
                    - name: emial
                      transformer_name: email
            datastore:
              local_disk: { dir: ./bridge }
            """, "conf.yaml", ConfigTestHelpers.Known, ConfigTestHelpers.Env(("REPLICA_SECRET", ConfigTestHelpers.Secret)));
        var rules = DumpRequest.BuildRules(config);

        var e = Assert.Throws<ConfigException>(() => Run(rules));

        Assert.Contains("conf.yaml:6:11: the rule for column emial of table public.customers matches no column of public.customers (did you mean 'email'?)", e.Message);
    }

    // ---- strict mode from the dump -------------------------------------------------------------------------------

    [Fact]
    public void Rewrite_StrictFromDump_UncoveredPersonalColumn_FailsBeforeAnyRowNamingEveryColumn()
    {
        var rules = RulesOf("""
            transformers:
              - table: public.customers
                columns: { id: transient }
            """, strict: true);
        using var rewriter = new DumpRewriter(rules);
        var output = new ArrayBufferWriter<byte>();

        var e = Assert.Throws<ConfigException>(() => rewriter.Process(s_dump, output));

        Assert.Contains("strict mode: 2 columns look like personal data and have no rule in 'transformers:'; nothing was stored:", e.Message);
        Assert.Contains("public.customers.email (text) → email", e.Message);
        Assert.Contains("public.customers.phone (text) → phone-number", e.Message);
        Assert.DoesNotContain("a@example.com", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Rewrite_StrictFromDumpWithoutAnyRule_Fails()
    {
        var e = Assert.Throws<ConfigException>(() => Run(RulesOf("", strict: true)));

        Assert.Contains("public.customers.email (text) → email", e.Message);
    }

    [Fact]
    public void Rewrite_StrictFromDump_ColumnsCoveredByRulesSkipDropOrParent_Pass()
    {
        var personal = """
            CREATE TABLE public.people (id integer, email text, birth_date date);
            CREATE TABLE public.people_1 (id integer, email text, birth_date date);
            ALTER TABLE ONLY public.people ATTACH PARTITION public.people_1 FOR VALUES FROM (0) TO (100);
            CREATE TABLE public.audit (ip_address inet);
            CREATE TABLE public.old_users (email text);
            CREATE TABLE public.events (email_count integer, email_verified boolean);
            COPY public.people_1 (id, email, birth_date) FROM stdin;
            1	a@example.com	2000-01-01
            \.

            """;
        var rules = RulesOf("""
            transformers:
              - table: public.people
                columns: { email: email, birth_date: date-shift }
              - table: public.audit
                data: skip
              - table: public.old_users
                drop: true
            """, strict: true);

        var (output, _) = Run(rules, Encoding.UTF8.GetBytes(personal.Replace("\r\n", "\n", StringComparison.Ordinal)));

        Assert.DoesNotContain("a@example.com", output);

        // The inet column of a table that keeps its rows is personal whatever its name.
        var e = Assert.Throws<ConfigException>(() => Run(RulesOf("""
            transformers:
              - table: public.people
                columns: { email: email, birth_date: date-shift }
              - table: public.old_users
                drop: true
            """, strict: true), Encoding.UTF8.GetBytes(personal.Replace("\r\n", "\n", StringComparison.Ordinal))));
        Assert.Contains("strict mode: 1 column looks like personal data", e.Message);
        Assert.Contains("public.audit.ip_address (inet) → ip-address", e.Message);
    }

    // ---- a bare rule column with capitals (Email folds to email) and a mixed-case column "Email" --------------------

    const string MixedCaseDump = """
        CREATE TABLE public.users (
            id integer,
            email text,
            "Email" text
        );

        COPY public.users (id, email, "Email") FROM stdin;
        1	lower@example.com	Mixed@example.com
        \.

        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rewrite_BareCapitalisedRuleColumnOnTableWithBothSpellings_FailsNamingBothColumnsBeforeAnyRow(bool withCreateTable)
    {
        // The rule masked email and silently left "Email" in clear; the user who wrote Email most likely meant "Email".
        var rules = RulesOf("""
            transformers:
              - table: public.users
                columns:
                  Email: email
            """);
        var dump = withCreateTable ? MixedCaseDump : MixedCaseDump[MixedCaseDump.IndexOf("COPY", StringComparison.Ordinal)..];

        var (e, output) = RunFailing(rules, dump);

        Assert.Contains("replica.yaml:5:7: the rule's column Email of table public.users is a bare name, which folds to lower case: "
            + "it would mask column email and leave column \"Email\" unmasked; write '\"Email\"' (double quotes inside YAML's single quotes) for column \"Email\", "
            + "or email for column email; nothing was stored", e.Message);
        Assert.DoesNotContain("Mixed@example.com", output);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("unmatched_rules: warn", "")]
    [InlineData("", "optional: true")]
    public void Rewrite_BareCapitalisedRuleColumnOnTableWithOnlyTheMixedCaseColumn_Fails(string topLevel, string ruleLevel)
    {
        // Folded, Email names a column the table does not have: an error even where a rule may match nothing (warn,
        // optional), since the table has the column it was written as, which would stay in clear.
        var rules = RulesOf($"""
            {topLevel}
            transformers:
              - table: public.users
                {ruleLevel}
                columns:
                  Email: email
            """);
        var dump = MixedCaseDump.Replace("    email text,\n", "", StringComparison.Ordinal).Replace("id, email, ", "id, ", StringComparison.Ordinal)
            .Replace("lower@example.com\t", "", StringComparison.Ordinal);

        var (e, output) = RunFailing(rules, dump);

        Assert.Contains("the rule's column Email of table public.users is a bare name, which folds to lower case: it names no column email of "
            + "public.users and would leave column \"Email\" unmasked; write '\"Email\"' (double quotes inside YAML's single quotes) for column \"Email\"; nothing was stored",
            e.Message);
        Assert.DoesNotContain("Mixed@example.com", output);
    }

    // ---- a wildcard table whose rule column is lower case, and a matched table that spells it "Email" ---------------

    const string WildcardDump = """
        CREATE TABLE a.users (
            id integer,
            email text
        );

        CREATE TABLE b.users (
            id integer,
            "Email" text
        );

        COPY a.users (id, email) FROM stdin;
        1	a1@example.com
        \.

        COPY b.users (id, "Email") FROM stdin;
        1	real-b1@example.com
        \.

        """;

    [Theory]
    [InlineData("", "", true)]
    [InlineData("unmatched_rules: warn", "", true)]
    [InlineData("", "optional: true", true)]
    [InlineData("", "", false)]
    public void Rewrite_WildcardTableRuleWithLowerCaseColumn_FailsOnAMatchedTableThatSpellsItWithCapitals(string topLevel, string ruleLevel, bool withCreateTable)
    {
        // One matched table with email was enough for the wildcard rule: b.users."Email" went through in clear, where a
        // rule naming b.users exactly fails the dump (its column email matches nothing).
        var rules = RulesOf($"""
            {topLevel}
            transformers:
              - table: '*.users'
                {ruleLevel}
                columns:
                  email: email
            """);
        var dump = withCreateTable ? WildcardDump : WildcardDump[WildcardDump.IndexOf("COPY", StringComparison.Ordinal)..];

        var (e, output) = RunFailing(rules, dump);

        Assert.Contains("the rule's column email of table b.users is a bare name, which folds to lower case: it names no column email of "
            + "b.users and would leave column \"Email\" unmasked; write '\"Email\"' (double quotes inside YAML's single quotes) for column \"Email\"; nothing was stored",
            e.Message);
        Assert.DoesNotContain("real-b1@example.com", output);
    }

    [Theory]
    [InlineData("email: email\n      '\"Email\"': redact")]
    [InlineData("'\"Email\"': redact\n      email: email")]
    public void Rewrite_WildcardTableRuleWhoseMixedCaseColumnHasARule_Passes(string columns)
    {
        var rules = RulesOf($"""
            transformers:
              - table: '*.users'
                columns:
                  {columns}
            """);

        var (output, _) = Run(rules, Encoding.UTF8.GetBytes(WildcardDump));

        Assert.DoesNotContain("real-b1@example.com", output);
    }

    [Fact]
    public void Rewrite_WildcardTableRuleOnATableWithBothSpellings_MasksTheLowerCaseColumnAsAnExactRuleDoes()
    {
        var rules = RulesOf("""
            transformers:
              - table: '*.users'
                columns:
                  email: email
            """);
        var (output, _) = Run(rules, Encoding.UTF8.GetBytes(MixedCaseDump));

        Assert.DoesNotContain("lower@example.com", output);
        Assert.Contains("Mixed@example.com", output);
    }

    [Theory]
    [InlineData("'\"Email\"': email", "lower@example.com", "Mixed@example.com")]
    [InlineData("email: email", "Mixed@example.com", "lower@example.com")]
    [InlineData("Email: email\n      '\"Email\"': redact", null, "Mixed@example.com")]
    public void Rewrite_QuotedOrLowerCaseRuleColumn_MasksTheColumnAsWritten(string columns, string? kept, string masked)
    {
        var rules = RulesOf($"""
            transformers:
              - table: public.users
                columns:
                  {columns}
            """);

        var (output, _) = Run(rules, Encoding.UTF8.GetBytes(MixedCaseDump));

        Assert.DoesNotContain(masked, output);
        if (kept is not null)
        {
            Assert.Contains(kept, output);
        }
    }

    [Fact]
    public void Rewrite_RepliByteConfigWithBareCapitalisedColumn_FailsOnTableWithBothSpellings()
    {
        var config = ConfigLoader.Parse("""
            source:
              transformers:
                - database: public
                  table: users
                  columns:
                    - name: Email
                      transformer_name: email
            datastore:
              local_disk: { dir: ./bridge }
            """, "conf.yaml", ConfigTestHelpers.Known, ConfigTestHelpers.Env(("REPLICA_SECRET", ConfigTestHelpers.Secret)));

        var e = Assert.Throws<ConfigException>(() => Run(DumpRequest.BuildRules(config), Encoding.UTF8.GetBytes(MixedCaseDump)));

        Assert.Contains("conf.yaml:6:11: the rule's column Email of table public.users is a bare name", e.Message);
    }
}
