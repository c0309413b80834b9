using System.Buffers;
using System.Text.Json.Nodes;
using Replica.Codecs.Encryption;
using static Replica.Core.Tests.Codecs.Encryption.EncryptionTestSupport;

namespace Replica.Core.Tests.Codecs.Encryption;

public sealed class DumpEncryptionTests
{
    static readonly byte[][] s_chunks = Split(Bytes(250), 100, 100, 50);

    [Fact]
    public void CreateHeader_DefaultIterations_AreAtLeast600000()
    {
        using var keys = new EncryptionKeys().AddPassphrase(Passphrase);

        EncryptionHeader header = DumpEncryption.CreateHeader(keys, out AesGcmChunkCodec codec);
        codec.Dispose();

        Assert.Equal(600_000, EncryptionKeys.DefaultPbkdf2Iterations);
        KeySlot slot = Assert.Single(header.KeySlots);
        Assert.Equal(KeySlotMethods.Passphrase, slot.Method);
        Assert.Equal(KeySlotMethods.Pbkdf2HmacSha256, slot.Kdf);
        Assert.True(slot.Iterations >= 600_000);
        Assert.True(Convert.FromBase64String(slot.Salt!).Length >= 16);
    }

    [Fact]
    public void Pbkdf2Iterations_BelowMinimum_IsRejected()
    {
        Assert.Throws<ConfigException>(() => new EncryptionKeys { Pbkdf2Iterations = 10 });
    }

    [Fact]
    public void CreateHeader_Header_HasFreshRandomIdsAndNoSecret()
    {
        using EncryptionKeys keys = PassphraseKeys();

        (EncryptionHeader first, _) = EncryptDump(keys, s_chunks);
        (EncryptionHeader second, _) = EncryptDump(keys, s_chunks);

        Assert.Equal("aes-256-gcm", first.Algorithm);
        Assert.Equal(4, first.Version);
        Assert.Equal(16, Convert.FromBase64String(first.DumpId).Length);
        Assert.Equal(4, Convert.FromBase64String(first.NoncePrefix).Length);
        Assert.NotEqual(first.DumpId, second.DumpId);
        Assert.NotEqual(first.KeySlots[0].Salt, second.KeySlots[0].Salt);
        Assert.DoesNotContain(Passphrase, first.ToJson());
    }

