-- Real files, header rows: a first row naming at least three fields maps the
-- columns by name, in any order (PT Direct's names, synonyms, Dutch and
-- German); other columns are ignored with one warning; a header without a
-- required column refuses the file.  The columns argument maps columns
-- explicitly.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/clients.sql

-- Excel in Dutch with Dutch column names: dates of birth d-m-yyyy give the
-- year (31-2-1975 is no date), Geslacht M/V, local mobile numbers warned.
\set f `base64 -w0 test/data/real/excel-nl-semicolon-header.csv`
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2301);
SELECT * FROM pg_temp.clients(2301);
SELECT rows_total, rows_inserted, rows_failed, rows_warned FROM ptimport.import_run
WHERE account_id = 2301;

-- Google Sheets: PT Direct's names in another order, an internationalised
-- email domain, a "(0)" trunk prefix in an international mobile number.
\set f `base64 -w0 test/data/real/google-sheets.csv`
SELECT line_no, internal_id, severity, field, code
FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2302);
SELECT * FROM pg_temp.clients(2302);

-- Cliniko-like export: 38 columns, "ID", dates of birth, Male/Female; the
-- columns ptimport does not store are named once, on the header's line.
\set f `base64 -w0 test/data/real/cliniko-patients.csv`
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2303);
SELECT * FROM pg_temp.clients(2303);

-- Nookal export with a Patient ID column: imported; gender O is refused.
\set f `base64 -w0 test/data/real/nookal-export-with-id.csv`
SELECT line_no, internal_id, severity, field, code
FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2304);
SELECT * FROM pg_temp.clients(2304);

-- Numbers with decomposed (NFD) text: stored as NFC, one group.
\set f `base64 -w0 test/data/real/numbers-export-nfd.csv`
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2305);
SELECT internal_id, first_name, length(first_name) AS chars, client_group, length(client_group) AS group_chars
FROM pg_temp.clients(2305);
SELECT count(*) AS groups FROM ptimport.client_group WHERE account_id = 2305;

-- A header's Error column (the failed-rows file's) is ignored silently, and
-- so are empty header cells.
SELECT line_no, code, message FROM ptimport.pt_import_clients(convert_to(
'Internal ID,First name,Last name,Year of birth,Gender,,Error
H1,Ann,Lee,1980,f,,"Gender ""x"" is not one of m or f"', 'UTF8'), 2306);

-- When two columns name one field, PT Direct's own name wins over a
-- synonym, and a year column over a date column; the loser is listed.
SELECT line_no, code, message FROM ptimport.pt_import_clients(convert_to(
'ID,Patient ID,Given name,Surname,DOB,Year of birth,Sex,Gender
X1,H2,Ann,Lee,1980-05-01,1981,m,f', 'UTF8'), 2306);
SELECT internal_id, birth_year, gender FROM pg_temp.clients(2306) ORDER BY 1;

-- A data row with more values than the header has columns.
SELECT line_no, internal_id, code, message FROM ptimport.pt_import_clients(convert_to(
'Vorname,Nachname,Geburtsdatum,Geschlecht,Patientennummer
Uwe,Zahn,12.04.1970,männlich,H3,extra', 'UTF8'), 2307);

-- A header-like first row that names fewer than three fields is reported as
-- before (header_row), and the rows after it are imported.
SELECT line_no, code, message FROM ptimport.pt_import_clients(convert_to(
'Code,Name,Family,Born,Sex
H4,Ann,Lee,1980,f', 'UTF8'), 2308);

-- Refused whole:
\set VERBOSITY default
-- Nookal's export as listed has no id column.
\set f `base64 -w0 test/data/real/nookal-export.csv`
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2309);
\echo :LAST_ERROR_SQLSTATE
-- Two columns name the internal_id equally well.
SELECT * FROM ptimport.pt_import_clients(convert_to(
'Client ID,Patient ID,First name,Last name,Year of birth,Gender
A,B,Ann,Lee,1980,f', 'UTF8'), 2309);
\echo :LAST_ERROR_SQLSTATE
-- A header row and nothing else.
SELECT * FROM ptimport.pt_import_clients(convert_to(
'Internal ID;First name;Last name;Year of birth;Gender', 'UTF8'), 2309);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- The columns argument: field names (or NULL to ignore) per file column,
-- for a file without header, or with one, which is then skipped.
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
'Lee,Ann,C1,f,1980,ignored,Back pain', 'UTF8'), 2310,
    columns => ARRAY['last_name', 'first_name', 'internal_id', 'gender', 'birth_year', NULL, 'client_group']);
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
'Surname,Given,Key,Sex,Born
Ray,Bob,C2,m,1981', 'UTF8'), 2310,
    columns => ARRAY['last_name', 'first_name', 'internal_id', 'gender', 'birth_year']);
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
'Ray,Cas,C3,m,1982,extra', 'UTF8'), 2310,
    columns => ARRAY['last_name', 'first_name', 'internal_id', 'gender', 'birth_year']);
SELECT internal_id, first_name, last_name, birth_year, gender, client_group FROM pg_temp.clients(2310);

-- Argument errors in columns.
\set VERBOSITY default
SELECT * FROM ptimport.pt_import_clients(convert_to('x', 'UTF8'), 2311,
    columns => ARRAY['internal_id', 'first_name', 'last_name', 'year_of_birth', 'gender']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(convert_to('x', 'UTF8'), 2311,
    columns => ARRAY['internal_id', 'first_name', 'last_name', 'birth_year', 'gender', 'first_name']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(convert_to('x', 'UTF8'), 2311,
    columns => ARRAY['internal_id', 'first_name', 'last_name', NULL]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(convert_to('x', 'UTF8'), 2311,
    columns => ARRAY[['internal_id', 'first_name'], ['last_name', 'gender']]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(convert_to('x', 'UTF8'), 2311,
    columns => ARRAY['internal_id', 'first_name', 'last_name', 'birth_year', 'gender']
               || array_fill(NULL::text, ARRAY[252]));
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ptimport.import_run WHERE account_id IN (2309, 2311);
