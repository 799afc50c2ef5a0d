-- Client groups: matched case-insensitively within an account, created
-- when missing with the spelling of the first row that names them.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse

-- One group per name whatever the case; the first spelling is kept.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'G1,Ann,Lee,1980,f,,,,knee REHAB
G2,Bob,Lee,1980,m,,,,Knee Rehab
G3,Cas,Lee,1980,m,,,,KNEE REHAB
G4,Dee,Lee,1980,f,,,,Back', 'UTF8'), 600);
SELECT g.name, count(*) FROM ptimport.client c JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 600 GROUP BY g.name ORDER BY g.name;

-- A later file reuses the existing group in any case, and adds new ones.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'G5,Eve,Lee,1980,f,,,,BACK
G6,Fay,Lee,1980,f,,,,Neck', 'UTF8'), 600);
SELECT name FROM ptimport.client_group WHERE account_id = 600 ORDER BY name;

-- Unicode case: Ä and ä match; İ lower-cases to i with a dot above, so
-- İstanbul matches i̇stanbul but not istanbul; ẞ lower-cases to ß, but ß is
-- not folded to ss.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
E'U1,Ann,Lee,1980,f,,,,ÄRZTE\nU2,Ann,Lee,1980,f,,,,ärzte\nU3,Ann,Lee,1980,f,,,,İstanbul\nU4,Ann,Lee,1980,f,,,,i\u0307stanbul\nU5,Ann,Lee,1980,f,,,,istanbul\nU6,Ann,Lee,1980,f,,,,Straße\nU7,Ann,Lee,1980,f,,,,STRASSE\nU8,Ann,Lee,1980,f,,,,STRAẞE',
    'UTF8'), 601);
SELECT g.name, string_agg(c.internal_id, ' ' ORDER BY c.internal_id) AS clients
FROM ptimport.client c JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 601 GROUP BY g.name ORDER BY min(c.internal_id);

-- The same group name in another account is another group.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'G1,Ann,Other,1980,f,,,,Knee rehab', 'UTF8'), 602);
SELECT account_id, name FROM ptimport.client_group
WHERE account_id IN (600, 602) AND lower(name) = 'knee rehab' ORDER BY account_id;

-- A client can only point to a group of its own account.
INSERT INTO ptimport.client (account_id, internal_id, first_name, last_name, birth_year, gender, group_id)
SELECT 602, 'X1', 'Xav', 'Lee', 1980, 'm', group_id FROM ptimport.client_group
WHERE account_id = 600 LIMIT 1;
