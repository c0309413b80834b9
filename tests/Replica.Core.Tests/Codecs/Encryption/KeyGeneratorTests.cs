using Replica.Codecs.Encryption;

namespace Replica.Core.Tests.Codecs.Encryption;

[Collection(RecipientKeysFixture.Collection)]
public sealed class KeyGeneratorTests(RecipientKeysFixture keys)
{
    public static TheoryData<string> Algorithms() => new() { "rsa", "p256", "p384", "encrypted" };

    GeneratedKeyPair Pair(string name) => name switch
    {
        "rsa" => keys.RsaA,
        "p256" => keys.EcA,
        "p384" => keys.Ec384,
        _ => keys.EcEncrypted,
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Write_PrivateKeyFile_IsOwnerOnly(string algorithm)
    {
        GeneratedKeyPair pair = Pair(algorithm);
        if (OperatingSystem.IsWindows())
        {
            Assert.True(File.Exists(pair.PrivateKeyPath));
            return;
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pair.PrivateKeyPath));
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(pair.PublicKeyPath) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Write_Files_LoadWithMatchingKeyIds(string algorithm)
    {
        GeneratedKeyPair pair = Pair(algorithm);
        string passphrase = algorithm == "encrypted" ? RecipientKeysFixture.KeyPassphrase : "";

        using EncryptionKeys loaded = new EncryptionKeys()
            .AddRecipientFile(pair.PublicKeyPath)
            .AddPrivateKeyFile(pair.PrivateKeyPath, passphrase);

        Assert.Equal([pair.KeyId], loaded.RecipientKeyIds);
        Assert.Equal([pair.KeyId], loaded.PrivateKeyIds);
        Assert.Matches("^[0-9a-f]{16}$", pair.KeyId);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", File.ReadAllText(pair.PublicKeyPath));
    }

    [Fact]
    public void WriteToDirectory_FileNames_AreBaseNameKeyAndPub()
    {
        Assert.Equal(Path.Combine(keys.Directory, "ec-a.key.pem"), keys.EcA.PrivateKeyPath);
        Assert.Equal(Path.Combine(keys.Directory, "ec-a.pub.pem"), keys.EcA.PublicKeyPath);
        Assert.Equal(KeyGenerator.EcdhP256, keys.EcA.Algorithm);
    }

    [Fact]
    public void Write_ExistingFile_IsNeverOverwritten()
    {
        string before = File.ReadAllText(keys.EcB.PrivateKeyPath);

        var ex = Assert.Throws<ConfigException>(
            () => KeyGenerator.WriteToDirectory(keys.Directory, KeyGenerator.EcdhP256, "ec-b"));

        Assert.Contains("already exists", ex.Message);
        Assert.Equal(before, File.ReadAllText(keys.EcB.PrivateKeyPath));
    }

    [Fact]
    public void Write_UnknownAlgorithm_ListsTheKnownOnes()
    {
        using var directory = new KeyDirectory();

        var ex = Assert.Throws<ConfigException>(() => KeyGenerator.WriteToDirectory(directory.Path, "rsa-1024"));

        Assert.Contains("rsa-3072, ecdh-p256, ecdh-p384", ex.Message);
        Assert.Empty(Directory.GetFiles(directory.Path));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("../../x")]
    [InlineData("sub/x")]
    [InlineData("..")]
    [InlineData("")]
    public void WriteToDirectory_NameWithPath_IsRefusedAndWritesNothing(string name)
    {
        using var parent = new KeyDirectory();
        string directory = Directory.CreateDirectory(Path.Combine(parent.Path, "out", "keys")).FullName;

        var ex = Assert.Throws<ConfigException>(() => KeyGenerator.WriteToDirectory(directory, KeyGenerator.EcdhP256, name));

        Assert.Contains("not a plain file name", ex.Message);
        Assert.Empty(Directory.GetFiles(parent.Path, "*", SearchOption.AllDirectories));
    }
}
