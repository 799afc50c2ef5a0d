-- Real files, delimiters: semicolons from European Excel, LibreOffice's
-- quoting, tabs and pipes, detected from the first rows or given.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/clients.sql

-- Excel in German: semicolons, Windows-1252; the decimal comma of M54,5
-- does not make it comma-separated; German gender words; a spreadsheet's
-- scientific notation with a decimal comma as internal_id fails the row.
\set f `base64 -w0 test/data/real/excel-de-semicolon-1252.csv`
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2201);
SELECT * FROM pg_temp.clients(2201);

-- LibreOffice with every text cell quoted (numbers not), quotes doubled.
\set f `base64 -w0 test/data/real/libreoffice-all-quoted.csv`
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2202);
SELECT * FROM pg_temp.clients(2202);

-- Detection looks at the first 20 rows: semicolons inside quoted values and
-- a few short rows do not fool it; a file whose rows no delimiter splits
-- into 5 to 9 fields is read with commas.
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
E'S1,"Ann; Annie",Lee,1980,f\nS2,Bob,"Ray; Jr",1981,m\nS3;Cas;Day;1982;m', 'UTF8'), 2203);
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
E'S4;Ann;Lee;1980;f\nS5;Bob;Ray\nS6;Cas;Day;1982;m;;;;Knee, left', 'UTF8'), 2203);
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
E'S7\tAnn\tLee\t1980\tf\t\t\t\t\nS8\tBob\tRay\t1981\tm', 'UTF8'), 2203);
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(E'S9;Ann;Lee', 'UTF8'), 2203);
SELECT internal_id, first_name, last_name, client_group FROM pg_temp.clients(2203);

-- The delimiter argument overrides detection: ',' ';' '|' and a tab
-- (E'\t', 'tab' or '\t').
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
E'P1|Ann|Lee|1980|f|||D1|Knee, left', 'UTF8'), 2204, delimiter => '|');
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
E'P2\tBob\tRay\t1981\tm', 'UTF8'), 2204, delimiter => 'tab');
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
E'P3\tCas\tDay\t1982\tm', 'UTF8'), 2204, delimiter => '\t');
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
E'P4;Dee;Fox;1983;f', 'UTF8'), 2204, delimiter => ',');
SELECT internal_id, first_name, last_name, diagnosis_code, client_group FROM pg_temp.clients(2204);

-- A delimiter that is not one of them is an argument error.
\set VERBOSITY default
SELECT * FROM ptimport.pt_import_clients(convert_to('a:b', 'UTF8'), 2205, delimiter => ':');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(convert_to('a:b', 'UTF8'), 2205, delimiter => ',,');
\echo :LAST_ERROR_SQLSTATE