    [Fact]
    public void Parse_NullKeySlot_IsAnIntegrityErrorNotACrashWhenOpening()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, _) = EncryptDump(keys, s_chunks);
        JsonNode node = JsonNode.Parse(header.ToJson())!;
        node["key_slots"]!.AsArray().Insert(0, null);

        var ex = Assert.Throws<IntegrityException>(() => EncryptionHeader.Parse(node.ToJsonString()));

        Assert.Contains("key_slots[0] is null", ex.Message);
    }

    [Fact]
    public void Header_Json_RoundTripsWithSnakeCaseNames()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, s_chunks);

        string json = header.ToJson();
        EncryptionHeader parsed = EncryptionHeader.Parse(json);

        JsonNode node = JsonNode.Parse(json)!;
        Assert.Equal("aes-256-gcm", (string?)node["algorithm"]);
        Assert.NotNull(node["dump_id"]);
        Assert.NotNull(node["nonce_prefix"]);
        JsonNode slot = node["key_slots"]![0]!;
        Assert.Equal("passphrase", (string?)slot["method"]);
        Assert.Equal(FastIterations, (int?)slot["iterations"]);
        Assert.NotNull(slot["wrapped_key"]);
        Assert.Null(slot["key_id"]); // absent fields are left out, not written as null
        Assert.Equal(Concat(s_chunks), DecryptDump(parsed, keys, stored));
    }

    [Fact]
    public void Parse_NotJson_IsIntegrityError()
    {
        Assert.Throws<IntegrityException>(() => EncryptionHeader.Parse("{\"algorithm\":"));
    }

    [Fact]
    public void Open_WrongPassphrase_IsWrongKeyWithoutEchoingIt()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, _) = EncryptDump(keys, s_chunks);
        using EncryptionKeys wrong = PassphraseKeys("Tr0ub4dor&3");

        var ex = Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(header, wrong));

        Assert.Equal("The passphrase does not open this dump (a wrong key, or the dump's encryption header was altered).", ex.Message);
        Assert.Equal(ReplicaErrorKind.Integrity, ex.Kind);
    }

    [Fact]
    public void Open_RawKeyFromEnvironment_RoundTrips()
    {
        string variable = "REPLICA_TEST_KEY_" + Guid.NewGuid().ToString("N");
        string base64 = Convert.ToBase64String(Bytes(32, seed: 11));
        Environment.SetEnvironmentVariable(variable, base64);
        try
        {
            using EncryptionKeys keys = new EncryptionKeys().AddRawKeyFromEnvironment(variable);
            (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, s_chunks);

            KeySlot slot = Assert.Single(header.KeySlots);
            Assert.Equal(KeySlotMethods.RawKey, slot.Method);
            Assert.Equal(Concat(s_chunks), DecryptDump(header, keys, stored));
            Assert.Contains(variable, keys.ToString());
            Assert.DoesNotContain(base64, keys.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Open_RawKeyFile_RoundTripsAndWrongKeyFileIsWrongKey()
    {
        using var directory = new KeyDirectory();
        string right = directory.Combine("right.key");
        string wrong = directory.Combine("wrong.key");
        File.WriteAllText(right, Convert.ToBase64String(Bytes(32, seed: 1)) + "\n");
        File.WriteAllText(wrong, Convert.ToBase64String(Bytes(32, seed: 2)));
        using EncryptionKeys keys = new EncryptionKeys().AddRawKeyFile(right);
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, s_chunks);

        Assert.Equal(Concat(s_chunks), DecryptDump(header, keys, stored));
        using EncryptionKeys wrongKeys = new EncryptionKeys().AddRawKeyFile(wrong);
        var ex = Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(header, wrongKeys));
        Assert.Contains($"The key from {wrong} does not open this dump", ex.Message);
        Assert.DoesNotContain(File.ReadAllText(wrong).Trim(), ex.Message);
    }

    [Theory]
    [InlineData("c2hvcnQ=")]
    [InlineData("not base64 at all!")]
    public void AddRawKeyBase64_NotThirtyTwoBytes_IsConfigErrorWithoutTheValue(string value)
    {
        var ex = Assert.Throws<ConfigException>(() => new EncryptionKeys().AddRawKeyBase64(value, "environment variable K"));

        Assert.Contains("environment variable K", ex.Message);
        Assert.DoesNotContain(value, ex.Message);
    }

    [Fact]
    public void Open_PassphraseAndRawKeySlots_EitherOpens()
    {
        using EncryptionKeys both = PassphraseKeys().AddRawKey(Bytes(32, seed: 5), "test key");
        (EncryptionHeader header, byte[][] stored) = EncryptDump(both, s_chunks);
        using EncryptionKeys passphraseOnly = PassphraseKeys();
        using EncryptionKeys keyOnly = new EncryptionKeys().AddRawKey(Bytes(32, seed: 5), "test key");

        Assert.Equal(2, header.KeySlots.Count);
        Assert.Equal(Concat(s_chunks), DecryptDump(header, passphraseOnly, stored));
        Assert.Equal(Concat(s_chunks), DecryptDump(header, keyOnly, stored));
    }

    [Fact]
    public void Open_KeyOfAnotherKind_SaysWhatTheDumpNeeds()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, _) = EncryptDump(keys, s_chunks);
        using EncryptionKeys rawKey = new EncryptionKeys().AddRawKey(Bytes(32), "key file k.txt");

        var ex = Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(header, rawKey));

        Assert.Contains("It opens with a passphrase", ex.Message);
        Assert.Contains("a raw key from key file k.txt", ex.Message);
    }

    [Fact]
    public void CreateHeader_NoKeys_IsConfigError()
    {
        using var keys = new EncryptionKeys();

        Assert.Throws<ConfigException>(() => DumpEncryption.CreateHeader(keys, out _));
    }

    public static TheoryData<string> Tamperings() => new()
    {
        "iterations", "salt", "wrapped_key", "nonce", "dump_id", "nonce_prefix", "kdf-free method swap",
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public void Open_TamperedHeader_FailsBeforeAnyChunk(string field)
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, _) = EncryptDump(keys, s_chunks);
        KeySlot slot = header.KeySlots[0];
        EncryptionHeader tampered = field switch
        {
            "iterations" => header with { KeySlots = [slot with { Iterations = slot.Iterations + 1 }] },
            "salt" => header with { KeySlots = [slot with { Salt = Flip(slot.Salt!) }] },
            "wrapped_key" => header with { KeySlots = [slot with { WrappedKey = Flip(slot.WrappedKey) }] },
            "nonce" => header with { KeySlots = [slot with { Nonce = Flip(slot.Nonce) }] },
            "dump_id" => header with { DumpId = Flip(header.DumpId) },
            "nonce_prefix" => header with { NoncePrefix = Flip(header.NoncePrefix) },
            _ => header with { KeySlots = [slot with { Method = KeySlotMethods.RawKey, Kdf = KeySlotMethods.HkdfSha256 }] },
        };
        using EncryptionKeys both = PassphraseKeys().AddRawKey(Bytes(32), "test key");

        // Every field is bound into the wrap's associated data, so a change surfaces as "does not open", at Open.
        Assert.Throws<WrongKeyException>(() => DumpEncryption.Open(tampered, both));
    }

    [Fact]
    public void Open_HugeIterationCount_IsRejectedWithoutRunningIt()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, _) = EncryptDump(keys, s_chunks);
        EncryptionHeader tampered = header with { KeySlots = [header.KeySlots[0] with { Iterations = int.MaxValue }] };

        var ex = Assert.Throws<IntegrityException>(() => DumpEncryption.Open(tampered, keys));

        Assert.Contains("iterations", ex.Message);
    }

    /// <summary>
    /// Regression: a header may be edited to hold many passphrase slots, each with the highest iteration count, and Open
    /// derived a key for every one before any tag was checked (~35 s per slot at the old cap of 100,000,000). Replica
    /// writes one passphrase slot and one raw-key slot at most, so more is an edited header, refused before deriving.
    /// The bogus slots come first and the real one last: before the fix the dump opened after deriving them all.
    /// </summary>
    [Theory]
    [InlineData(KeySlotMethods.Passphrase)]
    [InlineData(KeySlotMethods.RawKey)]
    public void Open_HeaderWithExtraSlotsOfOneMethod_IsRefusedAsAlteredBeforeDeriving(string method)
    {
        using EncryptionKeys keys = PassphraseKeys().AddRawKey(Bytes(32, seed: 5), "test key");
        (EncryptionHeader header, _) = EncryptDump(keys, s_chunks);
        KeySlot real = header.KeySlots.Single(s => s.Method == method);
        KeySlot bogus = real with { Salt = Convert.ToBase64String(Bytes(16, seed: 9)) };
        EncryptionHeader edited = header with { KeySlots = [bogus, bogus, bogus, .. header.KeySlots] };

        var ex = Assert.Throws<IntegrityException>(() => DumpEncryption.Open(edited, keys).Dispose());

        Assert.Contains("the header was altered", ex.Message);
    }

    [Fact]
    public void Open_HeaderWithMoreSlotsThanReplicaWrites_IsRefusedAsAltered()
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, _) = EncryptDump(keys, s_chunks);
        // Slots of a method this version does not know: each is harmless alone, a long list is not written by replica.
        KeySlot unknown = new("x-unknown", "AAAA", "AAAA");
        EncryptionHeader edited = header with { KeySlots = [.. Enumerable.Repeat(unknown, EncryptionKeys.MaxKeySlots), header.KeySlots[0]] };

        var ex = Assert.Throws<IntegrityException>(() => DumpEncryption.Open(edited, keys).Dispose());

        Assert.Contains($"{EncryptionKeys.MaxKeySlots + 1} key slots", ex.Message);
    }

    [Fact]
    public void Pbkdf2Iterations_AboveCap_IsRejectedAndTheDefaultIsWellBelowIt()
    {
        Assert.Throws<ConfigException>(() => new EncryptionKeys { Pbkdf2Iterations = EncryptionKeys.MaxPbkdf2Iterations + 1 });
        Assert.True(EncryptionKeys.MaxPbkdf2Iterations <= 10_000_000);
        Assert.True(EncryptionKeys.DefaultPbkdf2Iterations * 10 <= EncryptionKeys.MaxPbkdf2Iterations);
    }

    [Theory]
    [InlineData("algorithm")]
    [InlineData("version")]
    [InlineData("dump_id")]
    [InlineData("no slots")]
    public void Open_MalformedHeader_IsIntegrityError(string field)
    {
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, _) = EncryptDump(keys, s_chunks);
        EncryptionHeader malformed = field switch
        {
            "algorithm" => header with { Algorithm = "chacha20-poly1305" },
            "version" => header with { Version = EncryptionHeader.CurrentVersion + 1 },
            "dump_id" => header with { DumpId = "AAAA" },
            _ => header with { KeySlots = [] },
        };

        var ex = Assert.Throws<IntegrityException>(() => DumpEncryption.Open(malformed, keys));

        Assert.Contains("encryption header", ex.Message);
    }

    [Fact]
    public void EncryptionKeys_ToStringAndErrors_NeverShowThePassphrase()
    {
        using EncryptionKeys keys = PassphraseKeys().AddRawKey(Bytes(32), "test key");

        Assert.Equal("a passphrase, a key from test key", keys.ToString());
        Assert.DoesNotContain(Passphrase, keys.ToString());
    }

    [Fact]
    public void Open_WrongPassphrase_NothingIsDecoded()
    {
        // Open is where a wrong key fails: the restore never gets a codec, so no chunk reaches the output.
        using EncryptionKeys keys = PassphraseKeys();
        (EncryptionHeader header, byte[][] stored) = EncryptDump(keys, s_chunks);
        using EncryptionKeys wrong = PassphraseKeys("wrong");
        var output = new ArrayBufferWriter<byte>();

        Assert.Throws<WrongKeyException>(() =>
        {
            using AesGcmChunkCodec codec = DumpEncryption.Open(header, wrong);
            DecodeAll(codec, stored, output);
        });
        Assert.Equal(0, output.WrittenCount);
    }

    static string Flip(string base64)
    {
        byte[] bytes = Convert.FromBase64String(base64);
        bytes[^1] ^= 1;
        return Convert.ToBase64String(bytes);
    }
}
