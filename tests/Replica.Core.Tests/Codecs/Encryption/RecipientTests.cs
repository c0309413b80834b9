using System.Security.Cryptography;
using Replica.Codecs.Encryption;
using static Replica.Core.Tests.Codecs.Encryption.EncryptionTestSupport;

namespace Replica.Core.Tests.Codecs.Encryption;

[Collection(RecipientKeysFixture.Collection)]
public sealed class RecipientTests(RecipientKeysFixture keys)
{
    static readonly byte[][] s_chunks = Split(Bytes(5000), 2048, 2048, 904);

    public static TheoryData<string> Algorithms() => new() { "rsa", "p256", "p384" };

    GeneratedKeyPair Pair(string name) => name switch
    {
        "rsa" => keys.RsaA,
        "p256" => keys.EcA,
        _ => keys.Ec384,
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Open_RecipientPrivateKey_RoundTrips(string algorithm)
    {
        GeneratedKeyPair pair = Pair(algorithm);
        using EncryptionKeys dumping = new EncryptionKeys().AddRecipientFile(pair.PublicKeyPath);
        (EncryptionHeader header, byte[][] stored) = EncryptDump(dumping, s_chunks);
        using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyFile(pair.PrivateKeyPath);

        KeySlot slot = Assert.Single(header.KeySlots);
        Assert.Equal(pair.KeyId, slot.KeyId);
        Assert.Equal(Concat(s_chunks), DecryptDump(header, restoring, stored));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Open_WithOnlyThePublicKey_CannotDecrypt(string algorithm)
    {
        // The dumping machine holds public keys only: it cannot read back what it wrote.
        using EncryptionKeys dumping = new EncryptionKeys().AddRecipientFile(Pair(algorithm).PublicKeyPath);
        (EncryptionHeader header, _) = EncryptDump(dumping, s_chunks);

        var ex = Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(header, dumping));

        Assert.Contains("can encrypt but not decrypt", ex.Message);
    }

    [Fact]
    public void Open_TwoRecipients_EachDecrypts()
    {
        using EncryptionKeys dumping = new EncryptionKeys()
            .AddRecipientFile(keys.RsaA.PublicKeyPath)
            .AddRecipientFile(keys.EcA.PublicKeyPath);
        (EncryptionHeader header, byte[][] stored) = EncryptDump(dumping, s_chunks);

        Assert.Equal(2, header.KeySlots.Count);
        foreach (GeneratedKeyPair pair in new[] { keys.RsaA, keys.EcA })
        {
            using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyFile(pair.PrivateKeyPath);
            Assert.Equal(Concat(s_chunks), DecryptDump(header, restoring, stored));
        }
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("p256")]
    public void Open_PrivateKeyOfANonRecipient_IsWrongKey(string algorithm)
    {
        (GeneratedKeyPair recipient, GeneratedKeyPair stranger) = algorithm == "rsa" ? (keys.RsaA, keys.RsaB) : (keys.EcA, keys.EcB);
        using EncryptionKeys dumping = new EncryptionKeys().AddRecipientFile(recipient.PublicKeyPath);
        (EncryptionHeader header, _) = EncryptDump(dumping, s_chunks);
        using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyFile(stranger.PrivateKeyPath);

        var ex = Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(header, restoring));

        Assert.Contains(recipient.KeyId, ex.Message);
        Assert.Contains(stranger.KeyId, ex.Message);
    }

    /// <summary>Recipients are deduplicated by key id when dumping: a second slot for one is an edited header.</summary>
    [Fact]
    public void Open_TwoSlotsForTheSameRecipient_IsRefusedAsAltered()
    {
        using EncryptionKeys dumping = new EncryptionKeys().AddRecipientFile(keys.EcA.PublicKeyPath);
        (EncryptionHeader header, _) = EncryptDump(dumping, s_chunks);
        KeySlot slot = Assert.Single(header.KeySlots);
        EncryptionHeader edited = header with { KeySlots = [slot with { Nonce = Convert.ToBase64String(Bytes(12, seed: 9)) }, slot] };
        using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyFile(keys.EcA.PrivateKeyPath);

        var ex = Assert.Throws<IntegrityException>(() => DumpEncryption.Open(edited, restoring).Dispose());

        Assert.Contains("key slots 0 and 1 are for the same recipient", ex.Message);
    }

    [Fact]
    public void AddRecipientPem_MoreThanTheMost_IsConfigError()
    {
        using var dumping = new EncryptionKeys();
        for (int i = 0; i < EncryptionKeys.MaxRecipients; i++)
        {
            using var ec = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            dumping.AddRecipientPem(ec.ExportSubjectPublicKeyInfoPem(), $"r{i}.pub");
        }
        using var last = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        var ex = Assert.Throws<ConfigException>(() => dumping.AddRecipientPem(last.ExportSubjectPublicKeyInfoPem(), "last.pub"));

        Assert.Contains($"at most {EncryptionKeys.MaxRecipients} recipients", ex.Message);
        Assert.Equal(EncryptionKeys.MaxKeySlots, EncryptionKeys.MaxRecipients + 2);
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("p256")]
    public void Open_SlotKeyIdRelabelledForAnotherKey_IsWrongKey(string algorithm)
    {
        // An attacker relabels the slot with a stranger's key id: the stranger's key is tried and fails on the wrap.
        (GeneratedKeyPair recipient, GeneratedKeyPair stranger) = algorithm == "rsa" ? (keys.RsaA, keys.RsaB) : (keys.EcA, keys.EcB);
        using EncryptionKeys dumping = new EncryptionKeys().AddRecipientFile(recipient.PublicKeyPath);
        (EncryptionHeader header, _) = EncryptDump(dumping, s_chunks);
        EncryptionHeader relabelled = header with { KeySlots = [header.KeySlots[0] with { KeyId = stranger.KeyId }] };
        using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyFile(stranger.PrivateKeyPath);

        var ex = Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(relabelled, restoring));

