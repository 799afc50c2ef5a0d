-- Large and degenerate input: a 100 MB value, a 10 MB file of commas, and a
-- header-only file.  Each gets a clear report, not a crash or a silent drop.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
SET ptimport.max_bytes = '200MB';

-- A 100 MB first name: field_too_long, with the raw line cut in the report.
SELECT line_no, internal_id, severity, field, code, message, length(raw_line)
FROM ptimport.pt_import_clients(
    convert_to('BIG1,' || repeat('x', 100 * 1024 * 1024) || E',Lee,1980,f\nBIG2,Ann,Lee,1980,f', 'UTF8'), 1100);

-- The same value quoted, spanning two lines: the next row keeps its line number.
SELECT line_no, internal_id, field, code
FROM ptimport.pt_import_clients(
    convert_to('BIG3,Ann,"' || repeat('y', 50 * 1024 * 1024) || E'\n' || repeat('y', 50 * 1024 * 1024)
               || E'",1980,f\nBIG4,Ann,Lee,1980,x', 'UTF8'), 1100);
SELECT internal_id FROM ptimport.client WHERE account_id = 1100 ORDER BY 1;

-- 10 MB of commas on one line: one row with too many fields.
SELECT line_no, internal_id, severity, code, left(message, 40), length(raw_line)
FROM ptimport.pt_import_clients(convert_to('C1,Ann,Lee,1980,f' || repeat(',', 10 * 1024 * 1024) || 'x', 'UTF8'), 1101);

-- 10 MB of commas and line ends: rows of empty fields only, so no rows.
SELECT * FROM ptimport.pt_import_clients(convert_to(repeat(E',,,,,,,,\n', 1165084), 'UTF8'), 1101);
RESET ptimport.max_bytes;

-- A file holding only a header row has no rows: refused, nothing written.
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
'Internal_id,First name,Last name,Year of birth,Gender', 'UTF8'), 1102);
SELECT rows_total, rows_inserted, rows_failed FROM ptimport.import_run WHERE account_id = 1102;

-- More than 100,000 rows: the path where the statements get a generic plan
-- (src/write.c; which plan ran is not visible here, the benchmark's memory
-- figures show it).  Insert, dry run, an unchanged re-import and an update
-- must count and group as a small file does.
SET ptimport.max_rows = 150000;
SET ptimport.max_bytes = '20MB';
CREATE TEMP TABLE big_file AS
SELECT changed, convert_to(string_agg(
           format('B%s,Ann,Lee,%s,%s,,,,%s', i,
                  1950 + (i + CASE WHEN changed AND i % 4 = 0 THEN 1 ELSE 0 END) % 50,
                  CASE WHEN i % 2 = 0 THEN 'f' ELSE 'm' END,
                  CASE i % 3 WHEN 0 THEN 'Knee' WHEN 1 THEN 'KNEE' ELSE '' END),
           E'\n' ORDER BY i), 'UTF8') AS data
FROM generate_series(1, 120000) AS i, (VALUES (false), (true)) AS v(changed)
GROUP BY changed;
SELECT count(*) FROM ptimport.pt_import_clients((SELECT data FROM big_file WHERE NOT changed), 1103);
SELECT count(*) FROM ptimport.pt_import_clients((SELECT data FROM big_file WHERE changed), 1104, dry_run => true);
SELECT count(*) FROM ptimport.pt_import_clients((SELECT data FROM big_file WHERE changed), 1103, dry_run => true);
SELECT count(*) FROM ptimport.pt_import_clients((SELECT data FROM big_file WHERE NOT changed), 1103);
SELECT count(*) FROM ptimport.pt_import_clients((SELECT data FROM big_file WHERE changed), 1103);
SELECT account_id, dry_run, rows_total, rows_inserted, rows_updated, rows_unchanged, groups_created
FROM ptimport.import_run WHERE account_id IN (1103, 1104) ORDER BY run_id;
SELECT g.name, count(*),
       count(*) FILTER (WHERE c.birth_year <> 1950 + substr(c.internal_id, 2)::int % 50) AS updated_years
FROM ptimport.client AS c LEFT JOIN ptimport.client_group AS g USING (account_id, group_id)
WHERE c.account_id = 1103 GROUP BY g.name ORDER BY g.name;
RESET ptimport.max_rows;
RESET ptimport.max_bytes;
