namespace Replica.Transformers;

/// <summary>
/// A built-in transformer: its description and the function that reads a <see cref="TransformerSetup"/>'s options and,
/// unless only validating, checks the column and builds the instance (returning null when validating).
/// </summary>
internal sealed class TransformerKind(TransformerDescriptor descriptor, Func<TransformerSetup, Transformer?> build)
{
    public TransformerDescriptor Descriptor { get; } = descriptor;

    public Transformer? Build(TransformerSetup setup) => build(setup);

    public bool HasOption(string name)
    {
        foreach (var option in Descriptor.Options)
        {
            if (string.Equals(option.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
