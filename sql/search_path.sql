-- A hostile search_path: a schema earlier in the path and pg_temp hold a
-- trojan lower(), "=" operators and tables named like the extension's.  The
-- import calls none of them and writes only to ptimport's tables.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ptimport;
RESET client_min_messages;
\set VERBOSITY terse

CREATE TABLE public.trojan_calls (what text);
CREATE SCHEMA regress_evil;
CREATE FUNCTION regress_evil.lower(text) RETURNS text LANGUAGE sql AS
$$ INSERT INTO public.trojan_calls VALUES ('lower'); SELECT 'x' $$;
CREATE FUNCTION regress_evil.text_eq(text, text) RETURNS boolean LANGUAGE sql AS
$$ INSERT INTO public.trojan_calls VALUES ('text ='); SELECT true $$;
CREATE FUNCTION regress_evil.int8_eq(bigint, bigint) RETURNS boolean LANGUAGE sql AS
$$ INSERT INTO public.trojan_calls VALUES ('bigint ='); SELECT true $$;
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.text_eq);
CREATE OPERATOR regress_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = regress_evil.int8_eq);
CREATE FUNCTION regress_evil.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql AS
$$ INSERT INTO public.trojan_calls VALUES ('unnest'); SELECT NULL::anyelement WHERE false $$;
CREATE TABLE regress_evil.client (LIKE ptimport.client);
CREATE TABLE regress_evil.client_group (LIKE ptimport.client_group);
CREATE TEMP TABLE client (LIKE ptimport.client);
CREATE TEMP TABLE client_group (LIKE ptimport.client_group);
CREATE TEMP TABLE import_run (LIKE ptimport.import_run);
CREATE TEMP TABLE import_issue (LIKE ptimport.import_issue);

-- The trojans work for ordinary queries on this path ...
SET search_path = regress_evil, pg_catalog, public;
SELECT lower('ABC') AS trojan_lower, 'a' = 'b' AS trojan_equals;
SELECT what FROM public.trojan_calls ORDER BY what;
TRUNCATE public.trojan_calls;

-- ... but the import uses none of them.
SELECT line_no, code FROM ptimport.pt_import_clients(convert_to(
'H1,Ann,Lee,1980,f,,,,Group A
H2,Bob,Lee,1980,m,,,,GROUP A
H3,Cas,Lee,1980,x,,,,', 'UTF8'), 1000);
SELECT count(*) FROM ptimport.pt_import_clients(convert_to(
'H1,Ann,Lee,1980,f,,,,group a
H2,Bob,Lee-Smith,1980,m,,,,', 'UTF8'), 1000, dry_run => true);
SHOW search_path;
RESET search_path;

SELECT count(*) AS trojan_calls FROM public.trojan_calls;
SELECT (SELECT count(*) FROM regress_evil.client) + (SELECT count(*) FROM regress_evil.client_group)
     + (SELECT count(*) FROM pg_temp.client) + (SELECT count(*) FROM pg_temp.client_group)
     + (SELECT count(*) FROM pg_temp.import_run) + (SELECT count(*) FROM pg_temp.import_issue)
     AS rows_in_lookalike_tables;
SELECT internal_id, g.name FROM ptimport.client c JOIN ptimport.client_group g USING (account_id, group_id)
WHERE c.account_id = 1000 ORDER BY 1;
SELECT dry_run, rows_total, rows_inserted, rows_updated, rows_failed FROM ptimport.import_run
WHERE account_id = 1000 ORDER BY run_id;

DROP SCHEMA regress_evil CASCADE;
DROP TABLE public.trojan_calls;
