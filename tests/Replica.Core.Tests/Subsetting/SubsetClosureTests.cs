using System.Runtime.CompilerServices;
using System.Text;
using CsCheck;
using Replica.Subsetting;

namespace Replica.Core.Tests.Subsetting;

/// <summary>
/// The subset closure against a brute-force oracle on random schemas (self-references, cycles, composite keys, keys to
/// unique non-key columns, tables without a primary key, nullable keys, conditional virtual links, excluded and
/// passthrough tables) and random data; and the closure's invariants on what it keeps.
/// </summary>
public sealed class SubsetClosureTests : IDisposable
{
    static readonly byte[] s_secret = Encoding.UTF8.GetBytes("subset-closure-tests");
    readonly List<KeyStore> _stores = [];
    int _storesMade;

    /// <summary>
    /// A key store with a small budget, removed after the test; its memory tier in turn none (SQLite from the start), a
    /// few KiB (moving to SQLite early or midway through a closure) and the default (the small closures stay in memory).
    /// </summary>
    KeyStore Store()
    {
        long[] tiers = [0, 1_500, 6_000, 3 << 20];
        var store = new KeyStore(4 << 20, null, tiers[Interlocked.Increment(ref _storesMade) % tiers.Length]);
        lock (_stores)
        {
            _stores.Add(store);
        }
        return store;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    /// <summary>Rows in memory; a root's where is "even" (even ids) or "odd".</summary>
    sealed class MemorySource(Dictionary<SubsetTable, List<KeyRow>> rows) : ISubsetSource
    {
        public int Queries { get; private set; }

        /// <summary>Above 1: questions are answered when asked (StartMatching), as a server does while the closure reads an earlier answer.</summary>
        public int Concurrency { get; init; } = 1;

        public IAsyncEnumerable<KeyRow> StartMatching(SubsetTable table, int[] columns, IReadOnlyList<string[]> tuples, CancellationToken cancellationToken)
        {
            if (Concurrency == 1)
            {
                return ReadMatchingAsync(table, columns, tuples, cancellationToken);
            }
            var answer = ReadMatchingAsync(table, columns, tuples, cancellationToken).ToBlockingEnumerable(cancellationToken).ToList();
            return answer.ToAsyncEnumerable();
        }

        public int LargestBatch { get; private set; }

        public async IAsyncEnumerable<KeyRow> ReadRootAsync(SubsetStart root, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            foreach (var row in rows[root.Table])
            {
                if (root.Where is null || Matches(root.Table, row, root.Where))
                {
                    yield return row;
                }
            }
        }

        public async IAsyncEnumerable<KeyRow> ReadAllAsync(SubsetTable table, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            foreach (var row in rows[table])
            {
                yield return row;
            }
        }

        public async IAsyncEnumerable<KeyRow> ReadMatchingAsync(SubsetTable table, int[] columns, IReadOnlyList<string[]> tuples,
            [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            Queries++;
            LargestBatch = Math.Max(LargestBatch, tuples.Count);
            foreach (var row in rows[table])
            {
                if (tuples.Any(t => columns.Select((c, i) => row.Values[c] == t[i]).All(x => x)))
                {
                    yield return row;
                }
            }
        }

        public static bool Matches(SubsetTable table, KeyRow row, string where)
        {
            var id = long.Parse(row.Values[table.Identity[0]]!, System.Globalization.CultureInfo.InvariantCulture);
            return where == "even" ? id % 2 == 0 : id % 2 != 0;
        }
    }

    /// <summary>A random schema with data, and a random plan over it.</summary>
    sealed record Case(SubsetGraph Graph, Dictionary<SubsetTable, List<KeyRow>> Rows, string Description)
    {
        public override string ToString() => Description;
    }

    static Case RandomCase(int seed)
    {
        var random = new Random(seed);
        var describe = new StringBuilder();
        var count = random.Next(2, 6);
        var hasKey = Enumerable.Range(0, count).Select(i => i == 0 || random.NextDouble() < 0.8).ToArray();
        // Links first (they decide each table's key columns): child -> parent, on the parent's id, its unique code, or both.
        var specs = new List<(int Child, int Parent, int Kind, bool Nullable, bool Conditional)>();
        var linkCount = random.Next(1, 7);
        for (var k = 0; k < linkCount; k++)
        {
            var parent = random.Next(count);
            if (!hasKey[parent])
            {
                parent = 0;
            }
            specs.Add((random.Next(count), parent, random.Next(3), random.NextDouble() < 0.6, random.NextDouble() < 0.2));
        }
        var columns = new List<string>[count];
        for (var t = 0; t < count; t++)
        {
            columns[t] = hasKey[t] ? ["id", "code"] : ["content"];
        }
        var childColumns = new List<int[]>();
        var conditions = new List<int?>();
        for (var k = 0; k < specs.Count; k++)
        {
            var (child, _, kind, _, conditional) = specs[k];
            var width = kind == 2 ? 2 : 1;
            var positions = new int[width];
            for (var w = 0; w < width; w++)
            {
                positions[w] = columns[child].Count;
                columns[child].Add($"fk{k}_{w}");
            }
            childColumns.Add(positions);
            int? condition = null;
            if (conditional)
            {
                condition = columns[child].Count;
                columns[child].Add($"cond{k}");
            }
            conditions.Add(condition);
        }
        var tables = Enumerable.Range(0, count).Select(t => new SubsetTable($"public.t{t}", columns[t], hasKey[t] ? [0] : [])).ToArray();
        var links = new List<SubsetLink>();
        for (var k = 0; k < specs.Count; k++)
        {
            var (child, parent, kind, nullable, _) = specs[k];
            int[] parentColumns = kind switch { 0 => [0], 1 => [1], _ => [0, 1] };
            links.Add(new SubsetLink($"fk{k}", tables[child], childColumns[k], tables[parent], parentColumns, nullable)
            {
                Where = conditions[k] is null ? null : $"cond{k}",
                Condition = conditions[k],
            });
            describe.Append($"fk{k}: t{child} -> t{parent} on {string.Join(",", parentColumns)}{(nullable ? " nullable" : "")}{(conditions[k] is null ? "" : " conditional")}; ");
        }

        // Rows: ids 1..n; a foreign key holds a parent's values, or NULL when nullable.
        var rowCounts = Enumerable.Range(0, count).Select(_ => random.Next(0, 13)).ToArray();
        var rows = new Dictionary<SubsetTable, List<KeyRow>>();
        for (var t = 0; t < count; t++)
        {
            var list = new List<KeyRow>();
            for (var r = 1; r <= rowCounts[t]; r++)
            {
                var values = new string?[columns[t].Count];
                if (hasKey[t])
                {
                    values[0] = r.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    values[1] = "c" + r;
                }
                else
                {
                    values[0] = $"row {r} of t{t}";
                }
                list.Add(new KeyRow(hasKey[t] ? values[0]! : values[0]!, values));
            }
            rows[tables[t]] = list;
        }
        for (var k = 0; k < links.Count; k++)
        {
            var link = links[k];
            foreach (var row in rows[link.Child])
            {
                var parents = rows[link.Parent];
                if (parents.Count == 0 || link.Nullable && random.NextDouble() < 0.25)
                {
                    continue; // NULL (a NOT NULL key without any parent row stays NULL too: nothing to reference)
                }
                var parentRow = parents[random.Next(parents.Count)];
                for (var i = 0; i < link.ChildColumns.Length; i++)
                {
                    row.Values[link.ChildColumns[i]] = parentRow.Values[link.ParentColumns[i]];
                }
                if (link.Condition is int c)
                {
                    row.Values[c] = random.NextDouble() < 0.5 ? "t" : "f";
                }
            }
        }

        var roots = new List<SubsetStart>();
        foreach (var t in Enumerable.Range(0, count).OrderBy(_ => random.Next()).Take(random.Next(1, 3)))
        {
            if (!hasKey[t] && random.NextDouble() < 0.5)
            {
                continue;
            }
            var root = new SubsetStart(tables[t])
            {
                Where = hasKey[t] && random.NextDouble() < 0.3 ? (random.NextDouble() < 0.5 ? "even" : "odd") : null,
                Percent = random.NextDouble() < 0.3 ? random.Next(10, 90) : null,
                Limit = random.NextDouble() < 0.3 ? random.Next(0, 5) : null,
            };
            roots.Add(root);
            describe.Append($"root t{t} where={root.Where} percent={root.Percent} limit={root.Limit}; ");
        }
        var followed = tables.Where(_ => random.NextDouble() < 0.5).ToHashSet();
        var passthrough = tables.Where(_ => random.NextDouble() < 0.15).ToHashSet();
        var excluded = tables.Where(_ => random.NextDouble() < 0.1).ToHashSet();
        var unreachedFull = random.NextDouble() < 0.2;
        describe.Append($"followed {string.Join(",", followed)}; passthrough {string.Join(",", passthrough)}; excluded {string.Join(",", excluded)}; unreached full {unreachedFull}; rows {string.Join(",", rowCounts)}");
        var graph = new SubsetGraph(tables, links, roots, followed, passthrough, excluded, unreachedFull);
        return new Case(graph, rows, describe.ToString());
    }

    /// <summary>The closure's definition, applied until nothing changes, over every pair of rows.</summary>
    static Dictionary<SubsetTable, HashSet<string>> Oracle(Case c, SubsetClosure sampler)
    {
        var graph = c.Graph;
        var down = graph.Tables.ToDictionary(t => t, _ => new HashSet<string>());
        var up = graph.Tables.ToDictionary(t => t, _ => new HashSet<string>());
        bool Kept(SubsetTable t, string id) => down[t].Contains(id) || up[t].Contains(id);
        foreach (var root in graph.Roots)
        {
            if (graph.Excluded.Contains(root.Table))
            {
                continue;
            }
            var candidates = c.Rows[root.Table]
                .Where(r => root.Where is null || MemorySource.Matches(root.Table, r, root.Where))
                .Select(r => (Row: r, Hash: sampler.Sample(root.Table, r.Id)))
                .Where(x => root.Percent is not double p || p >= 100 || x.Hash <= (ulong)(p / 100 * 18446744073709551615.0))
                .OrderBy(x => x.Hash).ThenBy(x => x.Row.Id, StringComparer.Ordinal)
                .Take(root.Limit is long n ? (int)n : int.MaxValue);
            foreach (var (row, _) in candidates)
            {
                down[root.Table].Add(row.Id);
            }
        }
        foreach (var table in graph.Passthrough.Where(t => !graph.Excluded.Contains(t)))
        {
            foreach (var row in c.Rows[table].Where(r => !down[table].Contains(r.Id)))
            {
                up[table].Add(row.Id);
            }
        }
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var link in graph.Links)
            {
                if (graph.Excluded.Contains(link.Parent) || graph.Excluded.Contains(link.Child))
                {
                    continue;
                }
                foreach (var child in c.Rows[link.Child].Where(r => link.Applies(r)))
                {
                    var parents = c.Rows[link.Parent].Where(p => link.ChildColumns.Select((cc, i) => child.Values[cc] == p.Values[link.ParentColumns[i]]).All(x => x)).ToList();
                    if (Kept(link.Child, child.Id))
                    {
                        foreach (var parent in parents.Where(p => !Kept(link.Parent, p.Id)))
                        {
                            up[link.Parent].Add(parent.Id);
                            changed = true;
                        }
                    }
                    if (graph.Followed.Contains(link.Child) && !down[link.Child].Contains(child.Id) && parents.Any(p => down[link.Parent].Contains(p.Id)))
                    {
                        down[link.Child].Add(child.Id);
                        up[link.Child].Remove(child.Id);
                        changed = true;
                    }
                }
            }
        }
        return graph.Tables.ToDictionary(t => t, t => down[t].Concat(up[t]).ToHashSet());
    }

