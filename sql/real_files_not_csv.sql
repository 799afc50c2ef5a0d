-- Real files that are not CSV at all: a workbook, a PDF or an RTF document
-- uploaded by mistake is refused whole, before any decoding, saying what it
-- is and how to save it as CSV.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- An Excel workbook (.xlsx: a zip archive).
\set f `base64 -w0 test/data/real/not-csv-workbook.xlsx`
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2501);
\echo :LAST_ERROR_SQLSTATE

-- An Excel 97-2003 workbook (.xls: an OLE2 file).
\set f `base64 -w0 test/data/real/not-csv-workbook.xls`
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2501);
\echo :LAST_ERROR_SQLSTATE

-- A PDF.
\set f `base64 -w0 test/data/real/not-csv-list.pdf`
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2501);
\echo :LAST_ERROR_SQLSTATE

-- An RTF document.
\set f `base64 -w0 test/data/real/not-csv-list.rtf`
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2501);
\echo :LAST_ERROR_SQLSTATE

-- Other zip-based documents, by the names of their entries.
SELECT * FROM ptimport.pt_import_clients(
    '\x504b0304'::bytea || convert_to('....mimetypeapplication/vnd.oasis.opendocument.spreadsheet', 'UTF8'), 2501);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(
    '\x504b0304'::bytea || convert_to('....word/document.xml', 'UTF8'), 2501);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ptimport.pt_import_clients(
    '\x504b0304'::bytea || convert_to('....Index/Document.iwa', 'UTF8'), 2501);
\echo :LAST_ERROR_SQLSTATE

-- The same is refused even when an encoding is named; nothing was written.
SELECT * FROM ptimport.pt_import_clients(decode(:'f', 'base64'), 2501, encoding => 'WIN1252');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ptimport.import_run WHERE account_id = 2501;

-- A text file that merely mentions those signatures later on is read.
\set VERBOSITY terse
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
'N1,Ann,Lee,1980,f,,,%PDF-1.4,PK', 'UTF8'), 2502);
