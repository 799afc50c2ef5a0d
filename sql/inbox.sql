-- The inbox: submit() queues a file after the cheap checks only;
-- process_inbox() imports queued files oldest first, one account's in
-- submission order, a refused file marked failed while the others go on;
-- inbox_status shows the outcome; contents expire, summaries stay.
-- Accounts 400-499.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
-- File ids appear in messages: start them at a known number.
SELECT setval(pg_get_serial_sequence('ptimport.inbox', 'file_id'), 4000, false) IS NOT NULL AS set;

-- The outcome of an account's files, labelled by source_name.
CREATE FUNCTION pg_temp.outcome(acct bigint)
RETURNS TABLE (source_name text, state text, has_run boolean, rows_total bigint,
			   rows_inserted bigint, rows_updated bigint, rows_unchanged bigint,
			   rows_failed bigint, rows_warned bigint, groups_created bigint,
			   error text, content_kept boolean)
LANGUAGE sql AS $$
	SELECT s.source_name, s.state, s.run_id IS NOT NULL, r.rows_total,
		   r.rows_inserted, r.rows_updated, r.rows_unchanged, r.rows_failed,
		   r.rows_warned, r.groups_created, s.error, s.content_deleted_at IS NULL
	FROM ptimport.inbox AS s
	LEFT JOIN ptimport.import_run AS r USING (account_id, run_id)
	WHERE s.account_id = acct
	ORDER BY s.file_id
$$;

-- submit() returns a file_id at once and imports nothing: the file waits,
-- queued, with its size, encoding and submitter.
SELECT ptimport.submit(convert_to(E'a1,Ann,Lee,1980,f,,,,Knee\na2,Bob,Lee,1980,x', 'UTF8'),
					   400, 'first.csv') > 0 AS queued;
SELECT count(*) AS clients FROM ptimport.client WHERE account_id = 400;
SELECT source_name, encoding, size_bytes, submitted_by = current_user AS by_me, state,
	   processed_at, run_id, error, octet_length(content) AS content_bytes
FROM ptimport.inbox WHERE account_id = 400;

-- submit() makes the same cheap checks as pt_import_clients, with the same
-- errors, and queues nothing when one fails.  -- ERROR (each)
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT ptimport.submit(NULL, 401);
SELECT ptimport.submit(convert_to('a,b,c,1980,f', 'UTF8'));
SELECT ptimport.submit(convert_to('a,b,c,1980,f', 'UTF8'), 401, encoding => 'EBCDIC');
SET ptimport.max_bytes = '1kB';
SELECT ptimport.submit(convert_to(repeat('x', 1025), 'UTF8'), 401);
RESET ptimport.max_bytes;
SET ptimport.account_id = 402;
SELECT ptimport.submit(convert_to('a,b,c,1980,f', 'UTF8'), 401);
RESET ptimport.account_id;
\set VERBOSITY terse
SELECT count(*) AS queued FROM ptimport.inbox WHERE account_id IN (401, 402);
-- What is not cheap (reading the rows) waits for the import: a file that
-- is not CSV at all is accepted here.
SELECT ptimport.submit(convert_to('not a client file', 'UTF8'), 401, 'notes.txt') > 0 AS queued;

-- max_files must be positive.  -- ERROR
SELECT ptimport.process_inbox(0);

-- Oldest first, and one account's files in submission order: 410's second
-- file updates the client its first file created.  Drain what earlier
-- blocks queued, then queue three files and take them one per call.
SELECT ptimport.process_inbox(100) AS processed;
SELECT ptimport.submit(convert_to('c1,Cleo,Old,1980,f', 'UTF8'), 410, '410-a.csv') > 0 AS queued;
SELECT ptimport.submit(convert_to('c1,Cleo,New,1980,f', 'UTF8'), 410, '410-b.csv') > 0 AS queued;
SELECT ptimport.submit(convert_to('d1,Dana,Day,1980,f', 'UTF8'), 411, '411-a.csv') > 0 AS queued;
SELECT ptimport.process_inbox(1) AS processed;
SELECT source_name, state FROM ptimport.inbox WHERE account_id IN (410, 411) ORDER BY file_id;
SELECT ptimport.process_inbox(1) AS processed;
SELECT source_name, state FROM ptimport.inbox WHERE account_id IN (410, 411) ORDER BY file_id;
SELECT ptimport.process_inbox(1) AS processed;
SELECT ptimport.process_inbox(1) AS nothing_left;
SELECT * FROM pg_temp.outcome(410);
SELECT account_id, internal_id, last_name FROM ptimport.client
WHERE account_id IN (410, 411) ORDER BY account_id, internal_id;

