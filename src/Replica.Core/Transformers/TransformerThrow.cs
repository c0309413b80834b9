using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Replica.Transformers;

/// <summary>Throw helpers kept out of hot methods so those stay small and build no strings.</summary>
internal static class TransformerThrow
{
    /// <summary>A transformer failed on the field at this position: its reason, with where it happened.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void At(string reason, long byteOffset, long lineNumber, string table, string column, long rowNumber, Exception inner) =>
        throw new TransformerException(reason, byteOffset, lineNumber, table, column, rowNumber, inner);

    /// <summary>The string a json path reaches is not valid UTF-8 or holds a lone surrogate escape.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void InvalidJsonText(long valueOffset) =>
        throw new TransformerException(
            $"the json transformer's path reaches a string at byte {valueOffset} of the value that is not valid UTF-8 or holds a lone surrogate escape (such as \\ud800), so it has no text to transform");

    /// <summary>A json path ends at an object or array, whose strings the path's transformer (strings and numbers only) would leave in clear.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void JsonPathReachesContainer(string path, bool isObject, long valueOffset) =>
        throw new TransformerException(
            $"the json transformer's path {path} reaches {(isObject ? "an object" : "an array")} at byte {valueOffset} of the value, whose strings it would leave in clear: "
            + $"it transforms strings and numbers; point the path at those inside (e.g. {path}{(isObject ? ".*" : "[*]")})");
}