    SubsetClosure Run(Case c, out MemorySource source, int concurrency = 1)
    {
        source = new MemorySource(c.Rows) { Concurrency = concurrency };
        var closure = new SubsetClosure(c.Graph, source, Store(), s_secret);
        closure.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
        return closure;
    }

    [Fact]
    public void RunAsync_RandomSchemasAndData_KeepsWhatTheOracleKeeps()
    {
        Gen.Int.Select(RandomCase).ForAll(c =>
        {
            var closure = Run(c, out _);
            var expected = Oracle(c, closure);
            foreach (var table in c.Graph.Tables)
            {
                Assert.Equal(expected[table].Order(StringComparer.Ordinal), closure.Kept(table).Order(StringComparer.Ordinal));
            }
        }, cases: 400, print: c => c.Description);
    }

    /// <summary>
    /// Questions asked ahead of the answers before them (a source with several connections) are built before those
    /// answers are recorded: they may ask for rows already on their way (and take a round more or fewer), but the closure
    /// keeps the same rows.
    /// </summary>
    [Fact]
    public void RunAsync_RandomSchemasAndDataAskedAhead_KeepsWhatTheOracleKeeps()
    {
        Gen.Int.Select(RandomCase).ForAll(c =>
        {
            var serial = Run(c, out _);
            var ahead = Run(c, out var source, concurrency: 3);
            var expected = Oracle(c, ahead);
            foreach (var table in c.Graph.Tables)
            {
                Assert.Equal(expected[table].Order(StringComparer.Ordinal), ahead.Kept(table).Order(StringComparer.Ordinal));
                Assert.Equal(serial.Kept(table), ahead.Kept(table));
            }
        }, cases: 400, print: c => c.Description);
    }

