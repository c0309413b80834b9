using System.Diagnostics;
using System.Globalization;

namespace Replica.KeyStoreBench;

/// <summary>
/// Issue 11: times one candidate key store for FK-aware subsetting (insert with dedupe, point lookups, sorted enumeration,
/// count) and prints one CSV line. Usage: --store sqlite|duckdb|duckdb-anti|rocksdb|runs|none --keys N [--budget-mb 64]
/// [--dir TMPDIR] [--lookups L] [--max-insert-s S] [--header]
/// </summary>
internal static class Program
{
    public const string Header = "store,keys,insert_s_wall,insert_cpu_s,insert_keys_per_s,lookups,lookup_s_wall,lookup_keys_per_s,"
        + "enumerate_s,peak_rss_mib,disk_mib,correct,inserts,lookup_cpu_s,count_s,note";

    static int Main(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (Exception e) when (s_store is not null)
        {
            // A store that fails (out of memory, native error) still leaves a line: what it got through, and why it stopped.
            string why = e.Message.Split('\n')[0].Trim();
            Console.Error.WriteLine(e);
            Console.WriteLine(string.Join(',', s_store, s_keys, F(s_wall.Elapsed.TotalSeconds), "", "", 0, "", "", "", F(Rss("VmHWM:")),
                F(DirMiB(s_dir)), "error", s_sent, "", "", Csv($"{s_phase} failed after {s_sent} inserts: {why}")));
            return 4;
        }
    }

    static string? s_store;
    static long s_keys, s_sent;
    static string s_dir = "", s_phase = "insert";
    static readonly Stopwatch s_wall = new();

