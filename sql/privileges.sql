-- Privileges and tenancy: nothing is open to PUBLIC; an application role
-- set up with grant_app() and grant_account() imports and reads for the
-- accounts granted to it, through functions and views, and can neither
-- reach another account nor write a table.  Accounts 900-999.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
\set ok 'convert_to(''A1,Ann,Lee,1980,f,,,,Shared Group'', ''UTF8'')'

-- Two accounts with the same internal_id and group name stay apart.
SELECT count(*) FROM ptimport.pt_import_clients(:ok, 901);
SELECT count(*) FROM ptimport.pt_import_clients(:ok, 902);
SELECT account_id, internal_id, g.name FROM ptimport.client c
JOIN ptimport.client_group g USING (account_id, group_id)
WHERE account_id IN (901, 902) ORDER BY account_id;

CREATE ROLE regress_ptimport_public;
CREATE ROLE regress_ptimport_app;
CREATE ROLE regress_ptimport_shared;
SELECT ptimport.grant_app('regress_ptimport_app');
SELECT ptimport.grant_account('regress_ptimport_app', 901);
-- A shared application role, explicitly allowed every account.
SELECT ptimport.grant_app('regress_ptimport_shared');
SELECT ptimport.grant_account('regress_ptimport_shared', NULL);
SELECT role_name, account_id FROM ptimport.account_access
WHERE role_name LIKE 'regress_ptimport_%' ORDER BY 1, 2;

-- grant_app gives functions and views, and not one table privilege.
SELECT bool_or(has_table_privilege('regress_ptimport_app', c.oid,
                                   'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER'))
           AS any_privilege
FROM pg_class c
WHERE c.relnamespace = 'ptimport'::regnamespace AND c.relkind IN ('r', 'p', 'S');
SELECT c.relname,
       has_table_privilege('regress_ptimport_app', c.oid, 'SELECT') AS sel,
       has_table_privilege('regress_ptimport_app', c.oid, 'INSERT,UPDATE,DELETE,TRUNCATE') AS write
FROM pg_class c
WHERE c.relnamespace = 'ptimport'::regnamespace AND c.relkind = 'v'
ORDER BY c.relname;

-- No function of ptimport that runs with its owner's rights may be called
-- by every role: each is granted by grant_app or grant_worker, or called
-- only by the extension itself.
SELECT p.oid::regprocedure AS open_to_public
FROM pg_proc p
WHERE p.pronamespace = 'ptimport'::regnamespace AND p.prosecdef
  AND EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
              WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE');

-- PUBLIC can neither call the functions nor read anything (even with
-- USAGE on the schema).  -- ERROR (each)
GRANT USAGE ON SCHEMA ptimport TO regress_ptimport_public;
SET ROLE regress_ptimport_public;
SELECT * FROM ptimport.pt_import_clients(:ok, 901);
SELECT ptimport.submit(:ok, 901);
SELECT count(*) FROM ptimport.client;
SELECT count(*) FROM ptimport.account_clients;
RESET ROLE;

-- The application role acts for account 901: it imports, and its views
-- show account 901 only.  The run is logged as run by the role, although
-- the function runs with its owner's rights.
SET ROLE regress_ptimport_app;
SET ptimport.account_id = 901;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('A2,Bob,Lee,1980,m,,,,shared group', 'UTF8'));
SELECT account_id, internal_id, client_group FROM ptimport.account_clients ORDER BY internal_id;
SELECT DISTINCT account_id FROM ptimport.account_groups;
SELECT account_id, run_by, rows_inserted FROM ptimport.account_runs ORDER BY run_id;
SELECT ptimport.submit(:ok, source_name => 'queued.csv') > 0 AS queued;
SELECT account_id, source_name, state, submitted_by FROM ptimport.inbox_status;

-- Choosing another account, by any route, is refused: SET, set_config()
-- inside a query (as an injected statement would), or passing the id.
-- ERROR (each)
SELECT count(*) FROM ptimport.pt_import_clients(:ok, 902);
SET ptimport.account_id = 902;
SELECT count(*) FROM ptimport.account_clients;
SELECT count(*) FROM ptimport.pt_import_clients(:ok);
SELECT ptimport.submit(:ok);
RESET ptimport.account_id;
SELECT set_config('ptimport.account_id', '902', false);
SELECT count(*) FROM ptimport.account_clients;
SELECT count(*) FROM ptimport.pt_import_clients(:ok, 902);
-- Within one statement the new setting comes too late to show anything.
RESET ptimport.account_id;
SELECT set_config('ptimport.account_id', '902', false), count(*) FROM ptimport.account_clients;

