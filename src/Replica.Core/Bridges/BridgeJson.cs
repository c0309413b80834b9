using System.Text.Json.Serialization;

namespace Replica.Bridges;

/// <summary>The shape of index.json: {"version":1,"dumps":[...]}. Kept small: one entry per dump, no chunk lists.</summary>
internal sealed class BridgeIndex
{
    public const int CurrentVersion = 1;

    public int Version { get; set; } = CurrentVersion;

    public List<DumpEntry> Dumps { get; set; } = [];

    public DumpEntry? Find(string name)
    {
        foreach (DumpEntry entry in Dumps)
        {
            if (string.Equals(entry.Name, name, StringComparison.Ordinal))
            {
                return entry;
            }
        }
        return null;
    }

    public bool Remove(string name)
    {
        // Exact, ordinal match: deleting "dump-1" must never touch "dump-10".
        return Dumps.RemoveAll(e => string.Equals(e.Name, name, StringComparison.Ordinal)) > 0;
    }
}

/// <summary>
/// snake_case, indented JSON for index.json and manifest.json, so a person can read them with `cat`. Missing required
/// fields and nulls in non-nullable fields are errors rather than silent defaults.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(BridgeIndex))]
[JsonSerializable(typeof(DumpManifest))]
internal sealed partial class BridgeJsonContext : JsonSerializerContext;
