-- erase_client(): a client's personal data leaves every ptimport table:
-- the client, its issue records with their raw lines, its kept rows, its
-- entries in the undo data, and the inbox files that name it (a queued one
-- fails instead of bringing the client back).  Accounts 1700-1799.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
\set VERBOSITY terse

-- Everywhere a value appears in ptimport's tables for an account: which
-- table holds it (in any column, as text; in a bytea column, as bytes).
CREATE FUNCTION pg_temp.traces(acct bigint, needle text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	t record;
	n bigint;
BEGIN
	FOR t IN SELECT c.relname,
					(SELECT string_agg(format(' OR position(convert_to($2, ''UTF8'') IN r.%I) > 0',
											  a.attname), '')
					 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.atttypid = 'bytea'::regtype)
					 AS bytea_test
			 FROM pg_class c
			 WHERE c.relnamespace = 'ptimport'::regnamespace AND c.relkind = 'r'
			   AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid
							 AND a.attname = 'account_id')
			 ORDER BY 1 LOOP
		EXECUTE format('SELECT count(*) FROM ptimport.%I AS r WHERE r.account_id = $1'
					   ' AND (r::text LIKE ''%%'' || $2 || ''%%''%s)', t.relname,
					   coalesce(t.bytea_test, ''))
		INTO n USING acct, needle;
		IF n > 0 THEN
			RETURN NEXT format('%s: %s', t.relname, n);
		END IF;
	END LOOP;
END $$;

-- Zoe Z. (E7) is imported, updated (undo data), named in a row that failed
-- (issue log, kept rows), and in three inbox files: one imported, one
-- still queued, one that was refused whole (its bytes are not UTF-8).
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(E'E7,Zoe,Zed,1980,f,zoe@example.com\nE8,Max,Moe,1981,m', 'UTF8'), 1700);
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(E'E7,Zoe,Zed-Zorn,1980,f,,0031611223344\nE7,Zoe,Zed,19x0,f', 'UTF8'), 1700);
SELECT ptimport.submit(convert_to('E7,Zoe,Zed,1980,f', 'UTF8'), 1700, 'imported.csv') > 0 AS queued;
SET ptimport.account_id = 1700;
SELECT ptimport.process_inbox() AS processed;
RESET ptimport.account_id;
SELECT ptimport.submit(convert_to(E'Patient ID;Given name;Surname;Year of birth;Sex\nX1;Al;Ax;1970;m\nE7;Zoe;Zed;1980;f', 'UTF8'),
					   1700, 'queued.csv') > 0 AS queued;
SELECT ptimport.submit('\x45372c5a6f652c5aff642c313938302c66'::bytea, 1700, 'refused.csv', 'UTF8') > 0 AS queued;
SELECT ptimport.submit(convert_to('E8,Max,Moe,1981,m', 'UTF8'), 1700, 'other.csv') > 0 AS queued;
SELECT * FROM pg_temp.traces(1700, 'E7');
SELECT * FROM pg_temp.traces(1700, 'Zorn');

-- The erasure, and what it reports.
SELECT * FROM ptimport.erase_client(1700, 'E7');

-- No trace is left, in any table; other clients and files are untouched.
SELECT * FROM pg_temp.traces(1700, 'E7');
SELECT * FROM pg_temp.traces(1700, 'Zorn');
SELECT source_name, state, error, content IS NULL AS content_erased
FROM ptimport.inbox WHERE account_id = 1700 ORDER BY file_id;
SELECT internal_id FROM ptimport.client WHERE account_id = 1700;
-- It is logged, without personal data.
SELECT kind, rows_deleted, source_name, run_by
FROM ptimport.import_run WHERE account_id = 1700 AND kind = 'erase';
-- The queued file that named the client is not imported by the worker.
SET ptimport.account_id = 1700;
SELECT ptimport.process_inbox() AS processed;
RESET ptimport.account_id;
SELECT internal_id FROM ptimport.client WHERE account_id = 1700 ORDER BY 1;

-- A national id is erased from the issue log too, where it is masked.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('9434765919,Nia,Ng,1970,q', 'UTF8'), 1701);
SELECT internal_id FROM ptimport.import_issue WHERE account_id = 1701;
SELECT item, erased FROM ptimport.erase_client(1701, '9434765919') WHERE erased > 0;
SELECT count(*) AS left FROM ptimport.import_issue WHERE account_id = 1701;

-- A file names the client as a spreadsheet may write the id: decomposed
-- (NFD, as Numbers writes it) and with a thin space after it.  The import
-- stores it trimmed and in NFC, and the erasure finds it the same way.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(E'J\u00e9-1,Jo,Jay,1970,m', 'UTF8'), 1703);
SELECT ptimport.submit(convert_to(E'Je\u0301-1\u2009,Jo,Jay,1971,m', 'UTF8'), 1703, 'nfd.csv') > 0 AS queued;
SELECT item, erased FROM ptimport.erase_client(1703, E'J\u00e9-1') WHERE erased > 0;
SELECT source_name, state, content IS NULL AS content_erased FROM ptimport.inbox WHERE account_id = 1703;

-- An application role erases in its own accounts only.  -- ERROR
CREATE ROLE regress_erase_app;
SELECT ptimport.grant_app('regress_erase_app');
SELECT ptimport.grant_account('regress_erase_app', 1702);
SET ROLE regress_erase_app;
SELECT * FROM ptimport.erase_client(1700, 'E8');
SELECT item, erased FROM ptimport.erase_client(1702, 'nobody');
RESET ROLE;
SELECT ptimport.revoke_account('regress_erase_app', 1702);
DROP OWNED BY regress_erase_app;
DROP ROLE regress_erase_app;
