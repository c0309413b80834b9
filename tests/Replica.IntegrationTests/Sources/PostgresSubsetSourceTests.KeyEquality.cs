using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.Sources;

/// <summary>
/// Foreign keys whose values PostgreSQL takes as equal though their text differs, or whose two columns' types differ:
/// the subset keeps every referenced row (the restore validates every foreign key), live and from a dump file.
/// </summary>
public sealed partial class PostgresSubsetSourceTests
{
    /// <summary>
    /// A followed child's key column narrower than its parent's (int referencing bigint, bigint referencing numeric):
    /// the parents' values are not all values of the child's type (3000000000, 2.5), and no child can hold them.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplicaDump_FollowedChildKeyNarrowerThanItsParents_KeepsTheChildrenOfEveryParent(bool fromFile)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE accounts (id bigint PRIMARY KEY);
            INSERT INTO accounts VALUES (1), (2), (3000000000);
            CREATE TABLE logins (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts);
            INSERT INTO logins VALUES (1, 1), (2, 2), (3, 2);
            CREATE TABLE rates (r numeric PRIMARY KEY);
            INSERT INTO rates VALUES (1), (2.5), (1e30);
            CREATE TABLE priced (id int PRIMARY KEY, r bigint NOT NULL REFERENCES rates);
            INSERT INTO priced VALUES (1, 1);
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.accounts }, { table: public.rates }]
              follow_children: [public.logins, public.priced]
            """);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "narrower", await SourceArgumentsAsync(cli, db, fromFile));

        Assert.Equal("3 3 3 1", string.Join(" ", (await server.QueryAsync(restored,
            "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM logins), (SELECT count(*) FROM rates), (SELECT count(*) FROM priced)"))[0]));
    }

    /// <summary>
    /// Key columns of a domain: over citext (an email), over text with a case-insensitive collation, over numeric without
    /// a scale (1.0 = 1.00), over char(5) referenced by varchar. The dump's CREATE TABLE names the domain, not the type
    /// that compares.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplicaDump_KeysOfADomainEqualButWrittenDifferently_RestoresWithEveryForeignKey(bool fromFile)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE EXTENSION IF NOT EXISTS citext;
            CREATE DOMAIN email AS citext CHECK (VALUE LIKE '%@%');
            CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
            CREATE DOMAIN tag AS text COLLATE ci;
            CREATE DOMAIN amount AS numeric CHECK (VALUE >= 0);
            CREATE DOMAIN code AS char(5);
            CREATE TABLE users (email email PRIMARY KEY);
            INSERT INTO users VALUES ('Alice@X.org'), ('bob@x.org');
            CREATE TABLE logins (id int PRIMARY KEY, email email NOT NULL REFERENCES users);
            INSERT INTO logins VALUES (1, 'alice@x.org'), (2, 'BOB@X.ORG');
            CREATE TABLE tags (name tag PRIMARY KEY);
            INSERT INTO tags VALUES ('abc'), ('Déf');
            CREATE TABLE tagged (id int PRIMARY KEY, name tag NOT NULL REFERENCES tags);
            INSERT INTO tagged VALUES (1, 'ABC'), (2, 'dÉF');
            CREATE TABLE prices (p amount PRIMARY KEY);
            INSERT INTO prices VALUES (1.0), (2.50);
            CREATE TABLE priced (id int PRIMARY KEY, p amount NOT NULL REFERENCES prices);
            INSERT INTO priced VALUES (1, 1.00), (2, 2.5);
            CREATE TABLE labels (name varchar(5) PRIMARY KEY);
            INSERT INTO labels VALUES ('a'), ('bb');
            CREATE TABLE labelled (id int PRIMARY KEY, label code NOT NULL REFERENCES labels);
            INSERT INTO labelled VALUES (1, 'a'), (2, 'bb');
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.logins }, { table: public.tagged }, { table: public.priced }, { table: public.labelled }]
            """);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "domains", await SourceArgumentsAsync(cli, db, fromFile));

        Assert.Equal("2 2 2 2", string.Join(" ", (await server.QueryAsync(restored,
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tags), (SELECT count(*) FROM prices), (SELECT count(*) FROM labels)"))[0]));
    }

    /// <summary>
    /// Values a type's equality takes as equal though its output differs: float8 -0 = 0, interval '1 day' = '24:00:00'
    /// = '1 mon' / 30, date = timestamp at midnight.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplicaDump_KeysEqualByTheirTypeButNotByText_RestoresWithEveryForeignKey(bool fromFile)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE levels (x float8 PRIMARY KEY);
            INSERT INTO levels VALUES (0), (1.5);
            CREATE TABLE at_level (id int PRIMARY KEY, x float8 NOT NULL REFERENCES levels);
            INSERT INTO at_level VALUES (1, '-0'), (2, 1.5);
            CREATE TABLE periods (p interval PRIMARY KEY);
            INSERT INTO periods VALUES ('1 day'), ('1 mon'), ('-1 hours');
            CREATE TABLE in_period (id int PRIMARY KEY, p interval NOT NULL REFERENCES periods);
            INSERT INTO in_period VALUES (1, '24 hours'), (2, '30 days'), (3, '-60 minutes');
            CREATE TABLE slots (at timestamp PRIMARY KEY);
            INSERT INTO slots VALUES ('2026-01-01 00:00'), ('2026-01-02 12:00');
            CREATE TABLE booked (id int PRIMARY KEY, on_day date NOT NULL REFERENCES slots);
            INSERT INTO booked VALUES (1, '2026-01-01');
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.at_level }, { table: public.in_period }, { table: public.booked }]
            """);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "equal", await SourceArgumentsAsync(cli, db, fromFile));

        Assert.Equal("1 2 3 1", string.Join(" ", (await server.QueryAsync(restored,
            "SELECT (SELECT count(*) FROM levels WHERE x = 0), (SELECT count(*) FROM levels), (SELECT count(*) FROM periods), (SELECT count(*) FROM slots)"))[0]));
    }

    /// <summary>
    /// A foreign key compares by the referenced column's collation: tagged.name (text COLLATE "C") 'ABC' references
    /// tags.name 'abc' (case-insensitive). The children of a kept tag are every row that references it, as the file
    /// subset (which folds case on both sides) keeps them.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplicaDump_FollowedChildOfACaseInsensitiveParent_KeepsEveryChildThatReferencesIt(bool fromFile)
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
            CREATE TABLE tags (name text COLLATE ci PRIMARY KEY);
            INSERT INTO tags VALUES ('abc'), ('def'), ('ghi');
            CREATE TABLE tagged (id int PRIMARY KEY, name text COLLATE "C" REFERENCES tags);
            INSERT INTO tagged VALUES (1, 'ABC'), (2, 'abc'), (3, 'DEF'), (4, 'Abc');
            """);
        using var cli = new ReplicaCli();
        var config = DumpConfig(cli, db, """
            subset:
              roots: [{ table: public.tags }]
              follow_children: [public.tagged]
            """);

        var (restored, _, _) = await DumpAndLoadAsync(cli, config, "ci-children", await SourceArgumentsAsync(cli, db, fromFile));

        Assert.Equal("1 2 3 4", string.Join(" ", (await server.QueryAsync(restored, "SELECT id FROM tagged ORDER BY 1")).Select(r => r[0])));
    }
}
