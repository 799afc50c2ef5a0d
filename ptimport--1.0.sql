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

-- The account the session acts for: the setting ptimport.account_id, or
-- null.  The body is parsed here, so the caller's search_path cannot change
-- it, and it is simple enough to be inlined into the policies.
CREATE FUNCTION ptimport.current_account() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT NULLIF(pg_catalog.current_setting('ptimport.account_id', true), '')::bigint;
END;

-- Row-level security: a role that does not own the tables sees and writes
-- only the account named by ptimport.account_id.
ALTER TABLE ptimport.client_group ENABLE ROW LEVEL SECURITY;
ALTER TABLE ptimport.client ENABLE ROW LEVEL SECURITY;
ALTER TABLE ptimport.import_run ENABLE ROW LEVEL SECURITY;
ALTER TABLE ptimport.import_issue ENABLE ROW LEVEL SECURITY;

CREATE POLICY account_isolation ON ptimport.client_group
	USING (account_id OPERATOR(pg_catalog.=) ptimport.current_account());
CREATE POLICY account_isolation ON ptimport.client
	USING (account_id OPERATOR(pg_catalog.=) ptimport.current_account());
CREATE POLICY account_isolation ON ptimport.import_run
	USING (account_id OPERATOR(pg_catalog.=) ptimport.current_account());
CREATE POLICY account_isolation ON ptimport.import_issue
	USING (account_id OPERATOR(pg_catalog.=) ptimport.current_account());

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

-- ---------------------------------------------------------------------------
-- Inbox: queued imports drained by process_inbox()
--
-- ptimport.submit() files an upload in ptimport.inbox and returns at once;
-- ptimport.process_inbox(), run every minute by pg_cron, imports the queued
-- files oldest first, one account's files in submission order, and keeps
-- per file its state, its run in ptimport.import_run and, when the whole
-- file was refused, why.  ptimport.inbox_status is what a practice is shown.
-- ---------------------------------------------------------------------------

