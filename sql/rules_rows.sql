-- Row rules about the shape of a row: required fields, field count, header
-- rows and duplicate internal_ids.  Each problem is one record.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse

-- missing_field: each required field empty or absent, one record per field;
-- a row of exactly the five required fields is complete.
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(convert_to(
',Ann,Lee,1980,f
A2,,Lee,1980,f
A3,Ann,,1980,f
A4,Ann,Lee,,f
A5,Ann,Lee,1980,
A6,Ann,Lee
A7
A8,Ann,Lee,1980,f', 'UTF8'), 200);
SELECT internal_id FROM ptimport.client WHERE account_id = 200;

-- too_many_fields: 9 fields are fine, a tenth value is not (empty fields
-- after the ninth, as a trailing comma makes, are ignored); a quoted comma is
-- not a separator.
SELECT line_no, internal_id, severity, field, code
FROM ptimport.pt_import_clients(convert_to(
'B1,Ann,Lee,1980,f,ann@example.com,0031611223344,D1,Group
B2,Ann,Lee,1980,f,ann@example.com,0031611223344,D1,Group,
B3,Ann,Lee,1980,f,ann@example.com,0031611223344,D1,Group,extra
B4,Ann,Lee,1980,f,ann@example.com,0031611223344,D1,"Group, with comma"', 'UTF8'), 201);
SELECT internal_id FROM ptimport.client WHERE account_id = 201 ORDER BY 1;

-- A first row with PT Direct's column names is a header: it maps the
-- columns and is not imported; the rows below it are.  (Headers with other
-- names and header_row: real_files_headers.)
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(convert_to(
'Internal_id,First name,Last name,Year of birth,Gender,Email,Mobile number,Diagnosis code,Client group
C1,Ann,Lee,1980,f,,,,', 'UTF8'), 202);
SELECT internal_id FROM ptimport.client WHERE account_id = 202;

-- The same text further down is not a header but a row with errors.
SELECT line_no, severity, field, code
FROM ptimport.pt_import_clients(convert_to(
'C2,Ann,Lee,1980,f
Internal_id,First name,Last name,Year of birth,Gender', 'UTF8'), 202);

-- duplicate_internal_id: the later row fails and names the first line, even
-- when the first row itself failed; internal_ids are case-sensitive.
SELECT line_no, internal_id, severity, field, code, message
FROM ptimport.pt_import_clients(convert_to(
'D1,Ann,Lee,1980,f
D2,Bob,Ray,1980,x
D1,Ann,Leigh,1980,f
D2,Bob,Ray,1980,m
d1,Dan,Low,1980,m', 'UTF8'), 203);
SELECT internal_id, last_name FROM ptimport.client WHERE account_id = 203 ORDER BY 1;

-- Every problem of a row is reported, in field order.
SELECT line_no, severity, field, code
FROM ptimport.pt_import_clients(convert_to(
'E1,Ann,Lee,1980,f
E2,,,abc,q,bad-email,+1,D,G,extra', 'UTF8'), 204);
