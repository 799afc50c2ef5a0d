-- Row rules about values: year of birth, gender, email, mobile, length
-- limits, control characters and national ids.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
SELECT extract(year FROM current_date)::int AS this_year \gset

-- invalid_year: digits only, from this year - 100 to this year inclusive.
-- (Year ranges in messages are masked: they move with the current year.)
SELECT line_no, internal_id, severity, field, code,
       regexp_replace(message, '\d{4} to \d{4}', 'Y-100 to Y') AS message
FROM ptimport.pt_import_clients(convert_to(format(
'Y1,Ann,Oldest,%s,f
Y2,Ann,Too-old,%s,f
Y3,Ann,Newest,%s,f
Y4,Ann,Unborn,%s,f
Y5,Ann,Text,19x7,f
Y6,Ann,Decimal,1977.0,f
Y7,Ann,Signed,+1977,f
Y8,Ann,Spaced, 1977 ,f
Y9,Ann,Huge,99999999999999999999,f',
    :this_year - 100, :this_year - 101, :this_year, :this_year + 1), 'UTF8'), 300);
SELECT internal_id, birth_year = :this_year - 100 AS oldest, birth_year = :this_year AS newest
FROM ptimport.client WHERE account_id = 300 ORDER BY 1;

-- invalid_gender: m or f in any case, stored lower case; male, female and
-- the other words of real_files_values are accepted too.
SELECT line_no, severity, field, code, message
FROM ptimport.pt_import_clients(convert_to(
'G1,Ann,Lee,1980,F
G2,Bob,Lee,1980,M
G3,Cas,Lee,1980,male
G4,Dee,Lee,1980,x
G5,Eve,Lee,1980,mf', 'UTF8'), 301);
SELECT internal_id, gender FROM ptimport.client WHERE account_id = 301 ORDER BY 1;

-- invalid_email: a warning; the row is imported without the email.
SELECT line_no, internal_id, severity, field, code
FROM ptimport.pt_import_clients(convert_to(format(
'M01,Ann,Lee,1980,f,anne.o''neil+pt@mail.example.co.uk
M02,Ann,Lee,1980,f,a@b
M03,Ann,Lee,1980,f,a@@b.com
M04,Ann,Lee,1980,f,a b@c.com
M05,Ann,Lee,1980,f,@b.com
M06,Ann,Lee,1980,f,a@-b.com
M07,Ann,Lee,1980,f,a@b-.com
M08,Ann,Lee,1980,f,a@b..com
M09,Ann,Lee,1980,f,a@b.com.
M10,Ann,Lee,1980,f,%s@example.com
M11,Ann,Lee,1980,f,%s@example.com
M12,Ann,Lee,1980,f,%s
M13,Ann,Lee,1980,f,%s
M14,Ann,Lee,1980,f,jörg@example.com',
    repeat('l', 64), repeat('l', 65),
    'a@' || repeat('d', 63) || '.' || repeat('d', 63) || '.' || repeat('d', 63) || '.' || repeat('d', 57) || '.nl',
    'a@' || repeat('d', 63) || '.' || repeat('d', 63) || '.' || repeat('d', 63) || '.' || repeat('d', 58) || '.nl'),
    'UTF8'), 302);
SELECT internal_id, length(email) AS email_length FROM ptimport.client
WHERE account_id = 302 ORDER BY 1;

-- invalid_mobile: 00 then 7 to 15 digits; a number written with + or 00 and
-- spaces, dashes or parentheses is stored as 00 and digits.
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(convert_to(
'P1,Ann,Lee,1980,f,,0031611223344
P2,Ann,Lee,1980,f,,001234567
P3,Ann,Lee,1980,f,,00123456
P4,Ann,Lee,1980,f,,00123456789012345
P5,Ann,Lee,1980,f,,001234567890123456
P6,Ann,Lee,1980,f,,+31 6 11223344
P7,Ann,Lee,1980,f,,(0031) 6-1122-3344
P8,Ann,Lee,1980,f,,0611223344
P9,Ann,Lee,1980,f,,call me', 'UTF8'), 303);
SELECT internal_id, mobile FROM ptimport.client WHERE account_id = 303 ORDER BY 1;

-- field_too_long: limits in characters (not bytes); an error for a required
-- field, a warning (value not stored) for an optional one.
SELECT line_no, severity, field, code, message
FROM ptimport.pt_import_clients(convert_to(format(
'%s,Ann,Lee,1980,f
L2,%s,Lee,1980,f
L3,Ann,%s,1980,f
L4,Ann,Lee,1980,f,,,%s,%s
%s,%s,%s,1980,f,,,%s,%s',
    repeat('i', 65), repeat('n', 101), repeat('é', 101), repeat('d', 65), repeat('g', 101),
    repeat('i', 64), repeat('n', 100), repeat('é', 100), repeat('d', 64), repeat('g', 100)),
    'UTF8'), 304);
SELECT length(internal_id) AS id, length(first_name) AS first, length(last_name) AS last,
       length(diagnosis_code) AS diagnosis, length(g.name) AS client_group
FROM ptimport.client c LEFT JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 304 ORDER BY 1;

-- invalid_characters: control characters inside quotes (tab, line break,
-- C1 controls) are refused; an error for required fields, a warning otherwise.
SELECT line_no, severity, field, code
FROM ptimport.pt_import_clients(convert_to(
E'K1,"An\tn",Lee,1980,f\nK2,Ann,"Lee\nSmith",1980,f\nK3,Ann,Lee,1980,f,,,"D\x01",\nK4,Ann,"Lee\u0085",1980,f\nK5,Ann,Lee,1980,f',
    'UTF8'), 305);
SELECT internal_id, diagnosis_code FROM ptimport.client WHERE account_id = 305 ORDER BY 1;

-- national_id: a 10-digit number with a valid NHS check digit, or a US SSN,
-- is imported with a warning; other numbers are fine.
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(convert_to(
'9434765919,Ann,Lee,1980,f
9434765918,Ann,Lee,1980,f
123-45-6789,Ann,Lee,1980,f
123456789,Ann,Lee,1980,f
1234567890,Ann,Lee,1980,f', 'UTF8'), 306);
SELECT count(*) AS imported FROM ptimport.client WHERE account_id = 306;

-- Formula-like values are stored as plain text, exactly as written.
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'F1,=cmd|'' /C calc''!A0,@SUM(1+1),1980,f,,,+1+1,-2+3', 'UTF8'), 307);
SELECT first_name, last_name, diagnosis_code, g.name AS client_group
FROM ptimport.client c JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 307;
