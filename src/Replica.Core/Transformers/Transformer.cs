using System.Buffers;

namespace Replica.Transformers;

/// <summary>What a transformer did with one value.</summary>
public enum TransformResult
{
    /// <summary>Keep the original bytes exactly as they were in the dump.</summary>
    Unchanged,
    /// <summary>The new (decoded) value was written to the output buffer.</summary>
    Value,
    /// <summary>The value becomes SQL NULL.</summary>
    Null,
}

/// <summary>
/// Replaces one column's values. One instance serves one column of one table (it is created when the COPY header or
/// INSERT column list is seen), so per-column state (a custom command's process, a key) lives here.
/// Values arrive decoded from their COPY or SQL escaping as UTF-8 bytes (possibly invalid UTF-8); the caller escapes
/// the output again for where it goes back.
/// </summary>
public abstract class Transformer : IDisposable
{
    /// <summary>
    /// Other columns of the same row this transformer reads (the template transformer); the row context serves them
    /// by their position in this list.
    /// </summary>
    public virtual IReadOnlyList<string> ReferencedColumns => [];

    /// <summary>
    /// Whether several instances built from the same rule may transform one column's values at once, each a share of
    /// them, and give what one instance gives: true when an instance keeps nothing from one value to the next but
    /// scratch space. False for a custom command (one process, answers in order): its columns are masked in order.
    /// </summary>
    public virtual bool CanRunInParallel => true;

    /// <summary>
    /// For a transformer that draws its output from a small pool (a city, a first name, a constant): the
    /// number of equally likely outputs that explains how often it gives back its input by chance (1 / the chance that
    /// two independent draws agree). Null when that chance is negligible. `replica leakcheck` counts an unchanged value
    /// of such a column as a leak only beyond what chance explains.
    /// </summary>
    public virtual double? PoolSize => null;

    /// <summary>
    /// Whether this transformer gives some values back unchanged by design, so that `replica leakcheck` weighs an
    /// unchanged value of its column against <see cref="ChanceUnchanged"/> instead of counting it as a leak: a small
    /// pool, or outputs drawn from the value's own shape (random) or near it (number-noise).
    /// </summary>
    public virtual bool RepeatsByChance => PoolSize is not null;

    /// <summary>
    /// The chance that this transformer gives <paramref name="value"/> back unchanged (0 to 1; 0: it cannot, or
    /// negligibly): 1 / <see cref="PoolSize"/> for a small pool; for a value-shaped output the chance that every
    /// character drawn comes out as it was (random), or that the noise rounds away (number-noise).
    /// </summary>
    public virtual double ChanceUnchanged(ReadOnlySpan<byte> value) => PoolSize is { } pool ? 1 / pool : 0;

    /// <summary>
    /// Places inside a value that this transformer's options name and that a value need not contain (json's paths), each
    /// with how many values it was searched in and found in. The rewriter sums them over every instance built from one
    /// rule, so that a place found in no value of the dump (a misspelt path) fails it like a rule that matches no column.
    /// Empty for a transformer that applies to every value.
    /// </summary>
    public virtual IReadOnlyList<TransformerPlace> Places => [];

    /// <summary>
    /// Whether <see cref="TransformResult.Unchanged"/> from this transformer means that it found nothing to change in the
    /// value (json: none of its paths is in the document), so the value is not counted as transformed.
    /// </summary>
    public virtual bool UnchangedMeansNotFound => false;

    /// <summary>Transforms one value. <paramref name="isNull"/> is true for SQL NULL (then <paramref name="value"/> is empty).</summary>
    public abstract TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output);

    /// <summary>
    /// The column's values so far have all been given (its COPY block or the dump ended). A transformer that talks to a
    /// process checks here that it answered exactly once per value; a later value starts over.
    /// </summary>
    public virtual void Complete()
    {
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>
/// A place inside a value that a transformer's options name (a json path, as written), and how often it was looked for
/// and found by one transformer instance. One instance is used by one thread at a time; the counts are read once the
/// values have all been given.
/// </summary>
public sealed class TransformerPlace(string path)
{
    /// <summary>The place as the config writes it, e.g. $.contact.email.</summary>
    public string Path { get; } = path;

    /// <summary>Non-NULL values it was looked for in.</summary>
    public long Searched { get; internal set; }

    /// <summary>Values in which it was found (a string, number or null there).</summary>
    public long Found { get; internal set; }
}

/// <summary>The rest of the current row, as a transformer with <see cref="Transformer.ReferencedColumns"/> sees it.</summary>
public interface IRowContext
{
    /// <summary>
    /// The value of the referenced column number <paramref name="referenceIndex"/> (an index into
    /// <see cref="Transformer.ReferencedColumns"/>): its transformed value when that column has a transformer (one that
    /// references columns itself runs first), else its original decoded value; a transformer's own column reads as it was.
    /// </summary>
    ReadOnlySpan<byte> GetReferenced(int referenceIndex, out bool isNull);
}

/// <summary>A row context for a transformer that references nothing.</summary>
public sealed class EmptyRowContext : IRowContext
{
    public static readonly EmptyRowContext Instance = new();

    public ReadOnlySpan<byte> GetReferenced(int referenceIndex, out bool isNull) =>
        throw new ArgumentOutOfRangeException(nameof(referenceIndex), "This row context serves no referenced columns.");
}
