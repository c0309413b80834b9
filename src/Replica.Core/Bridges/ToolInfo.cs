using System.Reflection;

namespace Replica.Bridges;

/// <summary>What a manifest records about the program that wrote it.</summary>
internal static class ToolInfo
{
    /// <summary>The informational version of Replica.Core (e.g. "0.1.0+3f2c1ab"), "unknown" if the attribute is missing.</summary>
    public static string Version { get; } =
        typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
