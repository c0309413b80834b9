using System.Runtime.InteropServices;

namespace Replica.Codecs;

/// <summary>
/// The few functions of the system libzstd (Debian package libzstd1) that <see cref="ZstdCodec"/> needs: the streaming
/// API of zstd.h, stable since libzstd 1.4.0. Bound by the runtime name "libzstd.so.1" so the -dev package (which only
/// adds the unversioned libzstd.so link) is not needed. Buffers are passed as blittable structs over pinned spans, so a
/// call allocates nothing. See https://facebook.github.io/zstd/zstd_manual.html.
/// </summary>
internal static unsafe partial class ZstdNative
{
    public const string LibraryName = "libzstd.so.1";
    public const string PackageHint = "apt-get install libzstd1";

    /// <summary>ZSTD_compressStream2 and the parameter API became stable in 1.4.0.</summary>
    const uint MinVersionNumber = 10400;

    static readonly Lazy<Exception?> s_loadFailure = new(TryLoad);

    /// <summary>
    /// Loads libzstd once, before the first call, so a missing library is reported as a <see cref="ConfigException"/>
    /// that says which package to install instead of a DllNotFoundException from deep inside a chunk.
    /// </summary>
    public static void EnsureLoaded()
    {
        if (s_loadFailure.Value is { } failure)
        {
            throw LibraryMissing(failure);
        }
    }

    static Exception? TryLoad()
    {
        try
        {
            NativeLibrary.Load(LibraryName, typeof(ZstdNative).Assembly, searchPath: null);
            var version = ZSTD_versionNumber();
            return version >= MinVersionNumber
                ? null
                : new NotSupportedException($"it is version {version / 10000}.{version / 100 % 100}.{version % 100}, and Replica needs 1.4.0 or later");
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return ex;
        }
    }

    /// <summary>The error for a libzstd that cannot be loaded or is too old; <paramref name="reason"/> says why.</summary>
    public static ConfigException LibraryMissing(Exception reason) => new(MissingLibraryMessage(reason.Message));

    public static string MissingLibraryMessage(string reason) =>
        $"zstd compression needs the system library libzstd ({LibraryName}), which could not be loaded: {reason.TrimEnd('.')}. "
        + $"Install it with '{PackageHint}' (Debian/Ubuntu), or choose compression 'gzip' or 'none'.";

    /// <summary>libzstd's name for an error code, e.g. "Data corruption detected" or "Unknown frame descriptor".</summary>
    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8((nint)ZSTD_getErrorName(code)) ?? $"error {code}";

    public static bool IsError(nuint code) => ZSTD_isError(code) != 0;

    // ZSTD_cParameter values from zstd.h.
    public const int CompressionLevelParameter = 100;
    public const int ChecksumFlagParameter = 201;
    public const int WorkerCountParameter = 400;

    // ZSTD_EndDirective and ZSTD_ResetDirective values from zstd.h. A chunk is compressed in one call sequence with
    // ZSTD_e_end from the start (the whole chunk is in memory), so ZSTD_e_continue is never needed.
    public const int EndFrame = 2;
    public const int ResetSessionOnly = 1;

    /// <summary>ZSTD_inBuffer: what libzstd reads, and how far it got.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct InBuffer
    {
        public byte* Source;
        public nuint Size;
        public nuint Position;
    }

    /// <summary>ZSTD_outBuffer: where libzstd writes, and how far it got.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct OutBuffer
    {
        public byte* Destination;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(LibraryName)]
    public static partial uint ZSTD_versionNumber();

    [LibraryImport(LibraryName)]
    public static partial uint ZSTD_isError(nuint code);

    [LibraryImport(LibraryName)]
    public static partial byte* ZSTD_getErrorName(nuint code);

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_CStreamOutSize();

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_DStreamOutSize();

    [LibraryImport(LibraryName)]
    public static partial CompressionContext ZSTD_createCCtx();

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_freeCCtx(nint cctx);

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_CCtx_setParameter(CompressionContext cctx, int parameter, int value);

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_CCtx_reset(CompressionContext cctx, int reset);

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_compressStream2(CompressionContext cctx, OutBuffer* output, InBuffer* input, int endOp);

    [LibraryImport(LibraryName)]
    public static partial DecompressionContext ZSTD_createDCtx();

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_freeDCtx(nint dctx);

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_DCtx_reset(DecompressionContext dctx, int reset);

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_decompressStream(DecompressionContext dctx, OutBuffer* output, InBuffer* input);

    /// <summary>ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are the two largest values; both exceed any chunk.</summary>
    [LibraryImport(LibraryName)]
    public static partial ulong ZSTD_getFrameContentSize(byte* source, nuint sourceSize);

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_findFrameCompressedSize(byte* source, nuint sourceSize);

    [LibraryImport(LibraryName)]
    public static partial nuint ZSTD_decompressDCtx(DecompressionContext dctx, byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize);

    /// <summary>A ZSTD_CCtx*, freed exactly once even if the codec is never disposed.</summary>
    public sealed class CompressionContext : SafeHandle
    {
        public CompressionContext() : base(0, ownsHandle: true) { }

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            ZSTD_freeCCtx(handle);
            return true;
        }
    }

    /// <summary>A ZSTD_DCtx*, freed exactly once even if the codec is never disposed.</summary>
    public sealed class DecompressionContext : SafeHandle
    {
        public DecompressionContext() : base(0, ownsHandle: true) { }

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            ZSTD_freeDCtx(handle);
            return true;
        }
    }
}
