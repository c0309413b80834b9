using System.Buffers;
using System.Text;
using Replica.Transformers;

namespace Replica.Core.Tests.Transformers;

/// <summary>Builds transformers for tests and runs values through them as strings.</summary>
internal static class TransformerTestKit
{
    public static readonly TransformerEnvironment Env = new("test-secret-1"u8.ToArray());

    public static ColumnInfo Column(TypeCategory category = TypeCategory.Text, string? typeName = null, int? maxLength = null, bool unique = false) =>
        new("public", "users", "col") { Category = category, TypeName = typeName, MaxLength = maxLength, Unique = unique };

    public static TransformerSpec Spec(string name, params (string Key, object? Value)[] options)
    {
        var map = new Dictionary<string, object?>();
        foreach (var (key, value) in options)
        {
            map[key] = value;
        }

        return new TransformerSpec(name, map) { Location = new("replica.yaml", 3, 7) };
    }

    public static Transformer Create(string name, params (string Key, object? Value)[] options) =>
        TransformerRegistry.Create(Spec(name, options), Column(), Env);

    public static Transformer Create(TransformerSpec spec, ColumnInfo? column = null, TransformerEnvironment? env = null) =>
        TransformerRegistry.Create(spec, column ?? Column(), env ?? Env);

    /// <summary>The value the transformer leaves in the column: its output, the input when unchanged, null for NULL.</summary>
    public static string? Apply(this Transformer transformer, string? value, IRowContext? row = null)
    {
        var (result, text) = transformer.ApplyRaw(value is null ? null : Encoding.UTF8.GetBytes(value), row);
        return result switch
        {
            TransformResult.Unchanged => value,
            TransformResult.Null => null,
            _ => text,
        };
    }

    public static (TransformResult Result, string? Text) ApplyRaw(this Transformer transformer, byte[]? value, IRowContext? row = null)
    {
        var output = new ArrayBufferWriter<byte>();
        var result = transformer.Transform(value ?? [], value is null, row ?? EmptyRowContext.Instance, output);
        if (result != TransformResult.Value)
        {
            Assert.Equal(0, output.WrittenCount);
        }

        return (result, result == TransformResult.Value ? Encoding.UTF8.GetString(output.WrittenSpan) : null);
    }

    public static int CharCount(string text) => text.EnumerateRunes().Count();
}

/// <summary>A row context that serves fixed values for the referenced columns, by name.</summary>
internal sealed class FakeRowContext(Transformer transformer, Dictionary<string, string?> values) : IRowContext
{
    public ReadOnlySpan<byte> GetReferenced(int referenceIndex, out bool isNull)
    {
        var value = values[transformer.ReferencedColumns[referenceIndex]];
        isNull = value is null;
        return value is null ? default : Encoding.UTF8.GetBytes(value);
    }
}
