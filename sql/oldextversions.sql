-- The current library behind the 1.0 SQL declarations, as a database runs
-- between installing the new files and ALTER EXTENSION ptimport UPDATE:
-- every C entry point works through its 1.0 declaration on the 1.0 tables
-- (pt_import_clients, submit, last_run_id, purge_inbox, and the 1.0
-- process_inbox that calls them), and a declaration the library does not
-- know is refused with a hint to update.  In a database of its own, so the
-- other tests keep theirs.
SELECT current_database() AS regress_db, datcollate, datctype
FROM pg_database WHERE datname = current_database() \gset
CREATE DATABASE regress_ptimport_oldext TEMPLATE template0 ENCODING 'UTF8'
    LC_COLLATE :'datcollate' LC_CTYPE :'datctype';
\c regress_ptimport_oldext
\set VERBOSITY terse

CREATE EXTENSION ptimport VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'ptimport';
SELECT oid::regprocedure AS routine, prosecdef
FROM pg_proc WHERE pronamespace = 'ptimport'::regnamespace ORDER BY 1::text;

-- pt_import_clients (five arguments) imports, logs the run in the 1.0
-- columns and returns the problem rows; VIP and vip are one group.
SELECT * FROM ptimport.pt_import_clients(
    convert_to(E'O1,Ann,Lee,1980,f,ann@example.com,,,VIP\n'
               'O2,Bob,Lee,1975,x\n'
               'O3,Cy,Lee,1990,m,,,,vip\n', 'UTF8'),
    1, source_name => 'old.csv');
SELECT c.internal_id, c.first_name, c.email, g.name AS client_group
FROM ptimport.client AS c LEFT JOIN ptimport.client_group AS g USING (account_id, group_id)
ORDER BY c.internal_id;
SELECT run_id, account_id, source_name, dry_run, rows_total, rows_inserted, rows_updated,
       rows_unchanged, rows_failed, rows_warned, groups_created, run_by
FROM ptimport.import_run ORDER BY run_id;
SELECT run_id, account_id, line_no, internal_id, severity, field, code
FROM ptimport.import_issue ORDER BY run_id, line_no;

-- A dry run writes no client and is logged; last_run_id() is its run.
SELECT count(*) AS problems FROM ptimport.pt_import_clients(
    convert_to(E'O1,Anne,Lee,1980,f\nO4,Di,Lee,1985,f\n', 'UTF8'), 1, dry_run => true);
SELECT ptimport.last_run_id();
SELECT count(*) AS clients FROM ptimport.client;

-- A real import takes 1.0's advisory lock on its account, not a row lock.
BEGIN;
SELECT count(*) AS problems FROM ptimport.pt_import_clients(
    convert_to(E'O1,Anne,Lee,1980,f\n', 'UTF8'), 1);
SELECT locktype, classid, objid, objsubid, mode FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'advisory';
ROLLBACK;

-- submit (four arguments) stores the 1.0 columns, the encoding defaulting
-- to UTF8; the 1.0 process_inbox imports through the 1.0 declarations and
-- links each file to its run with last_run_id().
SELECT ptimport.submit(convert_to(E'O4,Di,Lee,1985,f\n', 'UTF8'), 2, 'queued.csv');
SELECT ptimport.submit('\x4f352c4566ff'::bytea, 2, 'bad.csv');
SELECT ptimport.submit('\x4f362c4cf42c4c65652c313938302c660a'::bytea, 2, 'win.csv', 'WIN1252');
SELECT file_id, account_id, source_name, encoding, size_bytes, state, submitted_by
FROM ptimport.inbox ORDER BY file_id;
SELECT ptimport.process_inbox();
SELECT i.file_id, i.state, r.source_name AS run_of, r.rows_inserted, i.error, i.error_sqlstate
FROM ptimport.inbox AS i LEFT JOIN ptimport.import_run AS r USING (run_id)
ORDER BY i.file_id;
SELECT c.internal_id, c.first_name FROM ptimport.client AS c
WHERE c.account_id = 2 ORDER BY 1;

-- purge_inbox deletes the contents of processed files.
SET ptimport.inbox_retention_days = 0;
SELECT ptimport.purge_inbox();
RESET ptimport.inbox_retention_days;
SELECT file_id, content IS NULL AS purged, content_deleted_at IS NOT NULL AS recorded
FROM ptimport.inbox ORDER BY file_id;

