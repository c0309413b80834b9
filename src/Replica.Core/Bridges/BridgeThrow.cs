using System.Diagnostics.CodeAnalysis;

namespace Replica.Bridges;

/// <summary>Builds the bridge's exceptions in one place so the messages stay uniform and the callers stay small.</summary>
internal static class BridgeThrow
{
    [DoesNotReturn]
    public static void InvalidName(string? name, string problem) =>
        throw new BridgeException($"Invalid dump name '{name}': {problem}.");

    /// <summary>A file system call failed: says what was attempted, on which path, and the OS's reason.</summary>
    public static BridgeException Io(string what, string path, Exception inner) =>
        new($"Cannot {what} '{path}': {inner.Message}", inner);

    /// <summary>A symbolic link sits where the bridge was about to write, rename or delete.</summary>
    [DoesNotReturn]
    public static void Link(string what, string path, string? target) =>
        throw new BridgeException(
            $"Cannot {what} '{path}': it is a symbolic link{(target is null ? "" : $" to '{target}'")}, and replica never reads, " +
            "writes, renames or deletes through a link inside the bridge. Check who put it there, then remove the link itself.");

    /// <summary>A FIFO, a device or a folder sits where the bridge was about to read a file; it is not read.</summary>
    [DoesNotReturn]
    public static void NotAFile(string what, string path) =>
        throw new BridgeException(
            $"Cannot {what} '{path}': it is not a regular file (a FIFO, a device or a folder), and replica reads only " +
            "regular files inside the bridge. Check who put it there, then remove it.");

    [DoesNotReturn]
    public static void ChunkIntegrity(string dumpName, ChunkInfo chunk, string problem) =>
        throw new IntegrityException($"Dump '{dumpName}', {chunk}: {problem}.");

    [DoesNotReturn]
    public static void DumpIntegrity(string dumpName, string problem) =>
        throw new IntegrityException($"Dump '{dumpName}': {problem}.");

    /// <summary>True for the exceptions the file system APIs throw for I/O and permission failures.</summary>
    public static bool IsIo(Exception ex) => ex is IOException or UnauthorizedAccessException;
}