-- The tables themselves cannot be read, written or locked: no client that
-- skipped the rules, no forged run or inbox row, no table lock that stops
-- every practice.  -- ERROR (each)
RESET ptimport.account_id;
SELECT count(*) FROM ptimport.client;
UPDATE ptimport.client SET last_name = 'Changed' WHERE account_id = 902;
INSERT INTO ptimport.client (account_id, internal_id, first_name, last_name, birth_year, gender)
VALUES (901, 'S1', 'Sne', 'Aky', 1980, 'm');
INSERT INTO ptimport.import_run (account_id, dry_run, started_at, finished_at, rows_total,
    rows_inserted, rows_updated, rows_unchanged, rows_failed, rows_warned, groups_created, run_by)
VALUES (901, false, now(), now(), 1, 1, 0, 0, 0, 0, 0, 'postgres');
INSERT INTO ptimport.inbox (account_id, size_bytes, content, state, processed_at)
VALUES (901, 1, 'x', 'done', now());
UPDATE ptimport.inbox SET state = 'done';
BEGIN;
LOCK TABLE ptimport.client IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE ptimport.account_clients IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE ptimport.account IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
-- Nor can it grant itself more accounts.
SELECT ptimport.grant_account('regress_ptimport_app', 902);
INSERT INTO ptimport.account_access VALUES ('regress_ptimport_app', 902);

-- Without the setting the views show nothing, and an import names no
-- account.
SELECT count(*) FROM ptimport.account_clients;
\set VERBOSITY default
SELECT count(*) FROM ptimport.pt_import_clients(:ok);
\set VERBOSITY terse
RESET ROLE;

-- The shared role may act for any account it names, one at a time.
SET ROLE regress_ptimport_shared;
SET ptimport.account_id = 902;
SELECT account_id, internal_id FROM ptimport.account_clients ORDER BY internal_id;
SET ptimport.account_id = 901;
SELECT account_id, internal_id FROM ptimport.account_clients ORDER BY internal_id;
RESET ptimport.account_id;
RESET ROLE;

-- A function in the caller's WHERE clause sees only the account's rows
-- (security_barrier): it cannot be used to peek at account 902.
CREATE FUNCTION pg_temp.peek(text, bigint) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
$$ BEGIN RAISE NOTICE 'saw % of account %', $1, $2; RETURN true; END $$;
SET ROLE regress_ptimport_app;
SET ptimport.account_id = 901;
SELECT count(*) FROM ptimport.account_clients WHERE pg_temp.peek(internal_id, account_id);
RESET ptimport.account_id;
RESET ROLE;

-- Revoking the account takes it away at once.
SELECT ptimport.revoke_account('regress_ptimport_app', 901);
SET ROLE regress_ptimport_app;
SET ptimport.account_id = 901;
SELECT count(*) FROM ptimport.account_clients;
RESET ptimport.account_id;
RESET ROLE;

-- A reporting role that a DBA gave SELECT on a table directly is still
-- held to its account by row-level security.
CREATE ROLE regress_ptimport_report;
GRANT USAGE ON SCHEMA ptimport TO regress_ptimport_report;
GRANT SELECT ON ptimport.client TO regress_ptimport_report;
SELECT ptimport.grant_account('regress_ptimport_report', 902);
SET ROLE regress_ptimport_report;
SET ptimport.account_id = 902;
SELECT DISTINCT account_id FROM ptimport.client;
SET ptimport.account_id = 901;
SELECT DISTINCT account_id FROM ptimport.client;
RESET ptimport.account_id;
RESET ROLE;

-- Nothing of account 902 changed.
SELECT account_id, internal_id, last_name FROM ptimport.client
WHERE account_id IN (901, 902) ORDER BY account_id, internal_id;
SELECT account_id, name FROM ptimport.client_group WHERE account_id IN (901, 902) ORDER BY 1, 2;

-- A role whose name must be quoted in SQL is granted by its name.
CREATE ROLE "Regress-Ptimport-App";
SELECT ptimport.grant_app('"Regress-Ptimport-App"');
SELECT ptimport.grant_account('"Regress-Ptimport-App"', 903);
SELECT role_name, account_id FROM ptimport.account_access WHERE account_id = 903;
SET ROLE "Regress-Ptimport-App";
SELECT count(*) FROM ptimport.pt_import_clients(:ok, 903);
RESET ROLE;
SELECT ptimport.revoke_account('"Regress-Ptimport-App"', 903);
SELECT count(*) AS grants_left FROM ptimport.account_access WHERE account_id = 903;
DROP OWNED BY "Regress-Ptimport-App";
DROP ROLE "Regress-Ptimport-App";

SELECT ptimport.revoke_account(r, a) FROM (VALUES
    ('regress_ptimport_shared'::regrole, NULL::bigint),
    ('regress_ptimport_report', 902)) AS v(r, a);
DELETE FROM ptimport.inbox WHERE account_id = 901;
DROP OWNED BY regress_ptimport_app, regress_ptimport_public, regress_ptimport_shared,
    regress_ptimport_report;
DROP ROLE regress_ptimport_app, regress_ptimport_public, regress_ptimport_shared,
    regress_ptimport_report;
