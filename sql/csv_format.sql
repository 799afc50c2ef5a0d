-- CSV reading: line ends, quoting, trimming, blank and empty rows, the BOM,
-- line numbers, and malformed quoting.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse

-- CRLF, CR-only and mixed line ends all end rows; line numbers count them.
SELECT line_no, code FROM ptimport.pt_import_clients(
    convert_to(E'A1,Ann,Lee,1980,f\r\nA2,Bob,Lee,1980,x\r\nA3,Cas,Lee,1980,m\r\n', 'UTF8'), 500);
SELECT line_no, code FROM ptimport.pt_import_clients(
    convert_to(E'B1,Ann,Lee,1980,f\rB2,Bob,Lee,1980,x\rB3,Cas,Lee,1980,m', 'UTF8'), 500);
SELECT line_no, code FROM ptimport.pt_import_clients(
    convert_to(E'C1,Ann,Lee,1980,f\nC2,Bob,Lee,1980,m\r\nC3,Cas,Lee,1980,m\rC4,Dee,Lee,1980,x\n', 'UTF8'), 500);
SELECT internal_id, gender, length(gender) FROM ptimport.client
WHERE account_id = 500 ORDER BY 1;

-- Quoted values keep commas, doubled quotes and line breaks (a line break is
-- then refused as a control character); the rows after them keep their
-- physical line numbers.
SELECT line_no, internal_id, field, code, raw_line FROM ptimport.pt_import_clients(convert_to(
E'Q1,"Ann","O""Brien, Jr.",1980,f\nQ2,Bob,"Two\nLines",1980,m\nQ3,Cas,Lee,1980,x\n"Q4",Dee,Lee,1980,q', 'UTF8'), 501);
SELECT internal_id, last_name FROM ptimport.client WHERE account_id = 501;

-- Spaces and tabs around every value are ignored, inside quotes too, and so
-- are no-break spaces (U+00A0).
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
E' T1 ,\t"  Ann  " , \u00a0Lee\u00a0 ,1980 , f ,  ann@example.com  , 0031611223344 ,"  D1 ", " Group "', 'UTF8'), 502);
SELECT internal_id, first_name, last_name, birth_year, gender, email, mobile, diagnosis_code, g.name
FROM ptimport.client c JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 502;

-- Blank lines, whitespace-only lines and rows of empty fields (Excel writes
-- ,,,,,,,,) are ignored and not counted; line numbers still count them.
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
E'\n   \n,,,,,,,,\nE1,Ann,Lee,1980,f\n\n"",""\n\t\nE2,Bob,Lee,1980,x\n,,,,,,,,,,,,\n\n', 'UTF8'), 503);
SELECT rows_total, rows_inserted, rows_failed FROM ptimport.import_run
WHERE account_id = 503;

-- A UTF-8 byte-order mark is ignored, also before a quoted first field.
SELECT count(*) FROM ptimport.pt_import_clients(
    '\xefbbbf'::bytea || convert_to('B1,Ann,Lee,1980,f', 'UTF8'), 504);
SELECT count(*) FROM ptimport.pt_import_clients(
    '\xefbbbf'::bytea || convert_to('"B2",Bob,Lee,1980,m', 'UTF8'), 504);
SELECT internal_id FROM ptimport.client WHERE account_id = 504 ORDER BY 1;

-- malformed_csv: a quote inside an unquoted value, or text after a closing
-- quote, fails that row only; the rows after it are read normally.
SELECT line_no, internal_id, severity, field, code, message, raw_line
FROM ptimport.pt_import_clients(convert_to(
E'M1,Ann "Annie",Lee,1980,f\nM2,"Bob"by,Lee,1980,m\nM3,"Cas\n"x,Lee,1980,m\nM4,Dee,Lee,1980,f', 'UTF8'), 505);
SELECT internal_id FROM ptimport.client WHERE account_id = 505;

-- An unclosed quote at the end of the file fails the row where it starts.
SELECT line_no, internal_id, code, message, raw_line
FROM ptimport.pt_import_clients(convert_to(
E'U1,Ann,Lee,1980,f\nU2,"Bob,Lee,1980,m', 'UTF8'), 506);

-- An unclosed quote earlier on swallows the rest of the file: one error
-- that names the lines that could not be read.
SELECT line_no, internal_id, code, message
FROM ptimport.pt_import_clients(convert_to(
E'V1,Ann,Lee,1980,f\nV2,"Bob,Lee,1980,m\nV3,Cas,Lee,1980,m\nV4,Dee,Lee,1980,f\n', 'UTF8'), 507);
SELECT internal_id FROM ptimport.client WHERE account_id IN (506, 507) ORDER BY 1;

-- A long raw line is cut to 1000 bytes in the report.
SELECT line_no, code, length(raw_line), right(raw_line, 5) FROM ptimport.pt_import_clients(
    convert_to('W1,Ann,Lee,1980,f,,,' || repeat('x', 2000), 'UTF8'), 508);
