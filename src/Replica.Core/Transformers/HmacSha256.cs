using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Replica.Transformers;

/// <summary>
/// HMAC-SHA256 under one key, for a value at a time (RFC 2104: H((K ^ opad) || H((K ^ ipad) || m))). The key's two
/// padded blocks are hashed once, here; a value then costs two SHA-256 compressions for up to 55 bytes, run by the
/// system's libcrypto (the library .NET's own cryptography loads on Linux) through its low-level SHA256_Update and
/// SHA256_Final on copies of the two saved states. .NET's IncrementalHash re-keys after every value and crosses into
/// OpenSSL's EVP layer four times with a handle, an error-queue clear and an allocation each: 630 ns per e-mail against
/// about 150 here (bench/Replica.Benchmarks TransformerBenchmarks.Hash), a tenth of a masked dump's CPU where a hashed
/// column is in every row. Where libcrypto's SHA-256 functions are not there (not Linux), IncrementalHash does it.
/// </summary>
/// <remarks>Not thread-safe through the fallback (one IncrementalHash); the libcrypto path keeps no state per call.
/// See https://docs.openssl.org/3.0/man3/SHA256_Init/ (deprecated in 3.0, still exported and still the SHA-NI code).</remarks>
internal sealed unsafe class HmacSha256 : IDisposable
{
    public const int Length = 32;
    const int BlockLength = 64;

    /// <summary>Values up to this length hash without a GC transition: four blocks, well under a microsecond with SHA-NI.</summary>
    const int ShortValue = 256;

    State _inner;
    State _outer;
    readonly IncrementalHash? _fallback;

    public HmacSha256(ReadOnlySpan<byte> key) : this(key, useLibcrypto: true)
    {
    }

    /// <param name="key">The HMAC key, any length.</param>
    /// <param name="useLibcrypto">False takes IncrementalHash even where libcrypto is there (tests compare the two).</param>
    internal HmacSha256(ReadOnlySpan<byte> key, bool useLibcrypto)
    {
        if (!useLibcrypto || !Sha256Native.Available)
        {
            _fallback = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            return;
        }

        Span<byte> block = stackalloc byte[BlockLength];
        block.Clear();
        if (key.Length > BlockLength)
        {
            SHA256.HashData(key, block);
        }
        else
        {
            key.CopyTo(block);
        }
        _inner = Sha256Native.Start(block, 0x36);
        _outer = Sha256Native.Start(block, 0x5c);
        CryptographicOperations.ZeroMemory(block);
    }

    /// <summary>Whether the libcrypto path is in use (a test hook; false means IncrementalHash).</summary>
    public bool IsNative => _fallback is null;

    /// <summary>Writes HMAC-SHA256(key, <paramref name="value"/>) to the first 32 bytes of <paramref name="mac"/>.</summary>
    public void Compute(ReadOnlySpan<byte> value, Span<byte> mac)
    {
        if (mac.Length < Length)
        {
            throw new ArgumentException("The MAC needs 32 bytes.", nameof(mac));
        }
        if (_fallback is not null)
        {
            _fallback.AppendData(value);
            _fallback.GetHashAndReset(mac);
            return;
        }

        State state = _inner;
        byte* digest = stackalloc byte[Length];
        fixed (byte* data = value)
        fixed (byte* output = mac)
        {
            Sha256Native.Update(&state, data, value.Length);
            Sha256Native.Final(digest, &state);
            state = _outer;
            Sha256Native.Update(&state, digest, Length);
            Sha256Native.Final(output, &state);
        }
        state = default;
    }

    /// <summary>The saved states are as good as the key: cleared here.</summary>
    public void Dispose()
    {
        _inner = default;
        _outer = default;
        _fallback?.Dispose();
    }

    /// <summary>
    /// OpenSSL's SHA256_CTX (sha.h: h[8], Nl, Nh, data[16], num, md_len: 112 bytes, the same since 0.9.8), with room to
    /// spare; only libcrypto reads its fields, Replica copies it whole.
    /// </summary>
    [InlineArray(32)]
    struct State
    {
        uint _first;
    }

    /// <summary>SHA256_Init, SHA256_Update and SHA256_Final of libcrypto 3 (or 1.1), bound once by name.</summary>
    static class Sha256Native
    {
        static readonly delegate* unmanaged<State*, int> s_init;
        static readonly delegate* unmanaged<State*, byte*, nuint, int> s_update;
        static readonly delegate* unmanaged[SuppressGCTransition]<State*, byte*, nuint, int> s_updateShort;
        static readonly delegate* unmanaged[SuppressGCTransition]<byte*, State*, int> s_final;

        public static readonly bool Available = Bind(out s_init, out s_update, out s_updateShort, out s_final);

        static bool Bind(
            out delegate* unmanaged<State*, int> init,
            out delegate* unmanaged<State*, byte*, nuint, int> update,
            out delegate* unmanaged[SuppressGCTransition]<State*, byte*, nuint, int> updateShort,
            out delegate* unmanaged[SuppressGCTransition]<byte*, State*, int> final)
        {
            init = null;
            update = null;
            updateShort = null;
            final = null;
            if (!OperatingSystem.IsLinux())
            {
                return false;
            }
            foreach (string name in (ReadOnlySpan<string>)["libcrypto.so.3", "libcrypto.so.1.1"])
            {
                if (NativeLibrary.TryLoad(name, out nint library)
                    && NativeLibrary.TryGetExport(library, "SHA256_Init", out nint initAddress)
                    && NativeLibrary.TryGetExport(library, "SHA256_Update", out nint updateAddress)
                    && NativeLibrary.TryGetExport(library, "SHA256_Final", out nint finalAddress))
                {
                    init = (delegate* unmanaged<State*, int>)initAddress;
                    update = (delegate* unmanaged<State*, byte*, nuint, int>)updateAddress;
                    updateShort = (delegate* unmanaged[SuppressGCTransition]<State*, byte*, nuint, int>)updateAddress;
                    final = (delegate* unmanaged[SuppressGCTransition]<byte*, State*, int>)finalAddress;
                    return true;
                }
            }
            return false;
        }

        /// <summary>The state after one key block XOR <paramref name="pad"/> (HMAC's inner or outer start).</summary>
        public static State Start(ReadOnlySpan<byte> keyBlock, byte pad)
        {
            byte* padded = stackalloc byte[BlockLength];
            for (int i = 0; i < BlockLength; i++)
            {
                padded[i] = (byte)(keyBlock[i] ^ pad);
            }
            State state = default;
            Check(s_init(&state));
            Check(s_update(&state, padded, BlockLength));
            new Span<byte>(padded, BlockLength).Clear();
            return state;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Update(State* state, byte* data, int length) =>
            Check(length <= ShortValue ? s_updateShort(state, data, (nuint)length) : s_update(state, data, (nuint)length));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Final(byte* digest, State* state) => Check(s_final(digest, state));

        static void Check(int result)
        {
            if (result != 1)
            {
                throw new CryptographicException("libcrypto's SHA-256 failed.");
            }
        }
    }
}
