using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Replica.Core.Tests;

/// <summary>Turns on the switches the tests run under (Switches in Replica.Core), before any test touches the code they steer.</summary>
internal static class TestSwitches
{
    /// <summary>The dump's read block size: tiny and odd, so every dump crosses block boundaries inside statements and rows.</summary>
    public const int ReadBlockSize = 509;

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "A test assembly: the switches must be set before any test reads them.")]
    internal static void Initialize()
    {
        if (Environment.GetEnvironmentVariable("REPLICA_READ_BLOCK_SIZE") is null)
        {
            Environment.SetEnvironmentVariable("REPLICA_READ_BLOCK_SIZE", ReadBlockSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
