-- Large and degenerate input: a 100 MB value, a 10 MB file of commas, and a
-- header-only file.  Each gets a clear report, not a crash or a silent drop.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse
SET ptimport.max_bytes = '200MB';

-- A 100 MB first name: field_too_long, with the raw line cut in the report.
SELECT line_no, internal_id, severity, field, code, message, length(raw_line)
FROM ptimport.pt_import_clients(
    convert_to('BIG1,' || repeat('x', 100 * 1024 * 1024) || E',Lee,1980,f\nBIG2,Ann,Lee,1980,f', 'UTF8'), 1100);

-- The same value quoted, spanning two lines: the next row keeps its line number.
SELECT line_no, internal_id, field, code
FROM ptimport.pt_import_clients(
    convert_to('BIG3,Ann,"' || repeat('y', 50 * 1024 * 1024) || E'\n' || repeat('y', 50 * 1024 * 1024)
               || E'",1980,f\nBIG4,Ann,Lee,1980,x', 'UTF8'), 1100);
SELECT internal_id FROM ptimport.client WHERE account_id = 1100 ORDER BY 1;

-- 10 MB of commas on one line: one row with too many fields.
SELECT line_no, internal_id, severity, code, left(message, 40), length(raw_line)
FROM ptimport.pt_import_clients(convert_to('C1,Ann,Lee,1980,f' || repeat(',', 10 * 1024 * 1024) || 'x', 'UTF8'), 1101);

-- 10 MB of commas and line ends: rows of empty fields only, so no rows.
SELECT * FROM ptimport.pt_import_clients(convert_to(repeat(E',,,,,,,,\n', 1165084), 'UTF8'), 1101);
RESET ptimport.max_bytes;

-- A file holding only a header row: one header_row error, nothing imported.
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
'Internal_id,First name,Last name,Year of birth,Gender', 'UTF8'), 1102);
SELECT rows_total, rows_inserted, rows_failed FROM ptimport.import_run WHERE account_id = 1102;