-- The earlier files: first.csv imported with its bad row reported;
-- notes.txt was read as one row, which failed.
SELECT * FROM pg_temp.outcome(400);
SELECT * FROM pg_temp.outcome(401);

-- The failed rows of a file: ptimport.import_issue under its run_id.
SELECT i.line_no, i.internal_id, i.severity, i.field, i.code, i.raw_line
FROM ptimport.inbox AS s
JOIN ptimport.import_issue AS i USING (account_id, run_id)
WHERE s.account_id = 400 AND s.source_name = 'first.csv'
ORDER BY i.line_no;

-- A refused file among good ones: too many rows, bytes that are not the
-- encoding the file was submitted with, a NUL byte and a workbook that is
-- not CSV are each marked failed with the import's own message, detail
-- and hint, and the good files before and after them are imported.
SET ptimport.max_rows = 2;
SELECT ptimport.submit(convert_to(E'e1,Eva,Ek,1980,f\ne2,Eli,Ek,1980,m', 'UTF8'), 420, 'good-1.csv') > 0 AS queued;
SELECT ptimport.submit(convert_to(E'e3,A,B,1980,f\ne4,A,B,1980,f\ne5,A,B,1980,f', 'UTF8'), 420, 'three-rows.csv') > 0 AS queued;
SELECT ptimport.submit('\x65392c4ce9612c4b2c313938302c66'::bytea, 420, 'latin1.csv',
					   encoding => 'UTF8') > 0 AS queued;
SELECT ptimport.submit('\x65372c412c422c313938302c660065382c412c422c313938302c66'::bytea, 420, 'nul.csv') > 0 AS queued;
SELECT ptimport.submit('\x504b0304140006000800'::bytea, 420, 'workbook.xlsx') > 0 AS queued;
SELECT ptimport.submit(convert_to('e6,Emma,Ek,1980,f', 'UTF8'), 420, 'good-2.csv') > 0 AS queued;
-- The Latin-1 file imports when it says its encoding (or says none).
SELECT ptimport.submit('\x65392c4ce9612c4b2c313938302c66'::bytea, 420, 'latin1-declared.csv',
					   encoding => 'LATIN1') > 0 AS queued;
SELECT ptimport.process_inbox() AS processed;
RESET ptimport.max_rows;
SELECT i.source_name, i.state, r.rows_total, r.rows_inserted, i.error, i.error_detail, i.error_hint
FROM ptimport.inbox AS i LEFT JOIN ptimport.import_run AS r USING (account_id, run_id)
WHERE i.account_id = 420 ORDER BY i.file_id;
SELECT source_name, error_sqlstate FROM ptimport.inbox
WHERE account_id = 420 AND state = 'failed' ORDER BY file_id;
SELECT internal_id, first_name FROM ptimport.client WHERE account_id = 420 ORDER BY internal_id;

-- Everything a call does is one transaction: rolled back (as when the
-- worker crashes), its files are queued again and nothing was imported.
SELECT ptimport.submit(convert_to('f1,Finn,Fox,1980,m', 'UTF8'), 430, 'rolled-back.csv') > 0 AS queued;
BEGIN;
SELECT ptimport.process_inbox() AS processed;
SELECT state FROM ptimport.inbox WHERE account_id = 430;
ROLLBACK;
SELECT source_name, state, run_id, processed_at FROM ptimport.inbox WHERE account_id = 430;
SELECT count(*) AS clients FROM ptimport.client WHERE account_id = 430;
SELECT ptimport.process_inbox() AS processed;
SELECT * FROM pg_temp.outcome(430);

-- last_run_id() is the run of the session's latest import.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('g1,Gus,Gray,1980,m', 'UTF8'), 431);
SELECT ptimport.last_run_id() = (SELECT max(run_id) FROM ptimport.import_run WHERE account_id = 431)
	AS is_latest_run;

