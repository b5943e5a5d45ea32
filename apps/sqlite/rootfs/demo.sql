-- Run by apps/sqlite on Kiln and, for the comparison test, by the same SQLite built natively.
CREATE TABLE fruit(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, stock INTEGER);
INSERT INTO fruit(name, price, stock) VALUES
  ('apple', 0.5, 120), ('banana', 0.25, 300), ('cherry', 4.0, 15), ('date', 3.2, 0), ('elderberry', 7.5, 8);
CREATE INDEX fruit_price ON fruit(price);
SELECT name, price FROM fruit WHERE price > 1 ORDER BY price DESC;
SELECT count(*), sum(stock), printf('%.3f', avg(price)) FROM fruit;
UPDATE fruit SET stock = stock - 10 WHERE stock >= 10;
DELETE FROM fruit WHERE stock = 0;
SELECT group_concat(name, ',') FROM (SELECT name FROM fruit ORDER BY name);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
  SELECT sum(i), max(i), count(*) FROM n;
CREATE TABLE big AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
  SELECT i, printf('row-%05d', i) AS label FROM n;
SELECT count(*), min(label), max(label) FROM big;
BEGIN; INSERT INTO big SELECT i + 5000, label FROM big; ROLLBACK;
SELECT count(*) FROM big;
SELECT json_object('n', 1, 'fruit', (SELECT json_group_array(name) FROM fruit));
PRAGMA integrity_check;
