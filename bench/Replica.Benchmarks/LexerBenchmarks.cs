using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using Replica.Config;
using Replica.Lexing;
using Replica.Destinations;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;

namespace Replica.Benchmarks;

/// <summary>
/// Lexer and rewriter throughput over a 64 MiB synthetic dump (pg_dump COPY or mysqldump extended INSERTs), fed in 1 MiB
/// blocks as the pipe delivers them.
/// Pass-through: no rules. Fakes: 4 of the 10 customers columns get deterministic fakes.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(SixtyFourMiBThroughput))]
public class LexerBenchmarks
{
    const int BlockSize = 1 << 20;
    byte[] _dump = [];
    NullWriter _output = new();
    RewriteRules _fakes = RewriteRules.None;

    /// <summary>PostgreSQL: pg_dump's COPY blocks. MySql: mysqldump's extended INSERTs of the same rows.</summary>
    [Params(SqlDialect.PostgreSql, SqlDialect.MySql)]
    public SqlDialect Dialect { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dump = Dialect == SqlDialect.MySql ? SyntheticDump.CreateMySql(64 << 20) : SyntheticDump.Create(64 << 20);
        _output = new NullWriter();
    }

    [Benchmark(Baseline = true)]
    public long PassThrough() => Run(RewriteRules.None);

    [Benchmark]
    public long FourOfTenColumnsFaked()
    {
        var table = TablePattern.Parse("public.customers");
        _fakes = DumpRequest.BuildRules(new ReplicaConfig
        {
            Secret = "benchmark-secret-0123456789",
            Tables = [new TableRule(table, TableAction.Transform, [
                new ColumnRule(NamePattern.Parse("first_name"), TransformerConfig.Of("first-name")),
                new ColumnRule(NamePattern.Parse("last_name"), TransformerConfig.Of("last-name")),
                new ColumnRule(NamePattern.Parse("email"), TransformerConfig.Of("email")),
                new ColumnRule(NamePattern.Parse("phone"), TransformerConfig.Of("phone-number")),
            ])],
        });
        return Run(_fakes);
    }

    /// <summary>What a restore into a database adds: the guard that checks every statement before psql or mysql gets it.</summary>
    [Benchmark]
    public long RestoreGuard() => Guard("bench");

    /// <summary>
    /// The same into a MySQL database named like the domain of every row's e-mail ("example"): the quick look for a name
    /// qualified with the destination finds a candidate in every INSERT, which is then tokenized (the worst case).
    /// </summary>
    [Benchmark]
    public long RestoreGuardDestinationNamedInEveryRow() => Guard("example");

    static readonly MySqlServer s_mariaDb = MySqlServer.Parse("10.11.19-MariaDB");

    long Guard(string destination)
    {
        // As a restore into MariaDB 10.11 runs it: executable comments read by that version, the check after each SET.
        using var guard = Dialect == SqlDialect.MySql
            ? new RestoreGuard(Dialect, null, staged: new StagedNames(destination, destination + "_replica_"), mySqlServer: () => s_mariaDb)
            : new RestoreGuard(Dialect, destination, sequencesInPlace: true);
        for (var i = 0; i < _dump.Length; i += BlockSize)
        {
            guard.Process(_dump.AsSpan(i, Math.Min(BlockSize, _dump.Length - i)), _output);
        }
        guard.Complete(_output);
        return _dump.Length;
    }

    long Run(RewriteRules rules)
    {
        using var rewriter = new DumpRewriter(rules, dialect: Dialect);
        for (var i = 0; i < _dump.Length; i += BlockSize)
        {
            rewriter.Process(_dump.AsSpan(i, Math.Min(BlockSize, _dump.Length - i)), _output);
        }
        rewriter.Complete(_output);
        return rewriter.Statistics.Rows;
    }

    /// <summary>An output that keeps one reusable buffer, so only the rewriter's own allocations are measured.</summary>
    sealed class NullWriter : IBufferWriter<byte>
    {
        readonly byte[] _buffer = new byte[4 << 20];

        public void Advance(int count) { }

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer;

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer;
    }
}