-- Retention: contents are kept for ptimport.inbox_retention_days (30 by
-- default) after processing; then purge_inbox(), which every
-- process_inbox() call runs, deletes them while the summary stays.
SHOW ptimport.inbox_retention_days;
SELECT ptimport.submit(convert_to('h1,Hal,Hill,1980,m', 'UTF8'), 440, 'old.csv') > 0 AS queued;
SELECT ptimport.submit(convert_to('h2,Hil,Hill,1980,f', 'UTF8'), 440, 'recent.csv') > 0 AS queued;
SELECT ptimport.process_inbox() AS processed;
SELECT ptimport.submit(convert_to('h3,Hip,Hill,1980,m', 'UTF8'), 440, 'waiting.csv') > 0 AS queued;
-- old.csv was processed 31 days ago, recent.csv 29 days ago.
UPDATE ptimport.inbox SET processed_at = processed_at - interval '31 days'
WHERE account_id = 440 AND source_name = 'old.csv';
UPDATE ptimport.inbox SET processed_at = processed_at - interval '29 days'
WHERE account_id = 440 AND source_name = 'recent.csv';
SELECT ptimport.purge_inbox() > 0 AS purged;
SELECT source_name, state, content IS NULL AS content_deleted,
	   content_deleted_at IS NOT NULL AS deletion_time_kept
FROM ptimport.inbox WHERE account_id = 440 ORDER BY file_id;
SELECT * FROM pg_temp.outcome(440);
-- With 0 days a file's contents go as soon as it is processed; a queued
-- file keeps its contents whatever the setting.
SET ptimport.inbox_retention_days = 0;
SELECT ptimport.submit(convert_to('h4,Hugo,Hill,1980,m', 'UTF8'), 441, 'at-once.csv') > 0 AS queued;
BEGIN;
SELECT ptimport.purge_inbox() > 0 AS purged;
SELECT source_name, state, content IS NULL AS content_deleted
FROM ptimport.inbox WHERE account_id IN (440, 441) ORDER BY file_id;
ROLLBACK;
SELECT ptimport.process_inbox() AS processed;
SELECT source_name, state, content IS NULL AS content_deleted
FROM ptimport.inbox WHERE account_id IN (440, 441) ORDER BY file_id;
RESET ptimport.inbox_retention_days;
-- The setting is superuser-only.  -- ERROR
CREATE ROLE regress_inbox_user;
SET ROLE regress_inbox_user;
SET ptimport.inbox_retention_days = 365;
RESET ROLE;
DROP ROLE regress_inbox_user;

-- Privileges.  PUBLIC can use none of it.  -- ERROR (each)
CREATE ROLE regress_inbox_public;
GRANT USAGE ON SCHEMA ptimport TO regress_inbox_public;
SET ROLE regress_inbox_public;
SELECT ptimport.submit(convert_to('x', 'UTF8'), 450);
SELECT ptimport.process_inbox();
SELECT count(*) FROM ptimport.inbox_status;
RESET ROLE;

-- An application role (grant_app, account 450) submits for its account
-- and sees that account's files only.
CREATE ROLE regress_inbox_app;
SELECT ptimport.grant_app('regress_inbox_app');
SELECT ptimport.grant_account('regress_inbox_app', 450);
SELECT ptimport.submit(convert_to('k1,Kim,Kay,1980,f', 'UTF8'), 451, 'other.csv') > 0 AS queued;
SET ROLE regress_inbox_app;
SET ptimport.account_id = 450;
SELECT ptimport.submit(convert_to(E'j1,Jo,Jay,1980,f\nj2,Jan,Jay,1980,q', 'UTF8'),
					   source_name => 'app.csv') > 0 AS queued;
SELECT ptimport.submit(convert_to('j3,Jim,Jay,1980,m', 'UTF8'), 451);
SELECT account_id, source_name, state FROM ptimport.inbox_status ORDER BY file_id;
-- It cannot process the queue or change a file's state.  -- ERROR (each)
SELECT ptimport.process_inbox();
UPDATE ptimport.inbox SET state = 'done';
-- Without the setting the view shows nothing, but the role may still
-- name one of its accounts.
RESET ptimport.account_id;
SELECT count(*) AS visible_without_account FROM ptimport.inbox_status;
SELECT ptimport.submit(convert_to('j4,Jud,Jay,1980,m', 'UTF8'), 450, 'named.csv') > 0 AS queued;
RESET ROLE;

