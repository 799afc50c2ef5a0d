-- failed_rows(): the rows a run did not import, as a CSV file a spreadsheet
-- opens (UTF-8 with a byte-order mark, CRLF), with the file's header and a
-- first column "Error"; fixed in place, the same file imports.  Accounts
-- 1600-1699.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
\set VERBOSITY terse
-- Run ids appear in messages: start them at a known number.
SELECT setval(pg_get_serial_sequence('ptimport.import_run', 'run_id'), 16000, false) IS NOT NULL AS set;

-- The file as text, the byte-order mark checked and taken off, one line a
-- row (\r shown as <CR>, the years an error names as Y-100 to Y: they
-- follow the current year).
CREATE FUNCTION pg_temp.show(f bytea) RETURNS SETOF text LANGUAGE sql AS $$
	SELECT CASE WHEN substring(f FROM 1 FOR 3) = '\xefbbbf' THEN '' ELSE 'NO BOM: ' END
		   || regexp_replace(line, '\d{4} to \d{4}', 'Y-100 to Y')
	FROM regexp_split_to_table(replace(convert_from(substring(f FROM 4), 'UTF8'), E'\r', '<CR>'),
							   E'\n') AS line
$$;

-- A file without a header, semicolon-separated: two failed rows (one with
-- a quoted value holding the delimiter), one row with a warning, one good.
SELECT line_no, internal_id, severity, code
FROM ptimport.pt_import_clients(convert_to(
'F1;Ann;Lee;1980;f;;;;Knee
F2;Bob;Lee;19x1;m;;;;knee
F3;Cy;"Lee; Jr";1990;x
F4;Dee;Dunn;1970;f;dee@;;;', 'UTF8'), 1600, source_name => 'practice.csv');
SELECT ptimport.last_run_id() AS run \gset

-- The failed rows, under a header of PT Direct's names in the file's order
-- and with the file's delimiter.
SELECT * FROM pg_temp.show(ptimport.failed_rows(:run, account_id => 1600));
-- With the rows imported with warnings too.
SELECT * FROM pg_temp.show(ptimport.failed_rows(:run, include_warnings => true, account_id => 1600));

-- The practice fixes the two rows in its spreadsheet, leaves the Error
-- column as it is, and imports the file again: both rows are imported,
-- and the Error column is ignored without a word.
SELECT convert_from(substring(ptimport.failed_rows(:run, account_id => 1600) FROM 4), 'UTF8') AS failed \gset
SELECT line_no, code FROM ptimport.pt_import_clients(
	convert_to(replace(replace(:'failed', ';19x1;', ';1981;'), ';1990;x', ';1990;m'), 'UTF8'), 1600);
SELECT internal_id, last_name, birth_year, gender FROM ptimport.client
WHERE account_id = 1600 ORDER BY 1;

-- A file with its own header (a practice system's export, other names,
-- an extra column): the header comes back as it was.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
E'Patient ID,Given name,Surname,DOB,Sex,Phone\r\np1,Ann,Lee,1980-01-02,F,1\r\np2,Bob,Lee,,M,2\r\n',
'UTF8'), 1601);
SELECT * FROM pg_temp.show(ptimport.failed_rows(ptimport.last_run_id(), account_id => 1601));

-- A run with nothing to fix gives the header alone.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('G1,Gus,Gray,1980,m', 'UTF8'), 1602);
SELECT * FROM pg_temp.show(ptimport.failed_rows(ptimport.last_run_id(), account_id => 1602));

-- A national id is kept masked: in the issue log and in the kept row of a
-- row that failed; a row imported with it is not kept at all.
SELECT line_no, internal_id, code FROM ptimport.pt_import_clients(convert_to(
E'9434765919,Nia,Ng,1970,f,nia@,,,\n123-45-6789,Sam,Su,1970,q', 'UTF8'), 1603);
SELECT * FROM pg_temp.show(ptimport.failed_rows(ptimport.last_run_id(), true, 1603));
SELECT count(*) AS clear_ids_kept FROM ptimport.import_row
WHERE account_id = 1603 AND (raw LIKE '%9434765919%' OR raw LIKE '%123-45-6789%');

-- A run of 3,000 failed rows: a file of about 700 kB, given back whole.
SET ptimport.max_rows = 5000;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
	(SELECT string_agg(format('B%s,%s,Lee,1980,q', i, repeat('n', 50)), E'\n' ORDER BY i)
	 FROM generate_series(1, 3000) AS i), 'UTF8'), 1604);
RESET ptimport.max_rows;
SELECT count(*) AS lines,
       count(*) FILTER (WHERE line ~ '^"Gender ""q"" [^"]*",B[0-9]+,n{50},Lee,1980,q<CR>$') AS failed
FROM pg_temp.show(ptimport.failed_rows(ptimport.last_run_id(), account_id => 1604)) AS line;

-- What cannot be given back.  -- ERROR (each)
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT ptimport.failed_rows(:run, account_id => 1601);
SELECT ptimport.failed_rows(NULL, account_id => 1600);
UPDATE ptimport.import_run SET finished_at = finished_at - interval '91 days'
WHERE account_id = 1600 AND run_id = :run;
SELECT item, purged FROM ptimport.purge() WHERE item = 'rows kept for failed_rows()';
SELECT ptimport.failed_rows(:run, account_id => 1600);
\set VERBOSITY terse

-- An application role gets the rows of its own account's runs only.
-- ERROR
CREATE ROLE regress_failed_app;
SELECT ptimport.grant_app('regress_failed_app');
SELECT ptimport.grant_account('regress_failed_app', 1601);
SET ROLE regress_failed_app;
SET ptimport.account_id = 1601;
SELECT length(ptimport.failed_rows(r.run_id)) > 3 AS has_rows
FROM ptimport.account_runs AS r ORDER BY run_id DESC LIMIT 1;
SELECT ptimport.failed_rows(:run);
RESET ptimport.account_id;
RESET ROLE;
SELECT ptimport.revoke_account('regress_failed_app', 1601);
DROP OWNED BY regress_failed_app;
DROP ROLE regress_failed_app;
