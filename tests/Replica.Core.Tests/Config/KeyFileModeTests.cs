using Replica.Config;
using Replica.Core.Tests.Bridges;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Config;

public sealed class KeyFileModeTests : IDisposable
{
    readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    string KeyFile(string name, UnixFileMode mode)
    {
        var path = _directory.Combine(name);
        File.WriteAllText(path, "not read at load\n");
        File.SetUnixFileMode(path, mode);
        return path;
    }

    /// <summary>
    /// Found by review: a key_file or private_key_file that its group or others can read was taken without a word. Now
    /// the config carries a warning naming the setting, the file and the chmod that fixes it; a file only its owner can
    /// read or write gets none.
    /// </summary>
    [Fact]
    public void Parse_KeyFileOthersCanRead_WarningNamesFileAndChmod()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var open = KeyFile("open.key", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var closed = KeyFile("closed.key", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var openPrivate = KeyFile("ops.key.pem", UnixFileMode.UserRead | UnixFileMode.GroupRead);
        var publicKey = KeyFile("ops.pub.pem", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var warned = Parse($"bridge:\n  encryption: {{ key_file: {open} }}\n");
        var quiet = Parse($"bridge:\n  encryption: {{ key_file: {closed} }}\n");
        var recipients = Parse($"bridge:\n  encryption: {{ recipients: [{publicKey}], private_key_file: {openPrivate} }}\n");

        var warning = Assert.Single(warned.Warnings);
        Assert.Equal($"replica.yaml:2: bridge.encryption.key_file {open} can be read or written by users other than its owner (mode 0644), "
            + $"and whoever reads it can open the dumps; restrict it: chmod 600 {open}", warning);
        Assert.Empty(quiet.Warnings);
        // A public key is no secret: only the private key is warned about.
        var privateWarning = Assert.Single(recipients.Warnings);
        Assert.Contains($"bridge.encryption.private_key_file {openPrivate} can be read or written by users other than its owner (mode 0440)", privateWarning, StringComparison.Ordinal);
        Assert.Contains($"chmod 600 {openPrivate}", privateWarning, StringComparison.Ordinal);
    }
}
