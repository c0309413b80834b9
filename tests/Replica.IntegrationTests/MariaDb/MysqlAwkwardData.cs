namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// A small MySQL database full of what trips up dump parsers and restores, loaded by tests into a fresh database.
/// PII columns (what tests configure transformers for; nothing else is PII): customers.email (UNIQUE),
/// customers.first_name, customers.last_name, orders.email_at_order.
/// </summary>
public static class MysqlAwkwardData
{
    public static readonly string[] Tables = ["audit", "blobs", "customers", "orders", "types"];

    public const string Sql = """
        CREATE TABLE customers (
          id int NOT NULL AUTO_INCREMENT,
          email varchar(100) NOT NULL,
          first_name varchar(50) DEFAULT NULL,
          last_name varchar(50) DEFAULT NULL,
          note text,
          referred_by int DEFAULT NULL,
          PRIMARY KEY (id),
          UNIQUE KEY customers_email (email),
          KEY customers_referred (referred_by),
          CONSTRAINT customers_referred_fk FOREIGN KEY (referred_by) REFERENCES customers (id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

        INSERT INTO customers (id, email, first_name, last_name, note, referred_by) VALUES
          (1, 'alice@example.com', 'Alice', 'Archer', NULL, NULL),
          (2, 'bob.o''brien@example.com', 'O''Brien "Bob"', 'Back\\slash', 'tab\there\nnewline \\ backslash \r cr', 1),
          (3, 'carol@example.com', 'Carol;', 'Dävé 😀', CONCAT('nul:', CHAR(0), ' ctrlz:', CHAR(26), ' pct:%_ lit:\\%\\_ bs:\\b'), 2),
          (4, 'dave@example.com', '', 'Z', '/* not a comment */ -- nor this # nor this; DELIMITER ;;', 2),
          (5, 'eve@example.com', 'Eve', NULL, 'quote'' dq" bs\\ bt` semi; end), (6, ''x''', 4),
          (6, 'NULL@example.com', 'NULL', 'null', '', NULL);

        CREATE TABLE orders (
          id int NOT NULL AUTO_INCREMENT,
          customer_id int NOT NULL,
          email_at_order varchar(100) NOT NULL,
          amount decimal(12,3) NOT NULL,
          placed datetime(6) NOT NULL,
          PRIMARY KEY (id),
          UNIQUE KEY orders_customer_placed (customer_id, placed),
          CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

        INSERT INTO orders (customer_id, email_at_order, amount, placed) VALUES
          (1, 'alice@example.com', 12.345, '2024-02-29 23:59:59.123456'),
          (2, 'bob.o''brien@example.com', -0.001, '1970-01-01 00:00:01'),
          (3, 'carol@example.com', 999999999.999, '9999-12-31 23:59:59.999999'),
          (3, 'carol@example.com', 0, '1000-01-01 00:00:00');

        CREATE TABLE types (
          id int NOT NULL PRIMARY KEY,
          i8 tinyint, u64 bigint unsigned, f float, d double, dec_big decimal(65,30), bit3 bit(3),
          dt date, tm time(3), ts timestamp NULL DEFAULT NULL, yr year,
          js json, en enum('a','b','c d'), st set('x','y','z'),
          vc varchar(20) CHARACTER SET latin1, ch char(5), fixed binary(4)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

        INSERT INTO types VALUES
          (1, -128, 18446744073709551615, 1.5, -2.25e-300, 12345678901234567890.123456789012345678901234567890, b'101',
           '2000-02-29', '-838:59:59.000', '2038-01-19 03:14:07', 2155,
           '{"a": [1, "x\\"y", null], "emoji": "😀", "nested": {"k": "v"}}', 'c d', 'x,z', 'café', 'ab', X'00FF0A0D'),
          (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
          (3, 0, 0, 0, 0, 0, b'0', '1000-01-01', '00:00:00', '1970-01-01 00:00:01', 1901, '[]', 'a', '', '', '', X'00000000');

        CREATE TABLE blobs (
          id int NOT NULL PRIMARY KEY,
          data longblob,
          small varbinary(16) DEFAULT NULL
        ) ENGINE=InnoDB;

        INSERT INTO blobs VALUES (1, NULL, NULL), (2, '', X'00'), (3, X'5C27220D0A1A00', X'5C27220D0A1A');
        INSERT INTO blobs SELECT 4, UNHEX(GROUP_CONCAT(LPAD(HEX(seq), 2, '0') ORDER BY seq SEPARATOR '')), NULL FROM seq_0_to_255;
        INSERT INTO blobs SELECT 5, REPEAT(UNHEX(GROUP_CONCAT(LPAD(HEX(seq), 2, '0') ORDER BY seq SEPARATOR '')), 2000), X'FF' FROM seq_0_to_255;

        CREATE TABLE audit (
          id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
          msg varchar(200) DEFAULT NULL
        ) ENGINE=InnoDB;

        DELIMITER ;;
        CREATE TRIGGER customers_audit AFTER INSERT ON customers FOR EACH ROW
        BEGIN
          INSERT INTO audit (msg) VALUES (CONCAT('new; customer */ ', NEW.id));
        END;;
        CREATE FUNCTION greet(who varchar(20)) RETURNS varchar(40) DETERMINISTIC
        RETURN CONCAT('hi ''', who, '''');;
        CREATE PROCEDURE count_customers(OUT n int)
        BEGIN
          SELECT COUNT(*) INTO n FROM customers WHERE email <> 'x;y';
        END;;
        DELIMITER ;

        CREATE VIEW customer_emails AS SELECT id, email FROM customers WHERE referred_by IS NOT NULL;
        CREATE VIEW customer_email_count AS SELECT COUNT(*) AS n FROM customer_emails;
        """;
}
