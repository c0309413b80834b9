using System.Text;
using Replica.Lexing;

namespace Replica.Core.Tests.Lexing;

/// <summary>
/// The splitter a parallel restore routes units with: the same units whatever the block boundaries, COPY rows in runs,
/// and the step each statement may take (session setting, index build, in order).
/// </summary>
public sealed class UnitSplitterTests
{
    const string Dump = """
        \restrict abc
        SET client_encoding = 'UTF8';
        SELECT pg_catalog.set_config('search_path', '', false);
        CREATE TABLE public.t (id int, v text);
        COPY public.t (id, v) FROM stdin;
        1	a;b
        2	\\! not a command
        \.
        SET default_tablespace = '';
        CREATE UNIQUE INDEX t_v ON public.t USING btree (v);
        ALTER TABLE ONLY public.t
            ADD CONSTRAINT t_pkey PRIMARY KEY (id);
        ALTER TABLE ONLY public.t
            ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES public.t(id);
        SET CONSTRAINTS ALL DEFERRED;
        SELECT pg_catalog.setval('public.s', 1, true);
        CREATE RULE r AS ON INSERT TO public.t DO INSTEAD (INSERT INTO public.t VALUES (1); INSERT INTO public.t VALUES (2));
        \unrestrict abc
        """;

    sealed class Collector : IUnitSink
    {
        public List<string> Units { get; } = [];

        public void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes)
        {
            if (unit.Kind == UnitKind.CopyRow)
            {
                // A row cut by a block boundary comes as a unit of its own.
                Rows(bytes);
                return;
            }
            Units.Add($"{unit.Kind} {RestoreSteps.Of(unit, bytes)} @{unit.Offset}: {Encoding.UTF8.GetString(bytes).Trim()}");
        }

