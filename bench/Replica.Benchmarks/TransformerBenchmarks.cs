using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Replica.Transformers;

namespace Replica.Benchmarks;

/// <summary>
/// One value through one transformer, as the lexer calls it: cost per value (ns/op) and allocations. The inputs cycle
/// through 1024 distinct values so nothing is served from a cache.
/// </summary>
[MemoryDiagnoser]
public class TransformerBenchmarks
{
    const int ValueCount = 1024;

    readonly ArrayBufferWriter<byte> _output = new(4096);
    byte[][] _emails = [];
    byte[][] _names = [];
    Transformer _email = null!;
    Transformer _firstName = null!;
    Transformer _hash = null!;
    Transformer _redact = null!;
    int _index;

    [GlobalSetup]
    public void Setup()
    {
        var env = new TransformerEnvironment(Encoding.UTF8.GetBytes("benchmark-secret"));
        var column = new ColumnInfo("public", "users", "value") { Category = TypeCategory.Text, TypeName = "text" };
        _email = TransformerRegistry.Create(TransformerSpec.Of("email"), column, env);
        _firstName = TransformerRegistry.Create(TransformerSpec.Of("first-name"), column, env);
        _hash = TransformerRegistry.Create(TransformerSpec.Of("hash"), column, env);
        _redact = TransformerRegistry.Create(
            new TransformerSpec("redact", new Dictionary<string, object?> { ["keep"] = "2" }), column, env);
        _emails = new byte[ValueCount][];
        _names = new byte[ValueCount][];
        for (int i = 0; i < ValueCount; i++)
        {
            _emails[i] = Encoding.UTF8.GetBytes($"customer.{i}@corp-mail.example");
            _names[i] = Encoding.UTF8.GetBytes($"Name{i}");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _email.Dispose();
        _firstName.Dispose();
        _hash.Dispose();
        _redact.Dispose();
    }

    [Benchmark]
    public TransformResult Email() => Run(_email, _emails);

    [Benchmark]
    public TransformResult FirstName() => Run(_firstName, _names);

    [Benchmark]
    public TransformResult Hash() => Run(_hash, _emails);

    [Benchmark]
    public TransformResult Redact() => Run(_redact, _emails);

    TransformResult Run(Transformer transformer, byte[][] values)
    {
        _output.ResetWrittenCount();
        var value = values[_index++ & (ValueCount - 1)];
        return transformer.Transform(value, false, EmptyRowContext.Instance, _output);
    }
}