    [Fact]
    public void RunAsync_RandomSchemasAndData_EveryKeptRowsParentsAreKept()
    {
        Gen.Int.Select(RandomCase).ForAll(c =>
        {
            var closure = Run(c, out _);
            foreach (var link in c.Graph.Links.Where(l => !c.Graph.Excluded.Contains(l.Parent)))
            {
                foreach (var child in c.Rows[link.Child].Where(r => closure.IsKept(link.Child, r.Id) && link.Applies(r)))
                {
                    var parents = c.Rows[link.Parent].Where(p => link.ChildColumns.Select((cc, i) => child.Values[cc] == p.Values[link.ParentColumns[i]]).All(x => x));
                    Assert.All(parents, p => Assert.True(closure.IsKept(link.Parent, p.Id), $"{link}: parent {p.Id} of kept {child.Id} not kept"));
                }
            }
        }, cases: 400, print: c => c.Description);
    }

    static (SubsetTable Customers, SubsetTable Orders, SubsetTable Products, SubsetTable Items, Dictionary<SubsetTable, List<KeyRow>> Rows) Shop(int customers)
    {
        var c = new SubsetTable("public.customers", ["id"], [0]);
        var o = new SubsetTable("public.orders", ["id", "customer_id"], [0]);
        var p = new SubsetTable("public.products", ["id"], [0]);
        var i = new SubsetTable("public.order_items", ["id", "order_id", "product_id"], [0]);
        string S(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var rows = new Dictionary<SubsetTable, List<KeyRow>>
        {
            [c] = Enumerable.Range(1, customers).Select(n => new KeyRow(S(n), [S(n)])).ToList(),
            [o] = Enumerable.Range(1, 2 * customers).Select(n => new KeyRow(S(n), [S(n), S(1 + n % customers)])).ToList(),
            [p] = Enumerable.Range(1, 10).Select(n => new KeyRow(S(n), [S(n)])).ToList(),
            [i] = Enumerable.Range(1, 4 * customers).Select(n => new KeyRow(S(n), [S(n), S(1 + n % (2 * customers)), S(1 + n % 10)])).ToList(),
        };
        return (c, o, p, i, rows);
    }

    [Fact]
    public async Task RunAsync_CustomerOrderProduct_DoesNotFollowAProductToEveryOrderOfIt()
    {
        // The classic blow-up: customer -> order -> product -> every order of the product. Products are reached upward
        // (as a parent), so their other orders are not followed.
        var (customers, orders, products, items, rows) = Shop(1000);
        var links = new List<SubsetLink>
        {
            new("orders_customer_id_fkey", orders, [1], customers, [0], Nullable: false),
            new("order_items_order_id_fkey", items, [1], orders, [0], Nullable: false),
            new("order_items_product_id_fkey", items, [2], products, [0], Nullable: false),
        };
        var graph = new SubsetGraph([customers, orders, products, items], links,
            [new SubsetStart(customers) { Limit = 10 }], new HashSet<SubsetTable> { orders, items }, new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), unreachedFull: false);
        var source = new MemorySource(rows);
        var closure = new SubsetClosure(graph, source, Store(), s_secret);

        await closure.RunAsync(CancellationToken.None);

        Assert.Equal(10, closure.KeptCount(customers));
        Assert.Equal(20, closure.KeptCount(orders));
        Assert.Equal(40, closure.KeptCount(items));
        Assert.InRange(closure.KeptCount(products), 1, 10);
        Assert.Equal(SubsetRole.ParentOnly, graph.Roles[products]);
        Assert.Equal(SubsetRole.FollowedChild, graph.Roles[items]);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    public async Task RunAsync_LimitOnAKeylessRootWithCopies_TakesLimitRowsTheLastIdentityInPart(int limit)
    {
        // Rows without a primary key are known by their content: 20 contents, 3 copies each. `limit: 3` kept three
        // identities, so 9 rows were written; now the copies count, and only the last identity may be taken in part.
        var tallies = new SubsetTable("public.tallies", ["kind_id"], []);
        var kinds = new SubsetTable("public.kinds", ["id"], [0]);
        string S(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var rows = new Dictionary<SubsetTable, List<KeyRow>>
        {
            [tallies] = [.. Enumerable.Range(0, 60).Select(n => new KeyRow("content " + S(n % 20), [S(n % 20)]))],
            [kinds] = [.. Enumerable.Range(0, 20).Select(n => new KeyRow(S(n), [S(n)]))],
        };
        SubsetGraph Graph(params SubsetStart[] roots) => new([tallies, kinds], [new("tallies_kind_id_fkey", tallies, [0], kinds, [0], Nullable: false)],
            roots, new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), unreachedFull: false);

        var closure = new SubsetClosure(Graph(new SubsetStart(tallies) { Limit = limit }), new MemorySource(rows), Store(), s_secret);
        await closure.RunAsync(CancellationToken.None);

        var limits = closure.CopyLimits(tallies) ?? new Dictionary<string, long>();
        var copies = closure.Kept(tallies).Select(id => limits.TryGetValue(id, out var some) ? some : 3).ToList();
        Assert.Equal(Math.Min(limit, 60), copies.Sum());
        Assert.True(copies.Count(c => c < 3) <= 1);
        Assert.Equal(closure.KeptCount(tallies), closure.KeptCount(kinds));
        // The same rows reached by a root that takes every copy (no limit): no cap is left.
        var both = new SubsetClosure(Graph(new SubsetStart(tallies) { Limit = limit }, new SubsetStart(tallies)), new MemorySource(rows), Store(), s_secret);
        await both.RunAsync(CancellationToken.None);
        Assert.Empty(both.CopyLimits(tallies) ?? new Dictionary<string, long>());
        Assert.Equal(20, both.KeptCount(tallies));
    }

    [Fact]
    public async Task RunAsync_SameSecretAndData_KeepsTheSameRowsEveryRun()
    {
        var (customers, orders, products, items, rows) = Shop(2000);
        SubsetGraph Graph() => new([customers, orders, products, items],
            [new("orders_customer_id_fkey", orders, [1], customers, [0], Nullable: false)],
            [new SubsetStart(customers) { Percent = 10 }], new HashSet<SubsetTable> { orders }, new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), unreachedFull: false);

        var first = new SubsetClosure(Graph(), new MemorySource(rows), Store(), s_secret);
        await first.RunAsync(CancellationToken.None);
        var second = new SubsetClosure(Graph(), new MemorySource(rows), Store(), s_secret);
        await second.RunAsync(CancellationToken.None);
        var other = new SubsetClosure(Graph(), new MemorySource(rows), Store(), "another secret"u8);
        await other.RunAsync(CancellationToken.None);

        Assert.Equal(first.Kept(customers).Order(), second.Kept(customers).Order());
        // 10 % of 2000, within 2 percentage points.
        Assert.InRange(first.KeptCount(customers), 160, 240);
        Assert.NotEqual(first.Kept(customers).Order(), other.Kept(customers).Order());
    }