-- A role under row-level security imports as 1.0 allowed it: only for the
-- account in ptimport.account_id, which it must set.
CREATE ROLE regress_oldext_app;
GRANT USAGE ON SCHEMA ptimport TO regress_oldext_app;
GRANT EXECUTE ON FUNCTION ptimport.pt_import_clients(bytea, bigint, boolean, text, text),
    ptimport.submit(bytea, bigint, text, text) TO regress_oldext_app;
GRANT SELECT, INSERT, UPDATE ON ptimport.client, ptimport.client_group TO regress_oldext_app;
GRANT SELECT, INSERT ON ptimport.import_run, ptimport.import_issue, ptimport.inbox TO regress_oldext_app;
SET ROLE regress_oldext_app;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(E'O7,Eve,Lee,1981,f\n', 'UTF8'), 3);  -- ERROR
SET ptimport.account_id = 3;
SELECT count(*) AS problems FROM ptimport.pt_import_clients(convert_to(E'O7,Eve,Lee,1981,f\n', 'UTF8'));
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(E'O8,Fay,Lee,1982,f\n', 'UTF8'), 1);  -- ERROR
SELECT ptimport.submit(convert_to(E'O8,Fay,Lee,1982,f\n', 'UTF8')) > 0 AS submitted;
SELECT account_id, internal_id FROM ptimport.client ORDER BY 1, 2;
RESET ptimport.account_id;
RESET ROLE;
SELECT run_by, submitted_by FROM ptimport.import_run, ptimport.inbox
WHERE import_run.account_id = 3 AND inbox.account_id = 3;

-- Declarations this library does not know: the wrong number of arguments,
-- or of result columns.
\set VERBOSITY default
CREATE FUNCTION public.regress_import_6(bytea, bigint, boolean, text, text, text)
RETURNS TABLE (line_no integer, internal_id text, severity text, field text, code text,
               message text, raw_line text)
AS '$libdir/ptimport', 'pt_import_clients' LANGUAGE C;
SELECT * FROM public.regress_import_6(convert_to(E'O9,Gil,Lee,1983,m\n', 'UTF8'), 1,
                                      false, 'UTF8', NULL, NULL);  -- ERROR
CREATE FUNCTION public.regress_import_2col(bytea, bigint, boolean, text, text)
RETURNS TABLE (line_no integer, code text)
AS '$libdir/ptimport', 'pt_import_clients' LANGUAGE C;
SELECT * FROM public.regress_import_2col(convert_to(E'O9,Gil,Lee,1983,m\n', 'UTF8'), 1,
                                         false, 'UTF8', NULL);  -- ERROR
CREATE FUNCTION public.regress_submit_5(bytea, bigint, text, text, text) RETURNS bigint
AS '$libdir/ptimport', 'pt_submit' LANGUAGE C;
SELECT public.regress_submit_5(convert_to(E'O9,Gil,Lee,1983,m\n', 'UTF8'), 1,
                               NULL, 'UTF8', NULL);  -- ERROR
\set VERBOSITY terse
SELECT count(*) AS clients FROM ptimport.client WHERE internal_id = 'O9';

-- After the update the same library serves the current declarations, and
-- the 1.0 ones are gone.
DROP OWNED BY regress_oldext_app;
DROP ROLE regress_oldext_app;
ALTER EXTENSION ptimport UPDATE;
SELECT extversion = default_version AS current
FROM pg_extension JOIN pg_available_extensions ON name = extname WHERE extname = 'ptimport';
SELECT count(*) AS problems FROM ptimport.pt_import_clients(
    convert_to(E'O1,Anne,Lee,1980,f,,,,Vip\nO9,Gil,Lee,1983,m\n', 'UTF8'), 1, mode => 'update');
SELECT c.internal_id, c.first_name, g.name AS client_group
FROM ptimport.client AS c LEFT JOIN ptimport.client_group AS g USING (account_id, group_id)
WHERE c.account_id = 1 ORDER BY c.internal_id;
SELECT 'ptimport.pt_import_clients(bytea, bigint, boolean, text, text)'::regprocedure;  -- ERROR

\c :regress_db
DROP DATABASE regress_ptimport_oldext;
