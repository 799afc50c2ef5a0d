-- pt_import_clients: the seed's sample row, a realistic file, re-imports,
-- the upsert rules and the run log.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse

-- The seed's sample row (no email) is imported as is, with its group.
\set seed `base64 -w0 test/data/seed_sample_row.csv`
SELECT * FROM ptimport.pt_import_clients(decode(:'seed', 'base64'), 100);
SELECT internal_id, first_name, last_name, birth_year, gender, email, mobile,
       diagnosis_code, g.name AS client_group
FROM ptimport.client c JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 100;

-- A realistic file: every problem is reported once, by line.  (Year ranges
-- in messages are masked: they move with the current year.)
\set sample `base64 -w0 test/data/sample_clients.csv`
SELECT line_no, internal_id, severity, field, code,
       regexp_replace(message, '\d{4} to \d{4}', 'Y-100 to Y') AS message
FROM ptimport.pt_import_clients(decode(:'sample', 'base64'), 101,
                                source_name => 'sample_clients.csv');

-- What was stored: invalid optional values are NULL, gender lower case,
-- groups matched case-insensitively with the first spelling kept.
SELECT internal_id, first_name, last_name, birth_year, gender, email, mobile,
       diagnosis_code, g.name AS client_group
FROM ptimport.client c LEFT JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 101 ORDER BY internal_id;
SELECT name FROM ptimport.client_group WHERE account_id = 101 ORDER BY name;

-- The run log holds the counts and the same records the call returned.
SELECT source_name, dry_run, rows_total, rows_inserted, rows_updated, rows_unchanged,
       rows_failed, rows_warned, groups_created, finished_at >= started_at AS timed
FROM ptimport.import_run WHERE account_id = 101;
SELECT line_no, severity, field, code, raw_line
FROM ptimport.import_issue WHERE account_id = 101 ORDER BY line_no, field NULLS FIRST;

-- The same file again: nothing changes, nothing is written.
SELECT count(*) AS problems FROM ptimport.pt_import_clients(decode(:'sample', 'base64'), 101);
SELECT count(*) AS touched FROM ptimport.client
WHERE account_id = 101 AND updated_at <> created_at;
-- Not even a row lock was taken on the unchanged rows (it would set xmax).
SELECT count(*) AS locked FROM ptimport.client WHERE account_id = 101 AND xmax <> '0';

-- Updates: required values are replaced; an optional value is replaced only
-- by a valid non-empty one, so empty or invalid values never erase.
BEGIN;
SELECT * FROM ptimport.pt_import_clients(convert_to(
'PTD-0001,Emma,de Vries-Smit,1984,f,,,,
PTD-0002,Liam,Jansen,1990,m,not-an-email,12345,KNEE-3,
PTD-0003,Sophie,Bakker,1975,f,sophie@example.com,,,KNEE REHAB
PTD-0004,Noah,Visser,2001,m,,,,', 'UTF8'), 101);
SELECT internal_id, last_name, email, mobile, diagnosis_code, g.name AS client_group
FROM ptimport.client c LEFT JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 101 AND internal_id IN ('PTD-0001', 'PTD-0002', 'PTD-0003', 'PTD-0004')
ORDER BY internal_id;
SELECT rows_inserted, rows_updated, rows_unchanged, rows_failed, rows_warned, groups_created
FROM ptimport.import_run WHERE account_id = 101 ORDER BY run_id DESC LIMIT 1;
COMMIT;

-- Everything happens in the caller's transaction: a rollback keeps nothing.
BEGIN;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('R1,Rita,Roll,1980,f,,,,New Group', 'UTF8'), 101);
ROLLBACK;
SELECT count(*) AS rolled_back_clients FROM ptimport.client WHERE account_id = 101 AND internal_id = 'R1';
SELECT count(*) AS rolled_back_groups FROM ptimport.client_group WHERE account_id = 101 AND name = 'New Group';

-- The account can come from the setting ptimport.account_id.
SET ptimport.account_id = 102;
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'seed', 'base64'));
RESET ptimport.account_id;
SELECT account_id, count(*) FROM ptimport.client WHERE account_id = 102 GROUP BY 1;
