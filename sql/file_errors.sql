-- Whole-file errors: an ERROR with a fitting SQLSTATE, and nothing written.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never
\set ok 'convert_to(''A1,Ann,Lee,1980,f'', ''UTF8'')'
-- Each error is followed by its SQLSTATE.

-- NULL data.  -- ERROR
SELECT * FROM ptimport.pt_import_clients(NULL, 700);
\echo :LAST_ERROR_SQLSTATE

-- No rows at all: empty, blank lines only, empty rows only.  -- ERROR
SELECT * FROM ptimport.pt_import_clients(''::bytea, 700);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(convert_to(E'\n \r\n\t\n', 'UTF8'), 700);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(convert_to(E',,,,,,,,\n,,,,,,,,\n', 'UTF8'), 700);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients('\xefbbbf'::bytea, 700);
\echo :LAST_ERROR_SQLSTATE

-- More rows than ptimport.max_rows (blank and empty rows do not count).
-- ERROR
SELECT * FROM ptimport.pt_import_clients(convert_to(
    (SELECT string_agg(format('R%s,Ann,Lee,1980,f', i), E'\n') FROM generate_series(1, 1001) i),
    'UTF8'), 700);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
    (SELECT string_agg(format(E'R%s,Ann,Lee,1980,f\n,,,,,,,,\n', i), E'\n') FROM generate_series(1, 1000) i),
    'UTF8'), 705);
\set VERBOSITY default
SET ptimport.max_rows = 3;
SELECT * FROM ptimport.pt_import_clients(convert_to(E'A,B,C,1980,f\nB,B,C,1980,f\nC,B,C,1980,f\nD,B,C,1980,f', 'UTF8'), 701);
\echo :LAST_ERROR_SQLSTATE
RESET ptimport.max_rows;

-- A file larger than ptimport.max_bytes is refused before it is read.
SET ptimport.max_bytes = '1kB';
SELECT * FROM ptimport.pt_import_clients(convert_to(repeat('x', 1025), 'UTF8'), 701);
\echo :LAST_ERROR_SQLSTATE
RESET ptimport.max_bytes;

-- Both limits are superuser-only settings.
CREATE ROLE regress_ptimport_user;
SET ROLE regress_ptimport_user;
SET ptimport.max_rows = 100000;
\echo :LAST_ERROR_SQLSTATE
SET ptimport.max_bytes = '1GB';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_ptimport_user;

-- Bytes invalid in the encoding given name the line, with a hint at the
-- encoding argument; a Windows-1252 file imports with encoding => 'WIN1252'
-- (and without an encoding, detected: see real_files_encodings).
SELECT * FROM ptimport.pt_import_clients(
    convert_to(E'W1,Ann,Lee,1980,f\nW2,', 'UTF8') || '\xe96c6f6469652c4c65652c313938302c66'::bytea, 701,
    encoding => 'UTF8');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT count(*) FROM ptimport.pt_import_clients(
    convert_to(E'W1,Ann,Lee,1980,f\nW2,', 'UTF8') || '\xe96c6f6469652c4c65652c313938302c66'::bytea, 701,
    encoding => 'WIN1252');
\set VERBOSITY default
SELECT internal_id, first_name FROM ptimport.client WHERE account_id = 701 ORDER BY 1;

-- Overlong UTF-8 (0xC0 0xAF for '/') is invalid too.
SELECT * FROM ptimport.pt_import_clients('\x41312c41c0af2c4c65652c313938302c66'::bytea, 702,
    encoding => 'UTF8');
\echo :LAST_ERROR_SQLSTATE

-- A NUL byte.
SELECT * FROM ptimport.pt_import_clients(
    convert_to(E'N1,Ann,Lee,1980,f\nN2,Bob', 'UTF8') || '\x00'::bytea, 702);
\echo :LAST_ERROR_SQLSTATE

-- A UTF-16 file (its byte-order mark), little- and big-endian, with
-- encoding UTF8 given (without an encoding it is converted: see
-- real_files_encodings).
SELECT * FROM ptimport.pt_import_clients('\xfffe41003100'::bytea, 702, encoding => 'UTF8');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients('\xfeff00410031'::bytea, 702, encoding => 'UTF8');
\echo :LAST_ERROR_SQLSTATE

-- A UTF-8 byte-order mark with another encoding named, and unknown names.
SELECT * FROM ptimport.pt_import_clients('\xefbbbf'::bytea || :ok, 702, encoding => 'WIN1252');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(:ok, 702, encoding => 'EBCDIC');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(:ok, 702, encoding => 'SQL_ASCII');
\echo :LAST_ERROR_SQLSTATE

-- No account: neither the argument nor ptimport.account_id.
SELECT * FROM ptimport.pt_import_clients(:ok);
\echo :LAST_ERROR_SQLSTATE

-- An argument that differs from the account the session acts for.
SET ptimport.account_id = 703;
SELECT * FROM ptimport.pt_import_clients(:ok, 704);
\echo :LAST_ERROR_SQLSTATE
RESET ptimport.account_id;

-- ptimport.account_id must be a number.
SET ptimport.account_id = 'practice-7';
\echo :LAST_ERROR_SQLSTATE

-- None of the failed calls wrote anything.
SELECT count(*) AS clients FROM ptimport.client WHERE account_id IN (700, 702, 703, 704);
SELECT account_id, rows_total FROM ptimport.import_run
WHERE account_id BETWEEN 700 AND 704 ORDER BY run_id;