-- One row per submitted file.  content is deleted (set to null) once the file
-- is processed and ptimport.inbox_retention_days have passed; the row stays.
CREATE TABLE ptimport.inbox (
	file_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id	bigint NOT NULL,
	source_name text,
	encoding	text NOT NULL DEFAULT 'UTF8',
	size_bytes	bigint NOT NULL,
	content		bytea,
	submitted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	submitted_by name NOT NULL DEFAULT CURRENT_USER,
	state		text NOT NULL DEFAULT 'queued'
				CHECK (state IN ('queued', 'processing', 'done', 'failed')),
	processed_at timestamptz,
	run_id		bigint REFERENCES ptimport.import_run ON DELETE SET NULL,
	error		text,
	error_detail text,
	error_hint	text,
	error_sqlstate text,
	content_deleted_at timestamptz,
	CHECK ((processed_at IS NULL) = (state IN ('queued', 'processing'))),
	CHECK ((error IS NOT NULL) = (state = 'failed')),
	CHECK ((content IS NULL) = (content_deleted_at IS NOT NULL))
);
-- The queue in submission order; each account's files; the kept contents.
CREATE INDEX inbox_queued_idx ON ptimport.inbox (file_id) WHERE state = 'queued';
CREATE INDEX inbox_account_idx ON ptimport.inbox (account_id, file_id);
CREATE INDEX inbox_kept_idx ON ptimport.inbox (processed_at) WHERE content IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('ptimport.inbox', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.inbox_file_id_seq', '');

ALTER TABLE ptimport.inbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON ptimport.inbox
	USING (account_id OPERATOR(pg_catalog.=) ptimport.current_account());

CREATE FUNCTION ptimport.submit(
	data		bytea,
	account_id	bigint DEFAULT NULL,
	source_name text DEFAULT NULL,
	encoding	text DEFAULT 'UTF8')
RETURNS bigint
AS 'MODULE_PATHNAME', 'pt_submit'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION ptimport.submit(bytea, bigint, text, text) IS
'queues a CSV client file for process_inbox() and returns its file_id';

CREATE FUNCTION ptimport.last_run_id()
RETURNS bigint
AS 'MODULE_PATHNAME', 'pt_last_run_id'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ptimport.last_run_id() IS
'run_id of this session''s latest completed pt_import_clients call, like lastval()';

CREATE FUNCTION ptimport.purge_inbox()
RETURNS bigint
AS 'MODULE_PATHNAME', 'pt_purge_inbox'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION ptimport.purge_inbox() IS
'deletes the contents of files processed more than ptimport.inbox_retention_days ago';

/*
 * Imports up to max_files queued files and returns how many it processed.
 *
 * All of it is one transaction, the caller's: a file's import, its state
 * and its run commit together when the call ends, and a worker that crashes
 * or is cancelled leaves every file it took 'queued' for the next call
 * ('processing' is seen only inside the worker's own transaction).  Each file
 * runs in a subtransaction, so a whole-file error marks that file 'failed'
 * with its message and the next file goes on.  Errors that are about the
 * worker and not the file (deadlock, serialization failure, lock timeout,
 * missing privilege, cancel) end the call instead, and the files wait.
 *
 * A file is taken only when no older file of its account is still queued,
 * and taken with FOR UPDATE SKIP LOCKED: two workers never take one file,
 * and never work on one account at once, so its files import in order.
 * With ptimport.account_id set, only that account's files are taken.
 */
CREATE FUNCTION ptimport.process_inbox(max_files integer DEFAULT 10)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
	v_account	bigint := NULLIF(pg_catalog.current_setting('ptimport.account_id', true), '')::bigint;
	v_file_id	bigint;
	v_processed integer := 0;
	v_sqlstate	text;
	v_message	text;
	v_detail	text;
	v_hint		text;
BEGIN
	IF max_files IS NULL OR max_files < 1 THEN
		RAISE EXCEPTION 'max_files must be at least 1'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Leave max_files out to process up to 10 files.';
	END IF;

	WHILE v_processed < max_files LOOP
		SELECT i.file_id INTO v_file_id
		FROM ptimport.inbox AS i
		WHERE i.state = 'queued'
		  AND (v_account IS NULL OR i.account_id = v_account)
		  AND NOT EXISTS (SELECT FROM ptimport.inbox AS older
						  WHERE older.account_id = i.account_id
							AND older.state IN ('queued', 'processing')
							AND older.file_id < i.file_id)
		ORDER BY i.file_id
		LIMIT 1
		FOR UPDATE OF i SKIP LOCKED;
		EXIT WHEN NOT FOUND;

		UPDATE ptimport.inbox SET state = 'processing' WHERE file_id = v_file_id;
		BEGIN
			PERFORM FROM ptimport.inbox AS i,
				LATERAL ptimport.pt_import_clients(i.content, i.account_id, false, i.encoding,
												   i.source_name) AS p
			WHERE i.file_id = v_file_id;

			UPDATE ptimport.inbox
			SET state = 'done', processed_at = pg_catalog.clock_timestamp(),
				run_id = ptimport.last_run_id()
			WHERE file_id = v_file_id;
		EXCEPTION
			WHEN serialization_failure OR deadlock_detected OR lock_not_available
				OR insufficient_privilege THEN
				RAISE;
			WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
										v_message = MESSAGE_TEXT,
										v_detail = PG_EXCEPTION_DETAIL,
										v_hint = PG_EXCEPTION_HINT;
				UPDATE ptimport.inbox
				SET state = 'failed', processed_at = pg_catalog.clock_timestamp(),
					error = v_message, error_detail = NULLIF(v_detail, ''),
					error_hint = NULLIF(v_hint, ''), error_sqlstate = v_sqlstate
				WHERE file_id = v_file_id;
		END;
		v_processed := v_processed + 1;
	END LOOP;

	PERFORM ptimport.purge_inbox();
	RETURN v_processed;
END
$$;

COMMENT ON FUNCTION ptimport.process_inbox(integer) IS
'imports up to max_files queued inbox files, oldest first, and returns how many it processed';

-- What a practice is shown per file: its state, the counts of its run (null
-- until it is done), and why a failed file was refused.  The failed rows are
-- in ptimport.import_issue under the file's run_id.  security_invoker: the
-- caller's row-level security applies, not the view owner's.
CREATE VIEW ptimport.inbox_status WITH (security_invoker = true) AS
SELECT i.file_id, i.account_id, i.source_name, i.encoding, i.size_bytes, i.submitted_at,
	   i.submitted_by, i.state, i.processed_at, i.run_id,
	   r.rows_total, r.rows_inserted, r.rows_updated, r.rows_unchanged,
	   r.rows_failed, r.rows_warned, r.groups_created,
	   i.error, i.error_detail, i.error_hint, i.content_deleted_at
FROM ptimport.inbox AS i
LEFT JOIN ptimport.import_run AS r ON r.run_id OPERATOR(pg_catalog.=) i.run_id;

REVOKE ALL ON FUNCTION ptimport.submit(bytea, bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.last_run_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.purge_inbox() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.process_inbox(integer) FROM PUBLIC;
REVOKE ALL ON ptimport.inbox, ptimport.inbox_status FROM PUBLIC;
