using System.Security.Cryptography;
using Replica.Bridges;
using Replica.Config;
using Replica.Core.Tests.Bridges;
using Replica.Core.Tests.Config;
using Replica.Destinations;
using Replica.Pipeline;
using Replica.Sources;
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

    /// <summary>
    /// leakcheck reads the stored dump as restore does, and says it as restore does: among its result's warnings (which
    /// `replica leakcheck` prints, and --json lists), once; a dump opened with a raw key gets no such warning.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LeakCheck_DumpOpenedWithPrivateKey_WarnsItIsNotAuthenticated(bool byPrivateKey)
    {
        // The fixture's dump stored as it is, unmasked: leakcheck finds its e-mails, whichever key opened it.
        string sql = Path.Combine(AppContext.BaseDirectory, "Bridges", "Fixtures", "v1.sql");
        await WriteCodedDumpAsync(_bridge, "d1", File.ReadAllBytes(sql), Config(new EncryptionConfig { Recipients = [_publicKey], Key = _rawKey }));
        string encryption = byPrivateKey ? $"{{ recipients: [{_publicKey}], private_key_file: {_privateKey} }}" : $"{{ key: {_rawKey} }}";
        ReplicaConfig config = ConfigTestHelpers.Parse($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            locale: en
            bridge:
              local:
                path: {_dir.Combine("bridge")}
              encryption: {encryption}
            transformers:
              - table: public.customers
                columns:
                  email: email
            """);

        LeakCheckResult result = await LeakCheckJob.RunAsync(config, _bridge, null, new FileDumpSource(sql), new LeakCheckOptions(), null, CancellationToken.None);

        Assert.Equal("d1", result.Name);
        Assert.True(result.Leaks > 0);
        var notAuthenticated = result.Warnings.Where(w => w.Contains("NOT authenticated", StringComparison.Ordinal)).ToList();
        if (byPrivateKey)
        {
            Assert.Equal(
                ["dump 'd1' opened with a private key (bridge.encryption.recipients): it is intact but NOT authenticated; anyone holding the "
                    + "recipient's public key (e.g. any dumping machine's config) and write access to the bridge could have written it, "
                    + "its name, created_at and content included"],
                notAuthenticated);
        }
        else
        {
            Assert.Empty(notAuthenticated);
        }
    }
}
