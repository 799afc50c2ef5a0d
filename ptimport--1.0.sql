/* ptimport--1.0.sql: tables, run log and pt_import_clients() */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ptimport" to load this file. \quit

-- Client groups; names match case-insensitively within an account.
CREATE TABLE ptimport.client_group (
	group_id	bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id	bigint NOT NULL,
	name		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	UNIQUE (account_id, group_id)
);
CREATE UNIQUE INDEX client_group_account_name_key
	ON ptimport.client_group (account_id, pg_catalog.lower(name COLLATE pg_catalog."und-x-icu"));

-- Clients, keyed by the practice's own internal_id within an account.
CREATE TABLE ptimport.client (
	client_id	bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id	bigint NOT NULL,
	internal_id text NOT NULL,
	first_name	text NOT NULL,
	last_name	text NOT NULL,
	birth_year	integer NOT NULL,
	gender		text NOT NULL CHECK (gender IN ('m', 'f')),
	email		text,
	mobile		text,
	diagnosis_code text,
	group_id	bigint,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	UNIQUE (account_id, internal_id),
	-- a client can only be in a group of its own account
	FOREIGN KEY (account_id, group_id) REFERENCES ptimport.client_group (account_id, group_id)
);

-- One row per completed call of pt_import_clients.
CREATE TABLE ptimport.import_run (
	run_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id	bigint NOT NULL,
	source_name text,
	dry_run		boolean NOT NULL,
	started_at	timestamptz NOT NULL,
	finished_at timestamptz NOT NULL,
	rows_total	bigint NOT NULL,
	rows_inserted bigint NOT NULL,
	rows_updated bigint NOT NULL,
	rows_unchanged bigint NOT NULL,
	rows_failed bigint NOT NULL,
	rows_warned bigint NOT NULL,
	groups_created bigint NOT NULL,
	run_by		name NOT NULL DEFAULT CURRENT_USER
);
CREATE INDEX import_run_account_idx ON ptimport.import_run (account_id, run_id);

-- The records each run returned.
CREATE TABLE ptimport.import_issue (
	run_id		bigint NOT NULL REFERENCES ptimport.import_run ON DELETE CASCADE,
	account_id	bigint NOT NULL,
	line_no		integer NOT NULL,
	internal_id text,
	severity	text NOT NULL CHECK (severity IN ('error', 'warning')),
	field		text,
	code		text NOT NULL,
	message		text NOT NULL,
	raw_line	text NOT NULL
);
CREATE INDEX import_issue_run_idx ON ptimport.import_issue (run_id, line_no);

-- pg_dump keeps the data of these tables.
SELECT pg_catalog.pg_extension_config_dump('ptimport.client_group', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.client', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.import_run', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.import_issue', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.client_group_group_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.client_client_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.import_run_run_id_seq', '');

-- Row-level security: a role that does not own the tables sees and writes
-- only the account named by ptimport.account_id.
ALTER TABLE ptimport.client_group ENABLE ROW LEVEL SECURITY;
ALTER TABLE ptimport.client ENABLE ROW LEVEL SECURITY;
ALTER TABLE ptimport.import_run ENABLE ROW LEVEL SECURITY;
ALTER TABLE ptimport.import_issue ENABLE ROW LEVEL SECURITY;

CREATE POLICY account_isolation ON ptimport.client_group
	USING (account_id OPERATOR(pg_catalog.=)
		   NULLIF(pg_catalog.current_setting('ptimport.account_id', true), '')::bigint);
CREATE POLICY account_isolation ON ptimport.client
	USING (account_id OPERATOR(pg_catalog.=)
		   NULLIF(pg_catalog.current_setting('ptimport.account_id', true), '')::bigint);
CREATE POLICY account_isolation ON ptimport.import_run
	USING (account_id OPERATOR(pg_catalog.=)
		   NULLIF(pg_catalog.current_setting('ptimport.account_id', true), '')::bigint);
CREATE POLICY account_isolation ON ptimport.import_issue
	USING (account_id OPERATOR(pg_catalog.=)
		   NULLIF(pg_catalog.current_setting('ptimport.account_id', true), '')::bigint);

CREATE FUNCTION ptimport.pt_import_clients(
	data		bytea,
	account_id	bigint DEFAULT NULL,
	dry_run		boolean DEFAULT false,
	encoding	text DEFAULT 'UTF8',
	source_name text DEFAULT NULL)
RETURNS TABLE (
	line_no		integer,
	internal_id text,
	severity	text,
	field		text,
	code		text,
	message		text,
	raw_line	text)
AS 'MODULE_PATHNAME', 'pt_import_clients'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION ptimport.pt_import_clients(bytea, bigint, boolean, text, text) IS
'imports a CSV client file into an account and returns one record per problem';

-- Nothing is open to PUBLIC; the README shows the grants an import role needs.
REVOKE ALL ON FUNCTION ptimport.pt_import_clients(bytea, bigint, boolean, text, text) FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA ptimport FROM PUBLIC;
REVOKE ALL ON SCHEMA ptimport FROM PUBLIC;
