using System.Globalization;
using Replica.Lexing;

namespace Replica.Destinations;

/// <summary>
/// destination.after_restore as a destination runs it (psql or the mysql client): each step checked by the restore
/// guard when the destination is set up (<see cref="RestoreGuard.CheckStep"/>), written after a marker the client
/// prints on stdout ("replica: step N"), so that a client that fails can be told which step it had reached.
/// </summary>
internal sealed class AfterRestoreSteps
{
    const string Marker = "replica: step ";

    readonly byte[][] _checked;

    public AfterRestoreSteps(IReadOnlyList<SqlStep> steps, SqlDialect dialect, string? database)
    {
        Steps = steps;
        _checked = [.. steps.Select(step => RestoreGuard.CheckStep(step, dialect, database))];
        Secrets = SqlStep.SecretsOf(steps.SelectMany(step => step.Secrets));
    }

    public static AfterRestoreSteps None { get; } = new([], SqlDialect.PostgreSql, null);

    public IReadOnlyList<SqlStep> Steps { get; }

    public int Count => Steps.Count;

    /// <summary>The values ${VAR} put into the steps, for the client to scrub from its errors (see <see cref="SqlStep.Secrets"/>).</summary>
    public IReadOnlyList<string> Secrets { get; }

    /// <summary>Step <paramref name="index"/> as the guard passed it, ending with ';'.</summary>
    public byte[] this[int index] => _checked[index];

    /// <summary>What the client prints before step <paramref name="index"/> (the one after the last: all done).</summary>
    public static string MarkerOf(int index) => string.Create(CultureInfo.InvariantCulture, $"{Marker}{index}");

    /// <summary>A line of the client's output that is a step's marker, and its index.</summary>
    public static bool TryParseMarker(string line, out int index)
    {
        index = -1;
        return line.StartsWith(Marker, StringComparison.Ordinal)
            && int.TryParse(line.AsSpan(Marker.Length), NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }

    /// <summary>
    /// The error of a client that failed after printing the marker of <paramref name="step"/>: naming the step, or null
    /// when no step was reached or all were done (the failure was elsewhere, e.g. the COMMIT).
    /// </summary>
    public DatabaseException? Failed(int? step, DatabaseException ex) =>
        step is int index && index >= 0 && index < Count ? new DatabaseException($"{Steps[index].Origin} failed: {ex.Message}", ex) : null;
}
