namespace Replica.Lexing;

/// <summary>Which dump format the lexer reads: pg_dump's plain SQL, or mysqldump / mariadb-dump output.</summary>
public enum SqlDialect
{
    PostgreSql,
    MySql,
}