-- A worker role that may run process_inbox but was not granted the
-- accounts: the import fails on the missing privilege, which is about the
-- worker, not the file, so the call ends and the file stays queued.
-- ERROR
CREATE ROLE regress_inbox_broken;
GRANT USAGE ON SCHEMA ptimport TO regress_inbox_broken;
GRANT EXECUTE ON FUNCTION ptimport.process_inbox(integer) TO regress_inbox_broken;
SET ROLE regress_inbox_broken;
SELECT ptimport.process_inbox();
RESET ROLE;
SELECT account_id, source_name, state FROM ptimport.inbox
WHERE account_id IN (450, 451) ORDER BY file_id;

-- The worker role set up with grant_worker drains every account's files.
CREATE ROLE regress_inbox_worker;
SELECT ptimport.grant_worker('regress_inbox_worker');
SET ROLE regress_inbox_worker;
SELECT ptimport.process_inbox() AS processed;
RESET ROLE;
SELECT * FROM pg_temp.outcome(450);
SELECT * FROM pg_temp.outcome(451);
SELECT DISTINCT r.run_by FROM ptimport.import_run AS r
JOIN ptimport.inbox AS i USING (account_id, run_id) WHERE i.account_id IN (450, 451);

-- The app role reads its file's failed rows.
SET ROLE regress_inbox_app;
SET ptimport.account_id = 450;
SELECT s.source_name, i.line_no, i.code, i.raw_line
FROM ptimport.inbox_status AS s JOIN ptimport.account_issues AS i USING (account_id, run_id)
ORDER BY i.line_no;
RESET ptimport.account_id;
RESET ROLE;

-- drain_inbox() (a procedure, for pg_cron) commits each file on its own
-- and takes no new file once its time budget has passed: with a budget of
-- 0 seconds it imports exactly one file.  Each file's row then carries the
-- id of a transaction of its own (xmin).
SELECT ptimport.submit(convert_to('m1,Mo,May,1980,m', 'UTF8'), 460, 'm-1.csv') > 0 AS queued;
SELECT ptimport.submit(convert_to('n1,Nu,Nay,1980,f', 'UTF8'), 461, 'n-1.csv') > 0 AS queued;
SELECT ptimport.submit(convert_to('n2,Ny,Nay,1980,f', 'UTF8'), 461, 'n-2.csv') > 0 AS queued;
SET ROLE regress_inbox_worker;
CALL ptimport.drain_inbox('0 seconds');
RESET ROLE;
SELECT account_id, source_name, state FROM ptimport.inbox
WHERE account_id IN (460, 461) ORDER BY file_id;
SET ROLE regress_inbox_worker;
CALL ptimport.drain_inbox();
RESET ROLE;
SELECT account_id, source_name, state FROM ptimport.inbox
WHERE account_id IN (460, 461) ORDER BY file_id;
SELECT count(DISTINCT xmin::text) AS transactions FROM ptimport.inbox
WHERE account_id IN (460, 461);
-- Like any procedure that commits, it cannot run inside a transaction
-- block.  -- ERROR
BEGIN;
CALL ptimport.drain_inbox();
ROLLBACK;

-- A worker error on one account's file (here: the worker may act for
-- account 470 only) leaves that file queued, the other accounts' files are
-- imported and committed, and the call ends with the error, so pg_cron
-- shows it.  -- ERROR
CREATE ROLE regress_inbox_partial;
SELECT ptimport.grant_worker('regress_inbox_partial');
SELECT ptimport.revoke_account('regress_inbox_partial', NULL);
SELECT ptimport.grant_account('regress_inbox_partial', 470);
SELECT ptimport.submit(convert_to('p1,Pia,Poe,1980,f', 'UTF8'), 471, 'p-1.csv') > 0 AS queued;
SELECT ptimport.submit(convert_to('o1,Oda,Orr,1980,f', 'UTF8'), 470, 'o-1.csv') > 0 AS queued;
SET ROLE regress_inbox_partial;
CALL ptimport.drain_inbox();
RESET ROLE;
SELECT account_id, source_name, state FROM ptimport.inbox
WHERE account_id IN (470, 471) ORDER BY file_id;

SELECT ptimport.revoke_account('regress_inbox_partial', 470);
SELECT ptimport.revoke_account('regress_inbox_worker', NULL);
DROP OWNED BY regress_inbox_public, regress_inbox_app, regress_inbox_broken,
	regress_inbox_worker, regress_inbox_partial;
DROP ROLE regress_inbox_public, regress_inbox_app, regress_inbox_broken,
	regress_inbox_worker, regress_inbox_partial;
