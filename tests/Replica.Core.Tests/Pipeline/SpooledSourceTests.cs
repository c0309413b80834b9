using System.Text;
using Replica.Pipeline;
using Replica.Sources;

namespace Replica.Core.Tests.Pipeline;

public sealed class SpooledSourceTests : IDisposable
{
    readonly string _directory = Path.Combine(Path.GetTempPath(), "replica-spool-tests-" + Guid.NewGuid().ToString("N"));

    public SpooledSourceTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Spool_UnmaskedOriginal_NeverOnDiskInClear_ReadsBackTheSameBytesTwice()
    {
        // A spool holds the unmasked original (stdin, mysqldump's output): a process killed before it removes its
        // directory must leave nothing readable. Several 4 MiB blocks, each with a value zstd keeps as a literal.
        var text = new StringBuilder();
        for (int i = 0; text.Length < 9 << 20; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i}\tperson-{i * 7919 % 100_003}@customer.example\t+49 30 {i:D7}\n");
        }
        byte[] original = Encoding.UTF8.GetBytes(text.ToString());
        string input = Path.Combine(_directory, "original.sql");
        await File.WriteAllBytesAsync(input, original);
        string spoolDirectory = Path.Combine(_directory, "spool");
        Directory.CreateDirectory(spoolDirectory);

        var spooled = await SpooledSource.WriteAsync(new FileDumpSource(input), spoolDirectory, CancellationToken.None);

        Assert.Equal(original.Length, spooled.Length);
        string spool = Assert.Single(Directory.GetFiles(spoolDirectory));
        byte[] onDisk = await File.ReadAllBytesAsync(spool);
        // Whoever finds the file cannot decompress a block of it (zstd's Huffman-coded literals are no protection).
        int stored = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(onDisk);
        Assert.InRange(stored, 1, onDisk.Length - 8);
        using (var zstd = new Replica.Codecs.ZstdCodec(level: 1))
        {
            var plain = new System.Buffers.ArrayBufferWriter<byte>();
            bool decoded;
            try
            {
                zstd.Decode(onDisk.AsSpan(8, stored), 0, isLast: false, plain);
                decoded = true;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                decoded = false;
            }
            Assert.False(decoded && Encoding.UTF8.GetString(plain.WrittenSpan).Contains("@customer.example", StringComparison.Ordinal),
                "the first block of the spool decompresses to the original");
        }
        for (int read = 0; read < 2; read++)
        {
            using var stream = spooled.Open();
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(original, copy.ToArray());
        }
    }
}
