-- Privileges: nothing is open to PUBLIC; a role granted as the README says
-- can import for the account it acts for, and only that account.
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
-- The grants the README documents for an import role:
GRANT USAGE ON SCHEMA ptimport TO regress_ptimport_app;
GRANT EXECUTE ON FUNCTION ptimport.pt_import_clients(bytea, bigint, boolean, text, text)
    TO regress_ptimport_app;
GRANT SELECT, INSERT, UPDATE ON ptimport.client, ptimport.client_group TO regress_ptimport_app;
GRANT SELECT, INSERT ON ptimport.import_run, ptimport.import_issue TO regress_ptimport_app;

-- PUBLIC can neither call the function nor read the tables (even with
-- USAGE on the schema).
GRANT USAGE ON SCHEMA ptimport TO regress_ptimport_public;
SET ROLE regress_ptimport_public;
SELECT * FROM ptimport.pt_import_clients(:ok, 901);
SELECT count(*) FROM ptimport.client;
RESET ROLE;

-- The application role acts for account 901 ...
SET ROLE regress_ptimport_app;
SET ptimport.account_id = 901;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('A2,Bob,Lee,1980,m,,,,shared group', 'UTF8'));
SELECT DISTINCT account_id FROM ptimport.client;
SELECT DISTINCT account_id FROM ptimport.client_group;
SELECT DISTINCT account_id FROM ptimport.import_run;

-- ... and cannot import into, read or change account 902.
SELECT count(*) FROM ptimport.pt_import_clients(:ok, 902);
UPDATE ptimport.client SET last_name = 'Changed' WHERE account_id = 902;
INSERT INTO ptimport.client_group (account_id, name) VALUES (902, 'Sneaky');
INSERT INTO ptimport.client (account_id, internal_id, first_name, last_name, birth_year, gender)
VALUES (902, 'S1', 'Sne', 'Aky', 1980, 'm');

-- Without the setting it sees nothing and can import nowhere.
\set VERBOSITY default
RESET ptimport.account_id;
SELECT count(*) FROM ptimport.client;
SELECT count(*) FROM ptimport.pt_import_clients(:ok, 902);
RESET ROLE;

SELECT account_id, internal_id, last_name FROM ptimport.client
WHERE account_id IN (901, 902) ORDER BY account_id, internal_id;
SELECT account_id, name FROM ptimport.client_group WHERE account_id IN (901, 902) ORDER BY 1, 2;

DROP OWNED BY regress_ptimport_app, regress_ptimport_public;
DROP ROLE regress_ptimport_app;
DROP ROLE regress_ptimport_public;
