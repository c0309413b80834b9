using System.Text;
using Replica.Config;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// Inheritance children and partitions (INHERITS (a, b), PARTITION OF), and tables defined again or altered: the
/// rules of every table a table inherits from reach it, and values matched to columns by position (INSERT or COPY
/// without a column list) go to the right column or are refused. Every real value in these dumps starts with "real".
/// </summary>
public class InheritanceTests
{
    const string Person = "CREATE TABLE public.person (\n    pid integer,\n    email text\n);\n";
    const string Contact = "CREATE TABLE public.contact (\n    cid integer,\n    phone text\n);\n";
    // pg_dump's form of a child of two parents with a column of its own.
    const string Staff = Contact + Person + "CREATE TABLE public.staff (\n    salary integer\n)\nINHERITS (public.contact, public.person);\n";

    static string Run(string dump, RewriteRules rules, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        var bytes = Encoding.UTF8.GetBytes(dump);
        var whole = Text(Rewrite(bytes, rules, dialect: dialect));
        // The same output whatever the block boundaries.
        for (var split = 1; split < bytes.Length; split += 7)
        {
            Assert.Equal(whole, Text(Rewrite(bytes, rules, [split], dialect: dialect)));
        }
        return whole;
    }

    static DumpFormatException Fails(string dump, RewriteRules rules)
    {
        var bytes = Encoding.UTF8.GetBytes(dump);
        var whole = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules));
        // The same error, at the same place, whatever the block boundaries.
        for (var split = 1; split < bytes.Length; split++)
        {
            var part = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, [split]));
            Assert.Equal(whole.Message, part.Message);
            Assert.Equal(whole.ByteOffset, part.ByteOffset);
        }
        return whole;
    }

    /// <summary>Where the statement that begins with <paramref name="text"/> starts: right after the ';' before it (its unit).</summary>
    static int StatementStart(string dump, string text) => dump.IndexOf(text, StringComparison.Ordinal) - 1;

    // ---- finding 1: INSERT without a column list into a child or a partition ---------------------------------------

    [Theory]
    [InlineData("public.person.email=upper")]
    [InlineData("public.member2.email=upper")]
    public void Rewrite_InsertsIntoChildWithoutOwnColumns_MasksTheInheritedColumn(string rule)
    {
        // pg_dump --inserts of CREATE TABLE member2 () INHERITS (person): the values follow the parent's columns.
        var dump = Person + "CREATE TABLE public.member2 (\n)\nINHERITS (public.person);\n"
            + "INSERT INTO public.member2 VALUES (3, 'real-mem3@example.com');\n"
            + "INSERT INTO public.member2 VALUES (4, 'real-mem4@example.com'), (5, NULL);\n";

        var output = Run(dump, Rules(rule));

        Assert.Contains("INSERT INTO public.member2 VALUES (3, 'REAL-MEM3@EXAMPLE.COM');", output);
        Assert.Contains("VALUES (4, 'REAL-MEM4@EXAMPLE.COM'), (5, NULL);", output);
    }

    [Fact]
    public void Rewrite_InsertsIntoGrandchildWithoutOwnColumns_MasksTheInheritedColumn()
    {
        var dump = Person + "CREATE TABLE public.member (\n)\nINHERITS (public.person);\n"
            + "CREATE TABLE public.gold (\n)\nINHERITS (public.member);\n"
            + "INSERT INTO public.gold VALUES (3, 'real-gold@example.com');\n";

        var output = Run(dump, Rules("public.person.email=upper"));

        Assert.Contains("VALUES (3, 'REAL-GOLD@EXAMPLE.COM');", output);
    }

    [Fact]
    public void Rewrite_InsertsIntoPartitionOfWithoutColumnList_MasksTheParentsColumn()
    {
        // Older pg_dump and hand-written SQL: PARTITION OF without a column list, which takes the parent's columns.
        var dump = "CREATE TABLE public.events (id integer, email text, at date) PARTITION BY RANGE (at);\n"
            + "CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
            + "CREATE TABLE public.events_2025 PARTITION OF public.events (email WITH OPTIONS NOT NULL) FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n"
            + "INSERT INTO public.events_2024 VALUES (1, 'real-p1@example.com', '2024-05-01');\n"
            + "INSERT INTO public.events_2025 VALUES (2, 'real-p2@example.com', '2025-05-01');\n";

        var output = Run(dump, Rules("public.events.email=upper"));

        Assert.Contains("VALUES (1, 'REAL-P1@EXAMPLE.COM', '2024-05-01');", output);
        Assert.Contains("VALUES (2, 'REAL-P2@EXAMPLE.COM', '2025-05-01');", output);
    }

    [Fact]
    public void Rewrite_CopyWithoutColumnListIntoChildWithoutOwnColumns_MasksTheInheritedColumn()
    {
        var dump = Person + "CREATE TABLE public.member2 () INHERITS (public.person);\n"
            + "COPY public.member2 FROM stdin;\n3\treal-mem3@example.com\n\\.\n";

        var output = Run(dump, Rules("public.person.email=upper"));

        Assert.Contains("3\tREAL-MEM3@EXAMPLE.COM\n", output);
    }

    [Theory]
    [InlineData("public.person.email=upper")]
    [InlineData("public.member.email=upper")]
    public void Rewrite_InsertsIntoChildWithOwnColumns_IsRefused(string rule)
    {
        // pg_dump writes CREATE TABLE member (tier) INHERITS (person), which PostgreSQL runs as (pid, email, tier); but a
        // column added to person after member was created sits after tier in the source, and --inserts writes that order.
        var dump = Person + "CREATE TABLE public.member (\n    tier integer\n)\nINHERITS (public.person);\n"
            + "INSERT INTO public.member VALUES (2, 'real-mem2@example.com', 1);\n";

        var e = Fails(dump, Rules(rule));

        Assert.Equal(StatementStart(dump, "INSERT INTO public.member"), e.ByteOffset);
        Assert.Equal("public.member", e.Table);
        Assert.Contains("INSERT into public.member has no column list, and the order of its columns cannot be known", e.Message);
        Assert.Contains("public.member inherits from public.person and has columns of its own", e.Message);
        Assert.Contains("pg_dump --column-inserts", e.Message);
    }

    [Fact]
    public void Rewrite_InsertsIntoChildWithOwnColumnsAndColumnList_AreMasked()
    {
        var dump = Person + "CREATE TABLE public.member (\n    tier integer\n)\nINHERITS (public.person);\n"
            + "INSERT INTO public.member (pid, email, tier) VALUES (2, 'real-mem2@example.com', 1);\n"
            + "COPY public.member (pid, email, tier) FROM stdin;\n3\treal-mem3@example.com\t1\n\\.\n";

        var output = Run(dump, Rules("public.person.email=upper"));

        Assert.DoesNotContain("real", output);
    }

    [Fact]
    public void Rewrite_CopyWithoutColumnListIntoChildWithOwnColumns_IsRefused()
    {
        var dump = Person + "CREATE TABLE public.member (tier integer) INHERITS (public.person);\n"
            + "COPY public.member FROM stdin;\n2\treal-mem2@example.com\t1\n\\.\n";

        var e = Fails(dump, Rules("public.person.email=upper"));

        Assert.Equal(StatementStart(dump, "COPY"), e.ByteOffset);
        Assert.Contains("COPY into public.member has no column list", e.Message);
    }

    [Fact]
    public void Rewrite_InsertsIntoChildOfParentWithoutCreateTable_IsRefused()
    {
        // pg_dump --table member: the child's CREATE TABLE names a parent the dump does not define.
        var dump = "CREATE TABLE public.member2 (\n)\nINHERITS (public.person);\n"
            + "INSERT INTO public.member2 VALUES (3, 'real-mem3@example.com');\n";

        var e = Fails(dump, Rules("public.person.email=upper"));

        Assert.Contains("INSERT into public.member2 has no column list and no CREATE TABLE for it came earlier", e.Message);
    }

    [Fact]
    public void Rewrite_InsertsIntoChildOfTableNoRuleReaches_PassUnread()
    {
        var dump = Person + "CREATE TABLE public.member (tier integer) INHERITS (public.person);\n"
            + "INSERT INTO public.member VALUES (2, 'mem2@example.com', 1, 'odd');\n";

        Assert.Equal(dump, Run(dump, Rules("public.other.email=upper")));
    }

    [Fact]
    public void Rewrite_TupleWiderThanTheTableOfARuledTable_IsRefused()
    {
        // The rule's column is not in the plan, so no value is rewritten: the width says the columns are not what the plan says.
        var dump = "CREATE TABLE public.t (a integer);\nINSERT INTO public.t VALUES (1), (2, 'real-2');\n";

        var e = Fails(dump, Rules("public.t.b=upper"));

        Assert.Equal(dump.LastIndexOf(')'), e.ByteOffset);
        Assert.Equal(2, e.RowNumber);
        Assert.Contains("a VALUES tuple of an INSERT without a column list has 2 values, but the table has 1 columns (a)", e.Message);
    }

    // ---- finding 2: several parents ---------------------------------------------------------------------------------

    [Fact]
    public void Rewrite_CopyIntoChildOfTwoParents_MasksEachParentsColumns()
    {
        var dump = Staff + "COPY public.staff (cid, phone, pid, email, salary) FROM stdin;\n1\treal-phone-s1\t1\treal-s1@example.com\t100\n\\.\n"
            + "INSERT INTO public.staff (cid, phone, pid, email, salary) VALUES (2, 'real-phone-s2', 2, 'real-s2@example.com', 200);\n";

        var output = Run(dump, Rules("public.person.email=upper", "public.contact.phone=x"));

        Assert.Contains("1\tx\t1\tREAL-S1@EXAMPLE.COM\t100\n", output);
        Assert.Contains("VALUES (2, 'x', 2, 'REAL-S2@EXAMPLE.COM', 200);", output);
    }

    [Fact]
    public void Rewrite_InsertsIntoChildOfTwoParentsWithoutColumnList_IsRefused()
    {
        var dump = Contact + Person + "CREATE TABLE public.staff (\n)\nINHERITS (public.contact, public.person);\n"
            + "INSERT INTO public.staff VALUES (1, 'real-phone-s1', 1, 'real-s1@example.com');\n";

        var e = Fails(dump, Rules("public.person.email=upper"));

        Assert.Contains("public.staff inherits from several tables", e.Message);
    }

    [Fact]
    public void Rewrite_ChildOfTwoParents_FollowsTheSecondParentsSkipAndDrop()
    {
        var dump = Staff + "COPY public.staff (cid, phone, pid, email, salary) FROM stdin;\n1\treal-phone-s1\t1\treal-s1@example.com\t100\n\\.\n"
            + "INSERT INTO public.staff (cid, phone, pid, email, salary) VALUES (2, 'real-phone-s2', 2, 'real-s2@example.com', 200);\n";

        var skipped = Run(dump, Rules([], [], ["public.person"]));
        var dropped = Run(dump, Rules([], ["public.person"], []));

        Assert.DoesNotContain("real", skipped);
        Assert.Contains("CREATE TABLE public.staff", skipped);
        Assert.DoesNotContain("real", dropped);
        Assert.DoesNotContain("staff", dropped);
    }

    [Fact]
    public void Rewrite_ChildOfParentsWithDifferentRulesForOneColumn_IsAConfigError()
    {
        var dump = "CREATE TABLE public.a (email text);\nCREATE TABLE public.b (email text);\n"
            + "CREATE TABLE public.c () INHERITS (public.a, public.b);\n"
            + "INSERT INTO public.c (email) VALUES ('real-c@example.com');\n";

        var e = Assert.Throws<ConfigException>(() => Rewrite(Encoding.UTF8.GetBytes(dump), Rules("public.a.email=upper", "public.b.email=x")));

        Assert.Contains("column email of table public.c inherits two different rules, upper from public.a and x from public.b", e.Message);
        // The child's own rule says which, and the same rule from both is no question.
        Assert.Contains("'x'", Run(dump, Rules("public.c.email=x", "public.a.email=upper", "public.b.email=x")));
        Assert.Contains("'REAL-C@EXAMPLE.COM'", Run(dump, Rules("public.*.email=upper")));
        // A nearer table's rule comes before a farther one's.
        var deeper = "CREATE TABLE public.g (email text);\nCREATE TABLE public.a () INHERITS (public.g);\nCREATE TABLE public.b (email text);\n"
            + "CREATE TABLE public.c () INHERITS (public.a, public.b);\nINSERT INTO public.c (email) VALUES ('real-c@example.com');\n";
        Assert.Contains("'x'", Run(deeper, Rules("public.g.email=upper", "public.b.email=x")));
    }

    [Fact]
    public void Rewrite_TablesThatInheritFromEachOther_DoNotLoop()
    {
        var dump = "CREATE TABLE public.a (email text) INHERITS (public.b);\nCREATE TABLE public.b (email text) INHERITS (public.a);\n"
            + "INSERT INTO public.a (email) VALUES ('real-a');\n";

        Assert.Contains("'REAL-A'", Run(dump, Rules("public.b.email=upper")));
        Assert.Throws<DumpFormatException>(() => Rewrite(Encoding.UTF8.GetBytes(dump.Replace("(email) VALUES", "VALUES")), Rules("public.b.email=upper")));
    }

    [Fact]
    public void Rewrite_PartitionAttachedAfterItsCreateTable_FollowsItsParentsDrop()
    {
        // pg_dump 14+: the partition's own CREATE TABLE, then ATTACH PARTITION. Its action was worked out at its CREATE
        // TABLE (the drop check reads every statement) and kept, so the dropped parent's partition kept its rows.
        var dump = "CREATE TABLE public.events (id integer, email text) PARTITION BY RANGE (id);\n"
            + "CREATE TABLE public.events_1 (id integer, email text);\n"
            + "ALTER TABLE ONLY public.events ATTACH PARTITION public.events_1 FOR VALUES FROM (0) TO (10);\n"
            + "COPY public.events_1 (id, email) FROM stdin;\n1\treal-1@example.com\n\\.\n";

        var output = Run(dump, Rules([], ["public.events"], []));

        Assert.DoesNotContain("real", output);
    }

    // ---- finding 4: a table defined again or altered ------------------------------------------------------------------

    [Fact]
    public void Rewrite_TableCreatedAgainWithOtherColumnOrder_MasksTheNewPositions()
    {
        // Two dumps one after the other: the plan of the first CREATE TABLE put the transformer on the second value.
        var dump = "DROP TABLE IF EXISTS public.customers;\nCREATE TABLE public.customers (id integer, email text, note text);\n"
            + "INSERT INTO public.customers VALUES (1, 'real-1@example.com', 'note1');\n"
            + "DROP TABLE IF EXISTS public.customers;\nCREATE TABLE public.customers (id integer, note text, email text);\n"
            + "INSERT INTO public.customers VALUES (2, 'note2', 'real-2@example.com');\n";

        var output = Run(dump, Rules("public.customers.email=upper"));

        Assert.Contains("VALUES (1, 'REAL-1@EXAMPLE.COM', 'note1');", output);
        Assert.Contains("VALUES (2, 'note2', 'REAL-2@EXAMPLE.COM');", output);
    }

    [Fact]
    public void Rewrite_TableCreatedAgainAsChild_TakesItsNewParentsRules()
    {
        // The first definition had no rule for email, and that (no transformer) was kept for the column.
        var dump = Person + "CREATE TABLE public.member (pid integer, email text);\n"
            + "INSERT INTO public.member (pid, email) VALUES (1, 'real-1@example.com');\n"
            + "CREATE TABLE public.member () INHERITS (public.person);\n"
            + "INSERT INTO public.member (pid, email) VALUES (2, 'real-2@example.com');\n";

        var output = Run(dump, Rules("public.person.email=upper"));

        Assert.Contains("VALUES (1, 'real-1@example.com');", output);
        Assert.Contains("VALUES (2, 'REAL-2@EXAMPLE.COM');", output);
    }

    [Theory]
    [InlineData("ALTER TABLE public.customers DROP COLUMN email;\nALTER TABLE public.customers ADD COLUMN email text;\n")]
    [InlineData("ALTER TABLE ONLY public.customers ADD COLUMN ssn text;\n")]
    [InlineData("ALTER TABLE public.customers ALTER COLUMN id SET NOT NULL, DROP IF EXISTS note;\n")]
    public void Rewrite_InsertsAfterAlterTableChangedColumns_AreRefused(string alter)
    {
        var dump = "CREATE TABLE public.customers (id integer, email text, note text);\n" + alter
            + "INSERT INTO public.customers VALUES (2, 'note2', 'real-2@example.com');\n";

        var e = Fails(dump, Rules("public.customers.email=upper"));

        Assert.Equal(StatementStart(dump, "INSERT"), e.ByteOffset);
        Assert.Contains("an ALTER TABLE added, dropped or renamed columns of public.customers after its CREATE TABLE", e.Message);
    }

    [Fact]
    public void Rewrite_InsertsIntoChildAfterAlterTableOfParent_AreRefused()
    {
        var dump = Person + "CREATE TABLE public.member2 () INHERITS (public.person);\n"
            + "INSERT INTO public.member2 VALUES (1, 'real-1@example.com');\n"
            + "ALTER TABLE public.person ADD COLUMN note text;\n"
            + "INSERT INTO public.member2 VALUES (2, 'real-2@example.com', 'n');\n";

        var e = Fails(dump, Rules("public.person.email=upper"));

        Assert.Equal(dump.LastIndexOf("INSERT", StringComparison.Ordinal) - 1, e.ByteOffset);
    }

    [Theory]
    [InlineData("ALTER TABLE ONLY public.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);\n")]
    [InlineData("ALTER TABLE public.customers ALTER COLUMN id SET DEFAULT nextval('public.s'::regclass);\n")]
    [InlineData("ALTER TABLE ONLY public.customers DROP CONSTRAINT c, ADD UNIQUE (email);\n")]
    [InlineData("ALTER TABLE public.customers OWNER TO postgres;\n")]
    [InlineData("ALTER TABLE public.customers RENAME TO customers;\n")]
    public void Rewrite_AlterTableThatKeepsTheColumns_StillMasks(string alter)
    {
        var dump = "CREATE TABLE public.customers (id integer, email text, note text);\n" + alter
            + "INSERT INTO public.customers VALUES (2, 'real-2@example.com', 'note2');\n";

        Assert.Contains("VALUES (2, 'REAL-2@EXAMPLE.COM', 'note2');", Run(dump, Rules("public.customers.email=upper")));
    }

    [Fact]
    public void Rewrite_AlterTableInherit_BringsTheParentsRules()
    {
        var dump = Person + "CREATE TABLE public.member (pid integer, email text);\n"
            + "ALTER TABLE public.member INHERIT public.person;\n"
            + "INSERT INTO public.member (pid, email) VALUES (2, 'real-2@example.com');\n";

        Assert.Contains("VALUES (2, 'REAL-2@EXAMPLE.COM');", Run(dump, Rules("public.person.email=upper")));
    }

    [Fact]
    public void Rewrite_MySqlTableCreatedAgainWithOtherColumnOrder_MasksTheNewPositions()
    {
        // Two single-database mysqldumps one after the other (no USE): each header names its database.
        const string Header = "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n-- Host: localhost    Database: {0}\n-- ------------------------------------------------------\n";
        var dump = string.Format(null, Header, "shop") + "DROP TABLE IF EXISTS `customers`;\nCREATE TABLE `customers` (\n  `id` int NOT NULL,\n  `email` varchar(255),\n  `note` varchar(255)\n);\n"
            + "INSERT INTO `customers` VALUES (1,'real-1@example.com','note1');\n"
            + string.Format(null, Header, "shop_archive") + "DROP TABLE IF EXISTS `customers`;\nCREATE TABLE `customers` (\n  `id` int NOT NULL,\n  `note` varchar(255),\n  `email` varchar(255)\n);\n"
            + "INSERT INTO `customers` VALUES (2,'note2','real-2@example.com');\n";

        var any = Run(dump, Rules("customers.email=upper"), SqlDialect.MySql);
        var archive = Run(dump, Rules("shop_archive.customers.email=upper"), SqlDialect.MySql);

        Assert.Contains("VALUES (1,'REAL-1@EXAMPLE.COM','note1');", any);
        Assert.Contains("VALUES (2,'note2','REAL-2@EXAMPLE.COM');", any);
        Assert.Contains("VALUES (1,'real-1@example.com','note1');", archive);
        Assert.Contains("VALUES (2,'note2','REAL-2@EXAMPLE.COM');", archive);
    }

    // ---- a table attached or made a child after its rows were written ------------------------------------------------

    [Theory]
    [InlineData("ALTER TABLE ONLY public.person ATTACH PARTITION public.member2 FOR VALUES IN (1);\n")]
    [InlineData("ALTER TABLE public.member2 INHERIT public.person;\n")]
    public void Rewrite_TableJoinedToAMaskedParentAfterItsRows_IsRefused(string join)
    {
        // The child's rows passed unmasked (no rule reached it then); the parent's rule reaches them once it is joined.
        var dump = Person + "CREATE TABLE public.member2 (\n    pid integer,\n    email text\n);\n"
            + "COPY public.member2 (pid, email) FROM stdin;\n1\treal-1@example.com\n\\.\n" + join;

        var e = Fails(dump, Rules("public.person.email=upper"));

        Assert.Equal(dump.IndexOf("ALTER", StringComparison.Ordinal), e.ByteOffset);
        Assert.Equal("public.member2", e.Table);
        Assert.Contains("refused: public.member2 becomes a partition or child of public.person", e.Message);
    }

    [Fact]
    public void Rewrite_TableAboveWrittenRowsJoinedToAMaskedParent_IsRefused()
    {
        // The grandchild's rows come under public.person with its child.
        var dump = Person + "CREATE TABLE public.member2 (\n    pid integer,\n    email text\n);\n"
            + "CREATE TABLE public.member3 (\n) INHERITS (public.member2);\n"
            + "INSERT INTO public.member3 (pid, email) VALUES (1, 'real-1@example.com');\nALTER TABLE public.member2 INHERIT public.person;\n";

        var e = Fails(dump, Rules("public.person.email=upper"));

        Assert.Contains("after rows of public.member3 were written", e.Message);
    }

    [Fact]
    public void Rewrite_TableJoinedBeforeItsRows_IsMasked()
    {
        var dump = Person + "CREATE TABLE public.member2 (\n    pid integer,\n    email text\n);\nALTER TABLE public.member2 INHERIT public.person;\n"
            + "COPY public.member2 (pid, email) FROM stdin;\n1\treal-1@example.com\n\\.\n";

        Assert.Contains("1\tREAL-1@EXAMPLE.COM\n", Run(dump, Rules("public.person.email=upper")));
    }
}
