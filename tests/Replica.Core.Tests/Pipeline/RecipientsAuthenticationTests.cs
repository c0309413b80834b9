using System.Security.Cryptography;
using Replica.Bridges;
using Replica.Config;
using Replica.Core.Tests.Bridges;
using Replica.Destinations;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// With recipients the data key is wrapped with a public key, so anyone holding it (every dumping machine's config)
/// can write a whole dump that opens with the private key and whose tags all match: a dump opened that way is intact,
/// not authenticated, and verify, restore and leakcheck say so. Opened with a passphrase or raw key it is authenticated
/// as before: a forger without them cannot make a slot that opens.
/// </summary>
public sealed class RecipientsAuthenticationTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;
    readonly string _publicKey;
    readonly string _privateKey;
    readonly string _rawKey = Convert.ToBase64String(Bytes(32));

    public RecipientsAuthenticationTests()
    {
        _bridge = new LocalBridge(_dir.Combine("bridge"));
        using var ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        _publicKey = _dir.Combine("ops.pub.pem");
        _privateKey = _dir.Combine("ops.key.pem");
        File.WriteAllText(_publicKey, ecdh.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(_privateKey, ecdh.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose() => _dir.Dispose();

    static BridgeConfig Config(EncryptionConfig encryption) => new() { ChunkSize = 4096, Encryption = encryption };

    /// <summary>The restoring machine's config: the public key to dump with, the private key to read.</summary>
    BridgeConfig Restorer => Config(new EncryptionConfig { Recipients = [_publicKey], PrivateKeyFile = _privateKey });

    /// <summary>
    /// Regression: `replica verify` reported a dump written by someone holding only the recipient's public key as
    /// "manifest authenticated, with the name, created_at and sizes its index entry matched".
    /// </summary>
    [Fact]
    public async Task Verify_DumpForgedWithOnlyTheRecipientsPublicKey_IsNotReportedAsAuthenticated()
    {
        // The forger's config: the public key alone.
        await WriteCodedDumpAsync(_bridge, "nightly-forged", Bytes(5000), Config(new EncryptionConfig { Recipients = [_publicKey] }));

        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, "nightly-forged", Restorer, CancellationToken.None);

        Assert.Equal(ManifestAuthentication.OpenedWithPrivateKey, verified.Manifest);
    }

    [Fact]
    public async Task Verify_DumpForRecipientAndRawKey_AuthenticatedByTheSlotThatOpenedIt()
    {
        await WriteCodedDumpAsync(_bridge, "d1", Bytes(5000), Config(new EncryptionConfig { Recipients = [_publicKey], Key = _rawKey }));

        VerifiedDump byRawKey = await RestoreJob.VerifyAsync(_bridge, "d1", Config(new EncryptionConfig { Key = _rawKey }), CancellationToken.None);
        VerifiedDump byPrivateKey = await RestoreJob.VerifyAsync(_bridge, "d1", Restorer, CancellationToken.None);
        // Both configured: the raw key is tried before the private key, so the dump is authenticated.
        VerifiedDump byBoth = await RestoreJob.VerifyAsync(_bridge, "d1",
            Config(new EncryptionConfig { Recipients = [_publicKey], PrivateKeyFile = _privateKey, Key = _rawKey }), CancellationToken.None);

        Assert.Equal(ManifestAuthentication.AuthenticatedWithEntry, byRawKey.Manifest);
        Assert.Equal(ManifestAuthentication.OpenedWithPrivateKey, byPrivateKey.Manifest);
        Assert.Equal(ManifestAuthentication.AuthenticatedWithEntry, byBoth.Manifest);
    }

    [Fact]
    public async Task RunAsync_DumpOpenedWithPrivateKey_WarnsItIsNotAuthenticatedAndRestores()
    {
        byte[] data = Bytes(5000);
        await WriteCodedDumpAsync(_bridge, "d1", data, Config(new EncryptionConfig { Recipients = [_publicKey] }));
        var warnings = new List<string>();
        string output = _dir.Combine("restored.sql");

        await RestoreJob.RunAsync(_bridge, null, new FileDestination(output), Restorer, CancellationToken.None,
            new RestoreCounter { Warned = warnings.Add });

        string warning = Assert.Single(warnings);
        Assert.Contains("dump 'd1' opened with a private key", warning);
        Assert.Contains("NOT authenticated", warning);
        Assert.Equal(data, File.ReadAllBytes(output));
    }

    [Fact]
    public async Task RunAsync_DumpOpenedWithRawKey_DoesNotWarn()
    {
        var config = Config(new EncryptionConfig { Recipients = [_publicKey], Key = _rawKey });
        await WriteCodedDumpAsync(_bridge, "d1", Bytes(5000), config);
        var warnings = new List<string>();

        await RestoreJob.RunAsync(_bridge, "d1", new FileDestination(_dir.Combine("restored.sql")), Config(new EncryptionConfig { Key = _rawKey }),
            CancellationToken.None, new RestoreCounter { Warned = warnings.Add });

        Assert.Empty(warnings);
    }
}