    static int Run(string[] args)
    {
        var opt = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--header")
            {
                Console.WriteLine(Header);
                return 0;
            }
            opt[args[i]] = i + 1 < args.Length ? args[++i] : "";
        }
        string storeName = opt.GetValueOrDefault("--store", "runs");
        long n = long.Parse(opt.GetValueOrDefault("--keys", "1000000"), CultureInfo.InvariantCulture);
        int budgetMb = int.Parse(opt.GetValueOrDefault("--budget-mb", "64"), CultureInfo.InvariantCulture);
        long lookups = long.Parse(opt.GetValueOrDefault("--lookups", Math.Min(n, 1_000_000).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        double maxInsertS = double.Parse(opt.GetValueOrDefault("--max-insert-s", "1e9"), CultureInfo.InvariantCulture);
        string dir = opt.GetValueOrDefault("--dir", Path.Combine(Path.GetTempPath(), "keystore-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
        Directory.CreateDirectory(dir);
        long budget = budgetMb * 1024L * 1024L;
        (s_store, s_keys, s_dir) = (storeName, n, dir);

        IKeyStore store = storeName switch
        {
            "sqlite" => new SqliteStore(dir, budget),
            "duckdb" => new DuckDbStore(dir, budgetMb, primaryKey: true),
            "duckdb-anti" => new DuckDbStore(dir, budgetMb, primaryKey: false),
            "rocksdb" => new RocksDbStore(dir, budget),
            "runs" => new SortedRunStore(dir, budget),
            "none" => new NullStore(),
            _ => throw new ArgumentException("unknown store " + storeName),
        };
        bool check = storeName != "none";
        var notes = new List<string>();
        bool correct = true;

        // Insert with dedupe.
        var batch = new KeyBatch();
        var expected = new bool[KeyBatch.Capacity];
        var answer = new bool[KeyBatch.Capacity];
        var inserts = new InsertStream(n, seed: 11);
        long sent = 0, wrongNew = 0, nextReport = inserts.Total / 10;
        TimeSpan cpu0 = Cpu();
        Stopwatch wall = s_wall;
        wall.Start();
        bool cut = false;
        while (inserts.Fill(batch, expected))
        {
            store.Insert(batch, answer);
            for (int i = 0; i < batch.Count; i++)
            {
                wrongNew += check && answer[i] != expected[i] ? 1 : 0;
            }
            sent += batch.Count;
            s_sent = sent;
            if (sent >= nextReport)
            {
                Console.Error.WriteLine($"  {storeName} {n}: {sent}/{inserts.Total} inserts, {wall.Elapsed.TotalSeconds:F1} s, rss {Rss("VmRSS:"):F0} MiB");
                nextReport += inserts.Total / 10;
            }
            if (wall.Elapsed.TotalSeconds > maxInsertS)
            {
                cut = true;
                break;
            }
        }
        double insertS = wall.Elapsed.TotalSeconds, insertCpu = (Cpu() - cpu0).TotalSeconds;
        if (wrongNew > 0)
        {
            correct = false;
            notes.Add($"{wrongNew} wrong isNew");
        }
        if (cut)
        {
            notes.Add($"cut after {insertS:F0} s at {sent} of {inserts.Total} inserts; extrapolated {insertS * inserts.Total / sent:F0} s");
            Console.WriteLine(string.Join(',', storeName, n, F(insertS), F(insertCpu), F(sent / insertS), 0, "", "", "", F(Rss("VmHWM:")), F(DirMiB(dir)),
                "cut", sent, "", "", Csv(string.Join("; ", notes))));
            store.Dispose();
            return 3;
        }

        // Count.
        s_phase = "count";
        wall.Restart();
        long count = store.Count();
        double countS = wall.Elapsed.TotalSeconds;
        if (check && count != n)
        {
            correct = false;
            notes.Add($"count {count} != {n}");
        }

        // Point lookups, in batches of 5000.
        s_phase = "lookup";
        var lookupStream = new LookupStream(n, lookups, seed: 11);
        long wrongFound = 0;
        cpu0 = Cpu();
        wall.Restart();
        while (lookupStream.Fill(batch, expected))
        {
            store.Contains(batch, answer);
            for (int i = 0; i < batch.Count; i++)
            {
                wrongFound += check && answer[i] != expected[i] ? 1 : 0;
            }
        }
        double lookupS = wall.Elapsed.TotalSeconds, lookupCpu = (Cpu() - cpu0).TotalSeconds;
        if (wrongFound > 0)
        {
            correct = false;
            notes.Add($"{wrongFound} wrong lookups");
        }

        // Enumerate set 0 in byte order: strictly ascending, every key of the space, in set 0, inserted.
        s_phase = "enumerate";
        long expectedInSet = (n + Keys.Sets - 1) / Keys.Sets, bad = 0, seen = 0;
        var prev = new byte[Keys.MaxKeyBytes];
        int prevLen = -1;
        wall.Restart();
        store.Enumerate(0, key =>
        {
            seen++;
            long id = Keys.Parse(key);
            bool ok = id >= 0 && id < n && id % Keys.Sets == 0 && (prevLen < 0 || key.SequenceCompareTo(prev.AsSpan(0, prevLen)) > 0);
            if (ok)
            {
                Span<byte> again = stackalloc byte[Keys.MaxKeyBytes];
                int len = Keys.Write(id, again);
                ok = again[1..len].SequenceEqual(key);
            }
            bad += ok ? 0 : 1;
            key.CopyTo(prev);
            prevLen = key.Length;
        });
        double enumerateS = wall.Elapsed.TotalSeconds;
        if (check && (bad > 0 || seen != expectedInSet))
        {
            correct = false;
            notes.Add($"enumerate: {seen} keys of {expectedInSet}, {bad} out of order or foreign");
        }

        double disk = DirMiB(dir);
        store.Dispose();
        Console.WriteLine(string.Join(',', storeName, n, F(insertS), F(insertCpu), F(inserts.Total / insertS), lookups, F(lookupS), F(lookups / lookupS),
            F(enumerateS), F(Rss("VmHWM:")), F(disk), check ? (correct ? "true" : "false") : "n/a", inserts.Total, F(lookupCpu), F(countS),
            Csv(string.Join("; ", notes))));
        return correct ? 0 : 1;
    }

    static string F(double v) => v.ToString(v >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture);

    static string Csv(string s) => s.Contains(',', StringComparison.Ordinal) ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    static TimeSpan Cpu()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime;
    }

    /// <summary>A line of /proc/self/status in MiB (VmHWM: peak resident set, VmRSS: current).</summary>
    static double Rss(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return double.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
            }
        }
        return double.NaN;
    }

    static double DirMiB(string dir) =>
        new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) / 1048576.0;
}