        public void Rows(ReadOnlySpan<byte> rows)
        {
            if (Units.Count > 0 && Units[^1].StartsWith("Rows ", StringComparison.Ordinal))
            {
                Units[^1] += Encoding.UTF8.GetString(rows);
            }
            else
            {
                Units.Add("Rows " + Encoding.UTF8.GetString(rows));
            }
        }
    }

    static List<string> Split(byte[] dump, int blockSize)
    {
        var sink = new Collector();
        using var splitter = new UnitSplitter();
        for (int i = 0; i < dump.Length; i += blockSize)
        {
            splitter.Process(dump.AsSpan(i, Math.Min(blockSize, dump.Length - i)), sink);
        }
        splitter.Complete(sink);
        return sink.Units;
    }

    [Fact]
    public void Process_PgDumpShapedInput_TellsEachUnitsStep()
    {
        var units = Split(Encoding.UTF8.GetBytes(Dump), int.MaxValue);

        Assert.Equal(
        [
            @"MetaCommand SessionSetting @0: \restrict abc",
            "Statement SessionSetting @14: SET client_encoding = 'UTF8';",
            "Statement SessionSetting @43: SELECT pg_catalog.set_config('search_path', '', false);",
            "Statement InOrder @99: CREATE TABLE public.t (id int, v text);",
            "CopyHeader InOrder @139: COPY public.t (id, v) FROM stdin;",
            "CopyHeaderTail InOrder @173: ",
            "Rows 1\ta;b\n2\t\\\\! not a command\n",
            @"CopyEnd InOrder @200: \.",
            "Statement SessionSetting @203: SET default_tablespace = '';",
            "Statement IndexBuild @231: CREATE UNIQUE INDEX t_v ON public.t USING btree (v);",
            "Statement IndexBuild @284: ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);",
            "Statement ForeignKey @354: ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES public.t(id);",
            "Statement InOrder @446: SET CONSTRAINTS ALL DEFERRED;",
            "Statement InOrder @476: SELECT pg_catalog.setval('public.s', 1, true);",
            "Statement InOrder @523: CREATE RULE r AS ON INSERT TO public.t DO INSTEAD (INSERT INTO public.t VALUES (1);",
            "Statement InOrder @607: INSERT INTO public.t VALUES (2));",
            @"MetaCommand SessionSetting @641: \unrestrict abc",
        ], units);
    }

    [Fact]
    public void Process_AnyBlockSize_GivesTheSameUnits()
    {
        var dump = Encoding.UTF8.GetBytes(Dump);
        var whole = Split(dump, int.MaxValue);

        for (int size = 1; size < 64; size++)
        {
            var units = Split(dump, size);
            Assert.Equal(whole, units);
        }
    }

    [Theory]
    [InlineData("ALTER TABLE public.t ADD CONSTRAINT a UNIQUE (x), ADD CONSTRAINT b UNIQUE (y);", "InOrder")]
    [InlineData("ALTER TABLE \"S\".\"T\" ADD CONSTRAINT \"E\" EXCLUDE USING gist (r WITH &&);", "IndexBuild")]
    [InlineData("create index on t (a);", "IndexBuild")]
    [InlineData("CREATE INDEX i ON t (a)", "InOrder")]
    [InlineData("SELECT pg_catalog.set_config('search_path', '', false), pg_sleep(1);", "InOrder")]
    [InlineData("SET LOCAL search_path = x;", "SessionSetting")]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;", "InOrder")]
    [InlineData("ALTER TABLE ONLY s.t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES s.r(id) ON DELETE CASCADE;", "ForeignKey")]
    [InlineData("ALTER TABLE s.t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES s.r(id), ADD CONSTRAINT g FOREIGN KEY (b) REFERENCES s.q(id);", "InOrder")]
    public void Of_Statement_IsItsStep(string statement, string step)
    {
        var units = Split(Encoding.UTF8.GetBytes(statement), int.MaxValue);

        Assert.StartsWith($"Statement {step} ", Assert.Single(units), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CREATE INDEX orders_customer ON public.orders USING btree (customer_id);", "public.orders", null)]
    [InlineData("CREATE UNIQUE INDEX IF NOT EXISTS \"On\" ON ONLY \"S\".\"Parent\" USING btree (a);", "S.Parent", null)]
    [InlineData("create index on t (a);", "public.t", null)]
    [InlineData("ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);", "public.t", null)]
    [InlineData("ALTER TABLE ONLY public.events\n    ADD CONSTRAINT e_fk FOREIGN KEY (customer_id) REFERENCES public.customers(id);", "public.events", "public.customers")]
    [InlineData("ALTER TABLE \"A\".\"b c\" ADD CONSTRAINT f FOREIGN KEY (x, y) REFERENCES ONLY \"A\".p (x, y) MATCH FULL NOT VALID;", "A.b c", "A.p")]
    [InlineData("ALTER TABLE IF EXISTS ONLY public.t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES ONLY public.p(id);", "public.t", "public.p")]
    [InlineData("ALTER TABLE ONLY public.t ADD CONSTRAINT t_u UNIQUE (a);", "public.t", null)]
    public void TryReadTables_IndexBuildOrForeignKey_NamesItsTables(string statement, string table, string? referenced)
    {
        var bytes = Encoding.UTF8.GetBytes(statement);
        using var splitter = new UnitSplitter();
        var sink = new TablesSink();
        splitter.Process(bytes, sink);
        splitter.Complete(sink);

        Assert.Equal(table, sink.Table);
        Assert.Equal(referenced, sink.Referenced);
    }

    sealed class TablesSink : IUnitSink
    {
        public string? Table { get; private set; }

        public string? Referenced { get; private set; }

        public void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes)
        {
            Assert.True(RestoreSteps.TryReadTables(unit, bytes, out var table, out var referenced));
            Table = $"{table.Schema}.{table.Table}";
            Referenced = referenced is { } r ? $"{r.Schema}.{r.Table}" : null;
        }

        public void Rows(ReadOnlySpan<byte> rows)
        {
        }
    }
}
