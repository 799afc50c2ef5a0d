-- Real files, values as spreadsheets write them: trailing empty columns,
-- scientific notation and dropped leading zeros, dates of birth, gender
-- words, international mobile numbers, internationalised email domains,
-- Unicode spaces, invisible characters and NFC.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
SELECT extract(year FROM current_date)::int AS this_year \gset
\i sql/include/clients.sql

-- Excel's trailing empty columns and emptied rows are ignored; a real value
-- after the ninth field is still too many fields.
\set f `base64 -w0 test/data/real/excel-trailing-columns.csv`
SELECT line_no, internal_id, severity, code, message
FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2401);
SELECT internal_id, client_group FROM pg_temp.clients(2401);

-- What Excel does to long numbers: an id in scientific notation fails its
-- row (two different ids became the same text: neither is stored, nor
-- reported as a duplicate); a mobile number without its leading zeros or in
-- scientific notation is a warning and not stored.
\set f `base64 -w0 test/data/real/excel-scientific-and-zeros.csv`
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2402);
SELECT internal_id, mobile FROM pg_temp.clients(2402);

-- Look-alikes: invisible characters are refused (an error in a required
-- field, a warning in an optional one); every Unicode space around a value
-- is trimmed, so "VIP" and " VIP " are one group.
\set f `base64 -w0 test/data/real/lookalikes-invisible.csv`
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2403);
SELECT internal_id, first_name, length(first_name) AS chars, diagnosis_code, client_group,
       length(client_group) AS group_chars
FROM pg_temp.clients(2403);
SELECT name FROM ptimport.client_group WHERE account_id = 2403;

-- Year of birth: a year, or a date in one of the shapes spreadsheets write;
-- day and month may be either way round, the date must be real in one
-- reading; two-digit years are not years.
SELECT line_no, internal_id, field, code,
       regexp_replace(message, '\d{4} to \d{4}', 'Y-100 to Y') AS message
FROM ptimport.pt_import_clients(convert_to(
'D01,Ann,Lee,1977-03-15,f
D02,Ann,Lee,15-03-1977,f
D03,Ann,Lee,15/03/1977,f
D04,Ann,Lee,03/15/1977,f
D05,Ann,Lee,15.3.1977,f
D06,Ann,Lee,15/03/1977 00:00:00,f
D07,Ann,Lee,3/15/1977 12:00:00 AM,f
D08,Ann,Lee,1977-03-15T00:00,f
D09,Ann,Lee,29.02.1980,f
D10,Ann,Lee,29.02.1981,f
D11,Ann,Lee,31/04/1977,f
D12,Ann,Lee,15/03/77,f
D13,Ann,Lee,1977/13/01,f
D14,Ann,Lee,15-03/1977,f
D15,Ann,Lee,15/03/1977 25:00,f
D16,Ann,Lee,01/01/1900,f', 'UTF8'), 2404);
SELECT internal_id, birth_year FROM pg_temp.clients(2404);

-- Gender: m/f, male/female, man/woman, and Dutch and German words, in any
-- case; anything else is refused with the list of what is accepted.
SELECT line_no, internal_id, code, message FROM ptimport.pt_import_clients(convert_to(
'G01,Ann,Lee,1980,FEMALE
G02,Bob,Lee,1980,Male
G03,Cas,Lee,1980,man
G04,Dee,Lee,1980,Woman
G05,Eve,Lee,1980,V
G06,Fay,Lee,1980,vrouw
G07,Gus,Lee,1980,MÄNNLICH
G08,Hal,Lee,1980,weiblich
G09,Ida,Lee,1980,w
G10,Jon,Lee,1980,d
G11,Kai,Lee,1980,other', 'UTF8'), 2405);
SELECT internal_id, gender FROM pg_temp.clients(2405);

-- Mobile numbers written internationally with + or 00 and separators are
-- stored as 00 and digits; a trunk prefix (0) is dropped.
SELECT line_no, internal_id, code, message FROM ptimport.pt_import_clients(convert_to(
'M01,Ann,Lee,1980,f,,+31 6 1122 3344
M02,Ann,Lee,1980,f,,+44 (0)7911 123456
M03,Ann,Lee,1980,f,,+1 (212) 555-0123
M04,Ann,Lee,1980,f,,0049.171.2345678
M05,Ann,Lee,1980,f,,+49/171/2345678
M06,Ann,Lee,1980,f,,31611223344
M07,Ann,Lee,1980,f,,1.23457E+11
M08,Ann,Lee,1980,f,,+31 6 11 22 33 44 55 66 77
M09,Ann,Lee,1980,f,,+31-6-1122-3344 ext 5', 'UTF8'), 2406);
SELECT internal_id, mobile FROM pg_temp.clients(2406);

-- Emails: internationalised domains are valid (checked with libidn2) and
-- stored as written; the part before @ stays ASCII.
SELECT line_no, internal_id, code FROM ptimport.pt_import_clients(convert_to(
'E01,Ann,Lee,1980,f,info@müller.de
E02,Ann,Lee,1980,f,INFO@MÜLLER.DE
E03,Ann,Lee,1980,f,anna@bücher.example.com
E04,Ann,Lee,1980,f,jörg@example.com
E05,Ann,Lee,1980,f,a@xn--mller-kva.de
E06,Ann,Lee,1980,f,a@exa mple.de
E07,Ann,Lee,1980,f,a@☃.de', 'UTF8'), 2407);
SELECT internal_id, email FROM pg_temp.clients(2407);

-- Scientific notation needs Excel's signed exponent: ids such as 12E4 stay ids.
SELECT line_no, internal_id, code FROM ptimport.pt_import_clients(convert_to(
'12E4,Ann,Lee,1980,f
1E+5,Bob,Lee,1980,m
-2.5e-3,Cas,Lee,1980,m', 'UTF8'), 2408);
SELECT internal_id FROM pg_temp.clients(2408);
