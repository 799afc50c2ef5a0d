-- Import modes: 'upsert' (the default) inserts new clients and updates
-- existing ones; 'insert' only adds new clients, an existing internal_id
-- being a row error client_exists; 'update' only changes existing ones, an
-- unknown internal_id being a row error client_not_found.  The dry run
-- counts the same way.  Accounts 1500-1599.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse

SET client_min_messages = warning;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'M1,Ann,Lee,1980,f
M2,Bob,Ray,1975,m', 'UTF8'), 1500);
RESET client_min_messages;

\set file 'convert_to(''M1,Ann,Lee-Ray,1980,f\nM2,Bob,Ray,1975,m,bob@example,,,\nM3,Cy,Lim,1990,m\nM4,Dee,Dunn,1985,x'', ''UTF8'')'

-- 'insert': M1 and M2 exist (M2 had a warning too: it is now a failed row),
-- M3 is inserted, M4 fails on its own.
SELECT line_no, internal_id, severity, field, code FROM ptimport.pt_import_clients(:file, 1500, mode => 'insert', dry_run => true);
SELECT line_no, internal_id, severity, field, code FROM ptimport.pt_import_clients(:file, 1500, mode => 'insert');
SELECT mode, rows_total, rows_inserted, rows_updated, rows_unchanged, rows_failed, rows_warned
FROM ptimport.import_run WHERE account_id = 1500 AND mode = 'insert' ORDER BY run_id;
SELECT internal_id, last_name FROM ptimport.client WHERE account_id = 1500 ORDER BY 1;

-- 'update': M1 is updated, M2 unchanged, M3 (now stored) unchanged;
-- a new M5 is refused.
SELECT line_no, internal_id, code FROM ptimport.pt_import_clients(
    convert_to(E'M1,Ann,Lee-Ray,1980,f\nM2,Bob,Ray,1975,m\nM3,Cy,Lim,1990,m\nM5,Eve,Eng,2000,f', 'UTF8'),
    1500, mode => 'update', dry_run => true);
SELECT line_no, internal_id, code FROM ptimport.pt_import_clients(
    convert_to(E'M1,Ann,Lee-Ray,1980,f\nM2,Bob,Ray,1975,m\nM3,Cy,Lim,1990,m\nM5,Eve,Eng,2000,f', 'UTF8'),
    1500, mode => 'update');
SELECT mode, dry_run, rows_total, rows_inserted, rows_updated, rows_unchanged, rows_failed
FROM ptimport.import_run WHERE account_id = 1500 AND mode = 'update' ORDER BY run_id;
SELECT internal_id, last_name FROM ptimport.client WHERE account_id = 1500 ORDER BY 1;

-- Every row refused, the last one with a warning too: each row is
-- reported once and kept once for failed_rows().
\set file5 'convert_to(E''K1,A,A,1980,f\nK2,B,B,1980,f\nK3,C,C,1980,f\nK4,D,D,1980,f\nK5,E,E,1980,f,e@'', ''UTF8'')'
SELECT count(*) FROM ptimport.pt_import_clients(:file5, 1502);
SELECT line_no, internal_id, severity, code FROM ptimport.pt_import_clients(:file5, 1502, mode => 'insert');
SELECT line_no, kind FROM ptimport.import_row
WHERE account_id = 1502 AND run_id = ptimport.last_run_id() ORDER BY 1;

-- 3,000 clients that all exist, imported with 'insert': 3,000 failed rows,
-- each reported with its own line, id and raw line.
SET ptimport.max_rows = 5000;
SELECT convert_to(string_agg(format('L%s,Lou,Lee,1980,m', i), E'\n' ORDER BY i), 'UTF8') AS big
FROM generate_series(1, 3000) AS i \gset
SELECT count(*) FROM ptimport.pt_import_clients(:'big'::bytea, 1503);
SELECT count(*) AS reported,
       count(*) FILTER (WHERE code = 'client_exists' AND internal_id = 'L' || line_no
                          AND raw_line = format('L%s,Lou,Lee,1980,m', line_no)) AS as_expected
FROM ptimport.pt_import_clients(:'big'::bytea, 1503, mode => 'insert');
RESET ptimport.max_rows;

-- The mode is checked, and submit() takes it too and keeps it.  -- ERROR
SELECT count(*) FROM ptimport.pt_import_clients(:file, 1500, mode => 'replace');
SELECT ptimport.submit(:file, 1500, mode => 'merge');
SELECT ptimport.submit(convert_to('M6,Fay,Fox,1970,f', 'UTF8'), 1501, mode => 'update') > 0 AS queued;
SET ptimport.account_id = 1501;
SELECT ptimport.process_inbox() AS processed;
RESET ptimport.account_id;
SELECT i.mode, i.state, r.rows_failed, s.code
FROM ptimport.inbox i JOIN ptimport.import_run r USING (account_id, run_id)
JOIN ptimport.import_issue s USING (account_id, run_id)
WHERE i.account_id = 1501;