    [Fact]
    public async Task RunAsync_MoreRowsThanTheCap_FailsNamingTheTable()
    {
        var (customers, orders, products, items, rows) = Shop(100);
        var graph = new SubsetGraph([customers, orders, products, items],
            [new("orders_customer_id_fkey", orders, [1], customers, [0], Nullable: false)],
            [new SubsetStart(customers)], new HashSet<SubsetTable> { orders }, new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), unreachedFull: false);
        var closure = new SubsetClosure(graph, new MemorySource(rows), Store(), s_secret, maxRowsPerTable: 150);

        var e = await Assert.ThrowsAsync<ConfigException>(() => closure.RunAsync(CancellationToken.None));

        Assert.Contains("public.orders", e.Message, StringComparison.Ordinal);
        Assert.Contains("max_rows_per_table (150)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ManyKeys_AsksInBatchesOfAtMostTheBatchSize()
    {
        var (customers, orders, products, items, rows) = Shop(12_000);
        var graph = new SubsetGraph([customers, orders, products, items],
            [new("orders_customer_id_fkey", orders, [1], customers, [0], Nullable: false)],
            [new SubsetStart(customers)], new HashSet<SubsetTable> { orders }, new HashSet<SubsetTable>(), new HashSet<SubsetTable>(), unreachedFull: false);
        var source = new MemorySource(rows);
        var closure = new SubsetClosure(graph, source, Store(), s_secret);

        await closure.RunAsync(CancellationToken.None);

        Assert.Equal(24_000, closure.KeptCount(orders));
        Assert.Equal(SubsetClosure.BatchSize, source.LargestBatch);
        // Three batches down to the orders (5000 + 5000 + 2000 customers); none up, every customer being kept already.
        Assert.Equal(3, source.Queries);
    }

    public static TheoryData<string[]> Tuples => new()
    {
        { ["42"] },
        { ["1", "2"] },
        { ["a:b", "3:x", ""] },
        { ["zoë", "12:34", "ends with :"] },
    };

    [Theory]
    [MemberData(nameof(Tuples))]
    public void Identity_SplitIdentity_GivesTheTupleBack(string[] tuple)
    {
        var id = SubsetClosure.Identity(tuple);

        Assert.Equal(tuple, SubsetClosure.SplitIdentity(id, tuple.Length));
    }

    [Fact]
    public void Identity_DifferentTuples_NeverCollide()
    {
        // Joined naively, ("1:2", "3") and ("1", "2:3") would both read 1:2:3.
        Assert.NotEqual(SubsetClosure.Identity(["1:2", "3"]), SubsetClosure.Identity(["1", "2:3"]));
        Assert.NotEqual(SubsetClosure.Identity(["12", "3"]), SubsetClosure.Identity(["1", "23"]));
    }
}
