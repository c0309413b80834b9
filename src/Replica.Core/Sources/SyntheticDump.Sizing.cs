namespace Replica.Sources;

/// <summary>
/// How many rows a dump of a given size holds. Everything scales with the customers C: 4C orders, 10C order items
/// (runs of four orders with 1, 2, 3 and 4 lines), 4C payments (one per order) and min(10,000, max(10, C/20)) products.
/// The size of a dump of C customers is its fixed text (exact) + its products (exact) + Σ unit(x) for x = 1..C, where
/// unit(x) is customer x with orders 4x−3..4x, their lines and payments. The sum is exact up to 1,024 customers; beyond,
/// each doubling [a, 2a) is a window of 128 units sampled at its geometric middle times its count, so the growth of ids
/// by a digit is followed. The size is then monotone in C, and a binary search finds the C that lands nearest the target.
/// </summary>
internal sealed partial class SyntheticGenerator
{
    const int ExactUnits = 1024;
    const int SampleUnits = 128;

    long[] _unitPrefix = [];
    long[] _productPrefix = [];
    readonly Dictionary<int, double> _doublingAverages = [];
    readonly byte[] _scratch = new byte[MaxRowBytes * 2];

    public static long ProductsFor(long customers) => Math.Clamp(customers / 20, 10, 10_000);

    static SyntheticCounts CountsFor(long customers) =>
        new(customers, ProductsFor(customers), 4 * customers, 10 * customers, 4 * customers);

    SyntheticCounts SolveCounts(long size)
    {
        // The foreign keys' digits depend on C a little: estimate with a first guess of C (bytes per customer ≈ 1.5 KB in
        // COPY; a guess off by 2x moves the estimate by far less than 1 %).
        var guess = Math.Max(1, size / 1500);
        _customers = (ulong)guess;
        _products = (ulong)ProductsFor(guess);
        _productTexts = BuildProductTexts();
        Counts = CountsFor(1);
        var fixedBytes = 0L;
        foreach (var segment in BuildSegments())
        {
            fixedBytes += segment.Text?.Length ?? 0;
        }

        long low = 1, high = Math.Max(1, size / 500);
        while (low < high)
        {
            var middle = low + (high - low + 1) / 2;
            if (Estimate(middle, fixedBytes) <= size)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }
        var customers = low;
        if (Estimate(customers, fixedBytes) < size && Estimate(customers + 1, fixedBytes) - size < size - Estimate(customers, fixedBytes))
        {
            customers++;
        }
        _unitPrefix = [];
        _productPrefix = [];
        _doublingAverages.Clear();
        return CountsFor(customers);
    }

    long Estimate(long customers, long fixedBytes)
    {
        var bytes = fixedBytes + ProductBytes(ProductsFor(customers)) + (long)UnitBytes(customers);
        if (_mySql)
        {
            // Each extended INSERT adds its "INSERT INTO `t` VALUES " and ";\n" (rows' commas are in the units).
            bytes += (bytes / MySqlStatementBytes + SyntheticTables.Count) * 36;
        }
        return bytes;
    }

    long ProductBytes(long products)
    {
        if (_productPrefix.Length <= products)
        {
            var prefix = new long[products + 1];
            _productPrefix.CopyTo(prefix, 0);
            for (var id = Math.Max(1, _productPrefix.Length); id <= products; id++)
            {
                prefix[id] = prefix[id - 1] + RowLength(SyntheticTable.Products, id, 1);
            }
            _productPrefix = prefix;
        }
        return _productPrefix[products];
    }

    double UnitBytes(long customers)
    {
        var exact = (int)Math.Min(customers, ExactUnits);
        if (_unitPrefix.Length <= exact)
        {
            var prefix = new long[exact + 1];
            _unitPrefix.CopyTo(prefix, 0);
            for (var x = Math.Max(1, _unitPrefix.Length); x <= exact; x++)
            {
                prefix[x] = prefix[x - 1] + Unit(x);
            }
            _unitPrefix = prefix;
        }
        double bytes = _unitPrefix[exact];
        var doubling = 0;
        for (long start = ExactUnits + 1; start <= customers; start *= 2, doubling++)
        {
            var endExcl = Math.Min(start * 2, customers + 1);
            if (!_doublingAverages.TryGetValue(doubling, out var average))
            {
                var sampleStart = (long)(start * 1.41);
                long sum = 0;
                for (var x = sampleStart; x < sampleStart + SampleUnits; x++)
                {
                    sum += Unit(x);
                }
                average = sum / (double)SampleUnits;
                _doublingAverages[doubling] = average;
            }
            bytes += (endExcl - start) * average;
        }
        return bytes;
    }

    /// <summary>Bytes of customer x with its share of orders, lines and payments (mysqldump: each row's comma too).</summary>
    long Unit(long x)
    {
        var bytes = RowLength(SyntheticTable.Customers, x, 1);
        for (var order = 4 * x - 3; order <= 4 * x; order++)
        {
            bytes += RowLength(SyntheticTable.Orders, order, 1) + RowLength(SyntheticTable.Payments, order, 1);
            var lines = LinesOf(order);
            for (var line = 1; line <= lines; line++)
            {
                bytes += RowLength(SyntheticTable.OrderItems, order, line);
            }
        }
        return bytes + (_mySql ? 19 : 0);
    }

    int RowLength(SyntheticTable table, long id, int line) => WriteRow(ref _scratch[0], 0, table, id, line);
}
