using System.Diagnostics.CodeAnalysis;

namespace Replica.Codecs.Encryption;

/// <summary>The encryption codec's exceptions in one place. No message ever includes key material.</summary>
internal static class EncryptionThrow
{
    [DoesNotReturn]
    public static void Chunk(string chunk, string problem) =>
        throw new IntegrityException($"Encrypted chunk {chunk}: {problem}.");

    [DoesNotReturn]
    public static void Header(string problem) =>
        throw new IntegrityException($"The dump's encryption header is invalid: {problem}.");

    [DoesNotReturn]
    public static void Slot(int slotIndex, string method, string problem) =>
        throw new IntegrityException($"The dump's encryption header is invalid: key slot {slotIndex} ({method}): {problem}.");

    [DoesNotReturn]
    public static void Key(string origin, string problem) =>
        throw new ConfigException(problem, file: origin);
}
