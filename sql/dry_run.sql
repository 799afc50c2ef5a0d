-- dry_run => true: the same report and counts as the real import, and
-- nothing written to clients or groups; the run log says it was a dry run.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse

SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'D1,Ann,Lee,1980,f,ann@example.com,,,Old Group
D2,Bob,Lee,1980,m,,,,
D3,Cas,Lee,1980,m,,,,', 'UTF8'), 800);

-- Changes of every kind: insert, update (a required value, an optional
-- value, a new group), unchanged, a failed row and a warning.
\set changes 'convert_to(''D1,Ann,Lee,1980,f,,,,old group\nD2,Bob,Lee,1981,m,,,,\nD3,Cas,Lee,1980,m,,,,New Group\nD4,Dee,Lee,1980,f,bad-email,,,\nD5,Eve,Lee,1980,x,,,,\nD6,Fay,Lee,1980,f,,,,NEW GROUP'', ''UTF8'')'

CREATE TABLE dry AS
SELECT * FROM ptimport.pt_import_clients(:changes, 800, dry_run => true);
SELECT count(*) AS clients, max(updated_at) = min(created_at) AS untouched
FROM ptimport.client WHERE account_id = 800;
SELECT count(*) AS groups FROM ptimport.client_group WHERE account_id = 800;

CREATE TABLE real AS
SELECT * FROM ptimport.pt_import_clients(:changes, 800);
SELECT count(*) AS clients FROM ptimport.client WHERE account_id = 800;
SELECT count(*) AS groups FROM ptimport.client_group WHERE account_id = 800;

-- The dry run returned exactly what the real run returned.
SELECT * FROM dry EXCEPT ALL SELECT * FROM real;
SELECT * FROM real EXCEPT ALL SELECT * FROM dry;
SELECT line_no, field, code FROM real ORDER BY line_no;

-- And counted exactly what the real run did.
SELECT dry_run, rows_total, rows_inserted, rows_updated, rows_unchanged,
       rows_failed, rows_warned, groups_created
FROM ptimport.import_run WHERE account_id = 800 ORDER BY run_id;

DROP TABLE dry, real;
