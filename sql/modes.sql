-- Import modes: 'upsert' (the default) inserts new clients and updates
-- existing ones; 'insert' only adds new clients, an existing internal_id
-- being a row error client_exists; 'update' only changes existing ones, an
-- unknown internal_id being a row error client_not_found.  The dry run
-- counts the same way.  Accounts 1500-1299.
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
