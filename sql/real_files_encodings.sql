-- Real files, encodings: what Excel (Windows, Mac, "Unicode Text"),
-- other locales and broken files give, read with the encoding detected
-- (test/data/real/, made by test/data/make-real-files.py).  The NOTICE
-- is how the file was read.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
\i sql/include/clients.sql

-- Excel on Windows, plain "CSV": Windows-1252, CRLF, detected; the line
-- break typed in a cell is refused in that cell only.
\set f `base64 -w0 test/data/real/excel-win-csv-1252.csv`
SELECT line_no, internal_id, severity, field, code FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2101);
SELECT * FROM pg_temp.clients(2101);

-- The same file with encoding => 'WIN1252' given: the same rows.
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2102, encoding => 'WIN1252');
SELECT count(*) FROM pg_temp.clients(2102);

-- ... and with encoding => 'UTF8' given: refused, naming the line, with
-- the hint the 1.0 behaviour gave.
\set VERBOSITY default
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2103, encoding => 'UTF8');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- Excel "CSV UTF-8": a UTF-8 byte-order mark.
\set f `base64 -w0 test/data/real/excel-win-csv-utf8.csv`
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2104);
SELECT * FROM pg_temp.clients(2104);

-- Excel "Unicode Text": UTF-16LE with a byte-order mark, tabs, and a header
-- row with PT Direct's names.
\set f `base64 -w0 test/data/real/excel-unicode-text-utf16le.csv`
SELECT line_no, internal_id, severity, field, code FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2105);
SELECT * FROM pg_temp.clients(2105);

-- Excel for Mac "CSV (Macintosh)": MacRoman with CR-only line ends, read as
-- MacRoman without being told; the names MACINTOSH and MACROMAN work too.
\set f `base64 -w0 test/data/real/excel-mac-csv-macroman.csv`
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2106);
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2107, encoding => 'MACINTOSH');
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2108, encoding => 'MacRoman');
SELECT * FROM pg_temp.clients(2106);
SELECT count(*) FROM ptimport.client c1 JOIN ptimport.client c2 USING (internal_id, first_name, last_name)
WHERE c1.account_id = 2106 AND c2.account_id IN (2107, 2108);

-- CR-only lines whose letters make sense in Windows-1252 are not MacRoman.
\set f `base64 -w0 test/data/real/cr-only-1252.csv`
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2215);
SELECT internal_id, first_name, last_name FROM pg_temp.clients(2215);

-- Excel in a Central European locale: Windows-1250 (both detectors agree)
-- and semicolons.
\set f `base64 -w0 test/data/real/excel-pl-semicolon-1250.csv`
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2109);
SELECT internal_id, first_name, last_name, client_group FROM pg_temp.clients(2109);

-- UTF-16BE and UTF-32LE byte-order marks are converted too.
SELECT count(*) FROM ptimport.pt_import_clients(
    '\xfeff00420031002c0041006e006e002c004c00650065002c0031003900380030002c0066'::bytea, 2110);
SELECT count(*) FROM ptimport.pt_import_clients(
    '\xfffe000043000000310000002c000000c4000000720000006e000000650000002c0000004c00000065000000650000002c000000310000003900000038000000300000002c0000006d000000'::bytea, 2111);
SELECT internal_id, first_name, last_name FROM pg_temp.clients(2110)
UNION ALL SELECT internal_id, first_name, last_name FROM pg_temp.clients(2111);

-- Refused whole, with their SQLSTATE:
\set VERBOSITY default
-- UTF-16 without its byte-order mark.
\set f `base64 -w0 test/data/real/utf16le-without-bom.csv`
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2112);
\echo :LAST_ERROR_SQLSTATE
-- ... which imports when the encoding is given.
\set VERBOSITY terse
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2112, encoding => 'UTF-16LE');
SELECT count(*) FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2113, encoding => 'utf-16');
\set VERBOSITY default

-- UTF-8 characters and bytes that are not UTF-8 in one file: never read as
-- Windows-1252 (that would store mojibake such as Ã«).
\set f `base64 -w0 test/data/real/mixed-utf8-and-1252.csv`
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2114);
\echo :LAST_ERROR_SQLSTATE

-- A byte that is no character in the encoding detected (0x81 in Windows-1252).
SELECT * FROM ptimport.pt_import_clients(
    convert_to(E'W1,Ann,Lee,1980,f\nW2,B', 'UTF8') || '\x81e9'::bytea || convert_to(',Lee,1980,f', 'UTF8'), 2114);
\echo :LAST_ERROR_SQLSTATE

-- UTF-16 that is broken: a lone surrogate (line 2), an odd last byte.
SELECT * FROM ptimport.pt_import_clients(
    '\xfffe' || '\x41003100'::bytea || '\x0a00'::bytea || '\x410000d8'::bytea, 2114);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients('\xfffe410031000a'::bytea, 2114);
\echo :LAST_ERROR_SQLSTATE

-- UTF-16 holding U+0000.
SELECT * FROM ptimport.pt_import_clients('\xfffe410031000a0041000000'::bytea, 2114);
\echo :LAST_ERROR_SQLSTATE

-- A byte-order mark that contradicts the encoding given.
SELECT * FROM ptimport.pt_import_clients(
    '\xefbbbf'::bytea || convert_to('B1,Ann,Lee,1980,f', 'UTF8'), 2114, encoding => 'UTF-16LE');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients('\xfffe41003100'::bytea, 2114, encoding => 'LATIN1');
\echo :LAST_ERROR_SQLSTATE

-- None of the refused files wrote anything.
SELECT count(*) FROM ptimport.client WHERE account_id = 2114;
SELECT count(*) FROM ptimport.import_run WHERE account_id = 2114;
