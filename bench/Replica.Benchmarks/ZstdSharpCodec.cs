using System.Buffers;
using ZstdSharp.Unsafe;
using static ZstdSharp.Unsafe.Methods;

namespace Replica.Benchmarks;

/// <summary>
/// <see cref="Replica.Codecs.ZstdCodec"/> with ZstdSharp.Port (zstd 1.5 ported to C#) in place of the system libzstd:
/// the same streaming calls, parameters and frame (content size + checksum), so the two are compared call for call.
/// Used only by <see cref="ZstdComparison"/>; errors are reported plainly.
/// </summary>
internal sealed unsafe class ZstdSharpCodec : IDisposable
{
    readonly ZSTD_CCtx_s* _cctx;
    readonly ZSTD_DCtx_s* _dctx;
    readonly int _compressOutSize;
    readonly int _decompressOutSize;

    public ZstdSharpCodec(int level, int workers = 0)
    {
        _compressOutSize = (int)ZSTD_CStreamOutSize();
        _decompressOutSize = (int)ZSTD_DStreamOutSize();
        _cctx = ZSTD_createCCtx();
        _dctx = ZSTD_createDCtx();
        Check(ZSTD_CCtx_setParameter(_cctx, ZSTD_cParameter.ZSTD_c_compressionLevel, level));
        Check(ZSTD_CCtx_setParameter(_cctx, ZSTD_cParameter.ZSTD_c_checksumFlag, 1));
        if (workers > 0)
        {
            Check(ZSTD_CCtx_setParameter(_cctx, ZSTD_cParameter.ZSTD_c_nbWorkers, workers));
        }
    }

    public void Encode(ReadOnlySpan<byte> plain, IBufferWriter<byte> output)
    {
        Check(ZSTD_CCtx_reset(_cctx, ZSTD_ResetDirective.ZSTD_reset_session_only));
        fixed (byte* source = plain)
        {
            var input = new ZSTD_inBuffer_s { src = source, size = (nuint)plain.Length };
            var hint = Math.Max(_compressOutSize, plain.Length + (plain.Length >> 8) + (128 << 10));
            while (true)
            {
                Span<byte> span = output.GetSpan(hint);
                hint = _compressOutSize;
                nuint remaining;
                int written;
                fixed (byte* destination = span)
                {
                    var outBuffer = new ZSTD_outBuffer_s { dst = destination, size = (nuint)span.Length };
                    remaining = ZSTD_compressStream2(_cctx, &outBuffer, &input, ZSTD_EndDirective.ZSTD_e_end);
                    written = (int)outBuffer.pos;
                }
                Check(remaining);
                output.Advance(written);
                if (remaining == 0)
                {
                    return;
                }
            }
        }
    }

    public void Decode(ReadOnlySpan<byte> stored, IBufferWriter<byte> output)
    {
        Check(ZSTD_DCtx_reset(_dctx, ZSTD_ResetDirective.ZSTD_reset_session_only));
        fixed (byte* source = stored)
        {
            var input = new ZSTD_inBuffer_s { src = source, size = (nuint)stored.Length };
            while (true)
            {
                Span<byte> span = output.GetSpan(_decompressOutSize);
                nuint result;
                ZSTD_outBuffer_s outBuffer;
                fixed (byte* destination = span)
                {
                    outBuffer = new ZSTD_outBuffer_s { dst = destination, size = (nuint)span.Length };
                    result = ZSTD_decompressStream(_dctx, &outBuffer, &input);
                }
                Check(result);
                output.Advance((int)outBuffer.pos);
                if (result == 0)
                {
                    return;
                }
                if (input.pos == input.size && outBuffer.pos < outBuffer.size)
                {
                    throw new InvalidDataException("truncated zstd frame");
                }
            }
        }
    }

    public void Dispose()
    {
        ZSTD_freeCCtx(_cctx);
        ZSTD_freeDCtx(_dctx);
    }

    static void Check(nuint result)
    {
        if (ZSTD_isError(result))
        {
            throw new InvalidOperationException($"ZstdSharp: {ZSTD_getErrorName(result)}");
        }
    }
}
