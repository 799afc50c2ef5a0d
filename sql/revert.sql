-- revert_run(): undoing an import restores exactly the state before it for
-- every client not changed since, reports the others, and is logged as a
-- run of its own.  Accounts 1400-1199.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
-- Run ids appear in messages: start them at a known number.
SELECT setval(pg_get_serial_sequence('ptimport.import_run', 'run_id'), 14000, false) IS NOT NULL AS set;

-- The account's clients and groups, whole, for comparing before and after.
CREATE FUNCTION pg_temp.state(acct bigint) RETURNS text LANGUAGE sql AS $$
	SELECT concat_ws(' | ',
		(SELECT string_agg(c::text, '; ' ORDER BY c.client_id) FROM ptimport.client c
		 WHERE c.account_id = acct),
		(SELECT string_agg(g::text, '; ' ORDER BY g.group_id) FROM ptimport.client_group g
		 WHERE g.account_id = acct))
$$;

-- A first import, then the state before the import to undo.
SET client_min_messages = warning;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'R1,Ann,Lee,1980,f,ann@example.com,0031611223344,D1,Knee
R2,Bob,Ray,1975,m,,,,knee
R3,Cy,Lim,1990,m,,,,', 'UTF8'), 1400);
RESET client_min_messages;
CREATE TEMP TABLE before AS SELECT pg_temp.state(1400) AS state;

-- The import to undo inserts R4 and R5 (with a new group), updates R1 (a
-- required value, an optional one, the group) and R2 (a new group), and
-- leaves R3 unchanged.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'R1,Ann,Lee-Ray,1980,f,ann@example.org,,,Back
R2,Bob,Ray,1975,m,,,,Neck
R3,Cy,Lim,1990,m,,,,
R4,Dee,Dunn,1985,f,,,,Back
R5,Eve,Eng,2000,f,,,,', 'UTF8'), 1400, source_name => 'wrong-file.csv');
SELECT ptimport.last_run_id() AS run \gset
CREATE TEMP TABLE after_import AS SELECT pg_temp.state(1400) AS state;
SELECT internal_id, last_name, email, client_group FROM (
	SELECT c.internal_id, c.last_name, c.email, g.name AS client_group
	FROM ptimport.client c LEFT JOIN ptimport.client_group g USING (account_id, group_id)
	WHERE c.account_id = 1400) s ORDER BY 1;

-- A dry run says what would happen and changes nothing.
SELECT * FROM ptimport.revert_run(:run, dry_run => true, account_id => 1400);
SELECT pg_temp.state(1400) = (SELECT state FROM after_import) AS unchanged_by_dry_run;

-- The undo: R4 and R5 deleted, R1 and R2 restored with their old
-- updated_at, the groups Back and Neck deleted (no client uses them).
SELECT * FROM ptimport.revert_run(:run, account_id => 1400);
SELECT pg_temp.state(1400) = (SELECT state FROM before) AS same_as_before;
SELECT kind, reverts_run_id = :run AS reverts, dry_run, rows_total, rows_deleted,
       rows_updated, rows_failed, groups_deleted, source_name
FROM ptimport.import_run WHERE account_id = 1400 AND kind = 'revert' ORDER BY run_id;

-- A run is undone once.  -- ERROR
SELECT * FROM ptimport.revert_run(:run, account_id => 1400);

-- Clients changed since the run are left as they are and reported: R7 was
-- updated by a later import (its email), R8 deleted, R9 changed by a DBA
-- without touching updated_at.  R6, unchanged since, is undone.
SET client_min_messages = warning;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'R6,Fay,Fox,1970,f,,,,
R7,Gus,Gray,1971,m,,,,
R8,Hal,Hill,1972,m,,,,
R9,Ida,Ives,1973,f,,,,', 'UTF8'), 1401);
RESET client_min_messages;
SELECT ptimport.last_run_id() AS run2 \gset
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('R7,Gus,Gray,1971,m,gus@example.com,,,', 'UTF8'), 1401);
DELETE FROM ptimport.client WHERE account_id = 1401 AND internal_id = 'R8';
UPDATE ptimport.client SET first_name = 'Ada' WHERE account_id = 1401 AND internal_id = 'R9';
SELECT * FROM ptimport.revert_run(:run2, account_id => 1401);
SELECT internal_id, first_name, email FROM ptimport.client WHERE account_id = 1401 ORDER BY 1;

