#!/usr/bin/env bash
# Makes the mysql-*.sql fixtures from real mariadb-dump output: starts a throwaway MariaDB server without networking
# (socket only) in a temporary directory, loads awkward data, dumps it with several option sets, stops the server.
# Needs the mariadb-server and mariadb-client packages. Run from anywhere; writes next to this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
D="$(mktemp -d)"
cleanup() {
    if [[ -f "$D/pid" ]]; then kill "$(cat "$D/pid")" 2>/dev/null || true; sleep 2; fi
    rm -rf "$D"
}
trap cleanup EXIT
mariadb-install-db --user=root --datadir="$D/data" --auth-root-authentication-method=normal >/dev/null
mariadbd --user=root --datadir="$D/data" --socket="$D/sock" --port=0 --skip-networking --pid-file="$D/pid" \
    --log-error="$D/err.log" >/dev/null 2>&1 &
for _ in $(seq 1 60); do
    if mariadb --socket="$D/sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    sleep 0.5
done
sql() { mariadb --socket="$D/sock" -uroot --default-character-set=utf8mb4 "$@"; }

sql <<'SQL'
CREATE DATABASE fixture CHARACTER SET utf8mb4;
USE fixture;
CREATE TABLE customers (
  id int NOT NULL AUTO_INCREMENT,
  email varchar(100) NOT NULL,
  name varchar(50) DEFAULT NULL COMMENT 'it''s "the" name; really',
  note text,
  balance decimal(10,2) DEFAULT NULL,
  score double DEFAULT NULL,
  delta int DEFAULT NULL,
  born date DEFAULT NULL,
  seen datetime DEFAULT NULL,
  prefs json DEFAULT NULL,
  active tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  UNIQUE KEY customers_email (email),
  KEY customers_name (name)
) ENGINE=InnoDB;
INSERT INTO customers (email, name, note, balance, score, delta, born, seen, prefs, active) VALUES
  ('alice@example.com', 'Alice', NULL, 12.50, 1.5e10, -42, '1990-01-31', '2024-02-29 23:59:59', '{"a": [1, "x\\"y"]}', 1),
  ('bob@example.com', 'O''Brien "Bob"', 'tab\there\nnewline \\ backslash', -0.01, -2.25, 0, NULL, NULL, NULL, 0),
  ('carol@example.com', 'Carol;', CONCAT('nul:', CHAR(0), ' ctrlz:', CHAR(26), ' cr:', CHAR(13), ' pct:%_ lit:\\%\\_'), NULL, NULL, NULL, NULL, NULL, '[]', 1),
  ('dave@example.com', 'Dävé 😀', '/* not a comment */ -- nor this # nor this; DELIMITER ;;', 0, 0, 2147483647, '2000-02-29', '1970-01-01 00:00:01', '"str"', 1),
  ('eve@example.com', '', 'quote'' dq" bs\\ bt` semi; end', 1, 1, -2147483648, NULL, NULL, NULL, 1);
CREATE TABLE blobs (
  id int NOT NULL PRIMARY KEY,
  data longblob,
  small varbinary(16) DEFAULT NULL
) ENGINE=InnoDB;
INSERT INTO blobs VALUES (1, NULL, NULL), (2, '', X'00'), (3, 'plain', X'5C27220D0A1A');
CREATE TABLE `odd``name` (
  `the id` int NOT NULL,
  `val``ue` varchar(20) DEFAULT NULL,
  PRIMARY KEY (`the id`)
) ENGINE=InnoDB;
INSERT INTO `odd``name` VALUES (1, 'back`tick'), (2, NULL), (-3, '-- x');
CREATE TABLE orders (
  id int NOT NULL AUTO_INCREMENT,
  customer_id int NOT NULL,
  amount decimal(12,3) NOT NULL,
  placed timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (id),
  KEY orders_customer (customer_id),
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB;
INSERT INTO orders (customer_id, amount, placed) VALUES (1, 10.5, '2024-01-01 10:00:00'), (1, -3.125, '2024-01-02 11:00:00'), (4, 0, '2024-01-03 12:00:00');
CREATE TABLE audit (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, msg varchar(200)) ENGINE=InnoDB;
CREATE TABLE empty_table (id int) ENGINE=InnoDB;
DELIMITER ;;
CREATE TRIGGER customers_audit AFTER INSERT ON customers FOR EACH ROW
BEGIN
  INSERT INTO audit (msg) VALUES (CONCAT('new; customer */ ', NEW.email));
END;;
CREATE PROCEDURE count_customers(OUT n int)
BEGIN
  -- a comment; inside
  SELECT COUNT(*) INTO n FROM customers WHERE email <> 'x;y';
END;;
CREATE FUNCTION greet(who varchar(20)) RETURNS varchar(40) DETERMINISTIC
RETURN CONCAT('hi ''', who, '''');;
DELIMITER ;
CREATE VIEW customer_emails AS SELECT id, email FROM customers WHERE active = 1;
SQL
# All 256 byte values in one BLOB, built on the server so that no client escaping is involved.
sql fixture <<'SQL'
SET @all = '';
DELIMITER ;;
BEGIN NOT ATOMIC
  DECLARE i int DEFAULT 0;
  WHILE i < 256 DO SET @all = CONCAT(@all, CHAR(i USING binary)); SET i = i + 1; END WHILE;
END;;
DELIMITER ;
INSERT INTO blobs VALUES (4, @all, UNHEX('00FF'));
SQL

dump() { mariadb-dump --socket="$D/sock" -uroot --routines --triggers --skip-dump-date --default-character-set=utf8mb4 "$@"; }
dump fixture > "$here/mysql-default.sql"
dump --skip-extended-insert --complete-insert fixture > "$here/mysql-complete-insert.sql"
dump --hex-blob fixture > "$here/mysql-hex-blob.sql"
dump --databases fixture > "$here/mysql-databases.sql"
sql -e 'SHUTDOWN' || true
for _ in $(seq 1 40); do [[ -e "$D/sock" ]] || break; sleep 0.5; done
rm -f "$D/pid"
echo "wrote $here/mysql-*.sql"