        Assert.Contains($"The private key {stranger.PrivateKeyPath} does not open this dump", ex.Message);
    }

    [Fact]
    public void Open_EcdhEphemeralKeyChanged_IsWrongKey()
    {
        using EncryptionKeys dumping = new EncryptionKeys().AddRecipientFile(keys.EcA.PublicKeyPath);
        (EncryptionHeader header, _) = EncryptDump(dumping, s_chunks);
        using ECDiffieHellman other = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        KeySlot slot = header.KeySlots[0] with { EphemeralPublicKey = Convert.ToBase64String(other.ExportSubjectPublicKeyInfo()) };
        using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyFile(keys.EcA.PrivateKeyPath);

        Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(header with { KeySlots = [slot] }, restoring));
    }

    [Fact]
    public void Open_RsaEncryptedKeyChanged_IsWrongKey()
    {
        using EncryptionKeys dumping = new EncryptionKeys().AddRecipientFile(keys.RsaA.PublicKeyPath);
        (EncryptionHeader header, _) = EncryptDump(dumping, s_chunks);
        byte[] encrypted = Convert.FromBase64String(header.KeySlots[0].EncryptedKey!);
        encrypted[10] ^= 1;
        KeySlot slot = header.KeySlots[0] with { EncryptedKey = Convert.ToBase64String(encrypted) };
        using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyFile(keys.RsaA.PrivateKeyPath);

        Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(header with { KeySlots = [slot] }, restoring));
    }

    [Fact]
    public void Open_EncryptedPrivateKeyWithItsPassphrase_RoundTrips()
    {
        using EncryptionKeys dumping = new EncryptionKeys().AddRecipientFile(keys.EcEncrypted.PublicKeyPath);
        (EncryptionHeader header, byte[][] stored) = EncryptDump(dumping, s_chunks);
        using EncryptionKeys restoring = new EncryptionKeys()
            .AddPrivateKeyFile(keys.EcEncrypted.PrivateKeyPath, RecipientKeysFixture.KeyPassphrase);

        Assert.Equal(Concat(s_chunks), DecryptDump(header, restoring, stored));
    }

    [Fact]
    public void AddPrivateKeyFile_EncryptedKeyWithoutOrWithWrongPassphrase_IsConfigError()
    {
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", File.ReadAllText(keys.EcEncrypted.PrivateKeyPath));

        var missing = Assert.Throws<ConfigException>(() => new EncryptionKeys().AddPrivateKeyFile(keys.EcEncrypted.PrivateKeyPath));
        var wrong = Assert.Throws<ConfigException>(
            () => new EncryptionKeys().AddPrivateKeyFile(keys.EcEncrypted.PrivateKeyPath, "not it"));

        Assert.Contains("give its passphrase", missing.Message);
        Assert.Contains("wrong passphrase", wrong.Message);
        Assert.DoesNotContain("not it", wrong.Message);
    }

    [Fact]
    public void AddRecipientFile_Rsa2048_IsRejected()
    {
        using RSA weak = RSA.Create(2048);
        var ex = Assert.Throws<ConfigException>(
            () => new EncryptionKeys().AddRecipientPem(weak.ExportSubjectPublicKeyInfoPem(), "weak.pub.pem"));

        Assert.Contains("3072", ex.Message);
        Assert.Contains("weak.pub.pem", ex.Message);
    }

    [Fact]
    public void AddRecipientFile_UnsupportedCurve_IsRejected()
    {
        using ECDiffieHellman p521 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP521);
        var ex = Assert.Throws<ConfigException>(
            () => new EncryptionKeys().AddRecipientPem(p521.ExportSubjectPublicKeyInfoPem(), "p521.pub.pem"));

        Assert.Contains("P-256 or P-384", ex.Message);
    }

    [Fact]
    public void AddRecipientFile_PrivateKeyFileGiven_SaysToUseThePublicKey()
    {
        var ex = Assert.Throws<ConfigException>(() => new EncryptionKeys().AddRecipientFile(keys.EcA.PrivateKeyPath));

        Assert.Contains("public key file", ex.Message);
        Assert.DoesNotContain("BEGIN", ex.Message);
    }

    [Fact]
    public void AddPrivateKeyPem_OpenSslStyleKeys_AreAccepted()
    {
        // Keys made elsewhere (e.g. `openssl genpkey`), in PKCS#8 and in the older RSA/EC PEM forms.
        using RSA rsa = RSA.Create(3072);
        using ECDiffieHellman ec = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        using EncryptionKeys dumping = new EncryptionKeys()
            .AddRecipientPem(rsa.ExportSubjectPublicKeyInfoPem(), "rsa.pub")
            .AddRecipientPem(ec.ExportSubjectPublicKeyInfoPem(), "ec.pub");
        (EncryptionHeader header, byte[][] stored) = EncryptDump(dumping, s_chunks);

        foreach (string pem in new[] { rsa.ExportRSAPrivateKeyPem(), ec.ExportECPrivateKeyPem(), rsa.ExportPkcs8PrivateKeyPem() })
        {
            using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyPem(pem, "key.pem");
            Assert.Equal(Concat(s_chunks), DecryptDump(header, restoring, stored));
        }
    }

    [Fact]
    public void CreateHeader_PrivateKeyOnly_CannotEncrypt()
    {
        using EncryptionKeys restoring = new EncryptionKeys().AddPrivateKeyFile(keys.EcA.PrivateKeyPath);

        Assert.False(restoring.CanEncrypt);
        Assert.Throws<ConfigException>(() => DumpEncryption.CreateHeader(restoring, out _));
    }
}