-- Undoing an update whose earlier group has since been deleted would point
-- the client at nothing: it is reported instead.
SET client_min_messages = warning;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('R10,Jo,Jay,1980,f,,,,Old', 'UTF8'), 1402);
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('R10,Jo,Jay,1980,f,,,,New', 'UTF8'), 1402);
RESET client_min_messages;
SELECT ptimport.last_run_id() AS run3 \gset
DELETE FROM ptimport.client_group WHERE account_id = 1402 AND name = 'Old';
SELECT line_no, internal_id, code, message FROM ptimport.revert_run(:run3, account_id => 1402);

-- What cannot be undone.  -- ERROR (each)
\set VERBOSITY default
\set SHOW_CONTEXT never
-- a run of another account (or none at all);
SELECT * FROM ptimport.revert_run(:run, account_id => 1402);
-- a dry run, or an undo;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('R11,Kim,Kay,1980,f', 'UTF8'), 1402, dry_run => true);
SELECT * FROM ptimport.revert_run(ptimport.last_run_id(), account_id => 1402);
-- a run whose undo data was purged with its log;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('R12,Lu,Lee,1980,f', 'UTF8'), 1402);
SELECT ptimport.last_run_id() AS old_run \gset
UPDATE ptimport.import_run SET finished_at = finished_at - interval '91 days'
WHERE account_id = 1402 AND run_id = :old_run;
SELECT item, purged FROM ptimport.purge() WHERE item = 'undo data';
SELECT * FROM ptimport.revert_run(:old_run, account_id => 1402);
-- a run imported by 1.0, which kept no undo data;
INSERT INTO ptimport.import_run (account_id, dry_run, started_at, finished_at, rows_total,
	rows_inserted, rows_updated, rows_unchanged, rows_failed, rows_warned, groups_created)
VALUES (1402, false, now(), now(), 1, 1, 0, 0, 0, 0, 0) RETURNING run_id AS v10_run \gset
SELECT * FROM ptimport.revert_run(:v10_run, account_id => 1402);
-- a file of more rows than ptimport.undo_max_rows, imported without undo
-- data (its arrays would be built in memory);
SET ptimport.undo_max_rows = 1;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(E'R13,Mo,Ma,1980,f\nR14,Ny,Na,1980,f', 'UTF8'), 1402);
RESET ptimport.undo_max_rows;
SELECT ptimport.last_run_id() AS big_run \gset
SELECT count(*) AS undo_rows FROM ptimport.run_undo WHERE account_id = 1402 AND run_id = :big_run;
SELECT * FROM ptimport.revert_run(:big_run, account_id => 1402);
-- a run that changed no client;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('R13,Mo,Ma,1980,f', 'UTF8'), 1402);
SELECT * FROM ptimport.revert_run(ptimport.last_run_id(), account_id => 1402);
-- no run at all.
SELECT * FROM ptimport.revert_run(NULL, account_id => 1402);
\set VERBOSITY terse

-- An application role undoes runs of its own account only.  -- ERROR
CREATE ROLE regress_revert_app;
SELECT ptimport.grant_app('regress_revert_app');
SELECT ptimport.grant_account('regress_revert_app', 1403);
SET client_min_messages = warning;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('R20,Max,Moe,1980,m', 'UTF8'), 1403);
RESET client_min_messages;
SELECT ptimport.last_run_id() AS app_run \gset
SET ROLE regress_revert_app;
SET ptimport.account_id = 1403;
SELECT * FROM ptimport.revert_run(:run);
SELECT count(*) AS problems FROM ptimport.revert_run(:app_run);
SELECT count(*) AS clients FROM ptimport.account_clients;
SELECT kind, run_by FROM ptimport.account_runs ORDER BY run_id;
RESET ptimport.account_id;
RESET ROLE;
SELECT ptimport.revoke_account('regress_revert_app', 1403);
DROP OWNED BY regress_revert_app;
DROP ROLE regress_revert_app;
