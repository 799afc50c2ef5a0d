/* ptimport--1.0--1.1.sql: from 1.0 to 1.1 (also the second half of a fresh install) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ptimport UPDATE TO '1.1'" to load this file. \quit

/*
 * Every step can run twice: on a Citus cluster a worker applies this script
 * itself and then receives the coordinator's propagated commands too.  So
 * tables, columns, indexes and collations are created IF NOT EXISTS,
 * constraints are checked before they are added, and functions are dropped
 * IF EXISTS or created OR REPLACE.
 */

-- Requirements (make copies this block to the top of ptimport--1.1.sql)
-- A database in SQL_ASCII cannot hold text in a known encoding.
DO $$
BEGIN
	IF pg_catalog.current_setting('server_encoding') = 'SQL_ASCII' THEN
		RAISE EXCEPTION 'ptimport cannot be used in a SQL_ASCII database'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Client files are decoded and stored as text in the database''s encoding, and SQL_ASCII has none.',
				  HINT = 'Create the database with ENCODING ''UTF8''.';
	END IF;
END
$$;
-- End of requirements

-- ---------------------------------------------------------------------------
-- Group names: one ICU collation decides which names are the same group
-- ---------------------------------------------------------------------------

/*
 * Case-insensitive and accent-sensitive (ICU strength 2), with full
 * normalization, so "VIP"/"vip" and "Café" in NFC and NFD are one group,
 * while "Cafe" and "Café" are two.
 */
CREATE COLLATION IF NOT EXISTS ptimport.group_name
	(provider = icu, locale = 'und-u-kk-true-ks-level2', deterministic = false);

/*
 * Groups that 1.0 kept apart but the collation makes equal (a name in NFC
 * and in NFD, or letters whose case 1.0's lower() did not fold) are merged
 * into the oldest of them, whose spelling stays: its clients take it over
 * and the others are deleted.  The view lists each group to merge away and
 * the group it goes into; it is dropped again at the end.  (Not a temporary
 * table: on a Citus worker, which runs this script in a prepared
 * transaction, a temporary object makes PREPARE TRANSACTION fail.)
 */
CREATE OR REPLACE VIEW ptimport.group_merge_1_1 AS
SELECT account_id, group_id, keep_id
FROM (SELECT g.account_id, g.group_id,
			 pg_catalog.first_value(g.group_id) OVER (
				PARTITION BY g.account_id, g.name COLLATE ptimport.group_name
				ORDER BY g.group_id) AS keep_id
	  FROM ptimport.client_group AS g) AS s
WHERE group_id OPERATOR(pg_catalog.<>) keep_id;

DO $$
DECLARE
	v_moved		bigint;
	v_merged	bigint;
BEGIN
	UPDATE ptimport.client AS c SET group_id = m.keep_id
	FROM ptimport.group_merge_1_1 AS m
	WHERE c.account_id OPERATOR(pg_catalog.=) m.account_id
	  AND c.group_id OPERATOR(pg_catalog.=) m.group_id;
	GET DIAGNOSTICS v_moved = ROW_COUNT;

	DELETE FROM ptimport.client_group AS g
	USING ptimport.group_merge_1_1 AS m
	WHERE g.account_id OPERATOR(pg_catalog.=) m.account_id
	  AND g.group_id OPERATOR(pg_catalog.=) m.group_id;
	GET DIAGNOSTICS v_merged = ROW_COUNT;

	IF v_merged > 0 THEN
		RAISE WARNING 'merged % client groups into groups whose names are equal to them, case-insensitively; % clients moved', v_merged, v_moved;
	END IF;
END
$$;

DROP VIEW ptimport.group_merge_1_1;

-- ---------------------------------------------------------------------------
-- Keys that include account_id
--
-- Every primary, unique and foreign key starts with account_id, so each
-- account's rows can live together (on Citus: distributed by account_id).
-- ---------------------------------------------------------------------------

-- 1.0's references, by their names: the new ones have other names, so a
-- second run of this script drops nothing and validates nothing again.
ALTER TABLE ptimport.client DROP CONSTRAINT IF EXISTS client_account_id_group_id_fkey;
ALTER TABLE ptimport.import_issue DROP CONSTRAINT IF EXISTS import_issue_run_id_fkey;
ALTER TABLE ptimport.inbox DROP CONSTRAINT IF EXISTS inbox_run_id_fkey;

-- Primary keys (account_id, id), replacing the 1.0 keys on the id alone.
DO $$
DECLARE
	t	record;
BEGIN
	FOR t IN SELECT * FROM (VALUES ('client_group', 'group_id'), ('client', 'client_id'),
								   ('import_run', 'run_id'), ('inbox', 'file_id')) AS v(tab, id)
	LOOP
		IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS c
					   WHERE c.conrelid OPERATOR(pg_catalog.=) pg_catalog.format('ptimport.%I', t.tab)::pg_catalog.regclass
						 AND c.contype OPERATOR(pg_catalog.=) 'p'
						 AND pg_catalog.array_length(c.conkey, 1) OPERATOR(pg_catalog.=) 2) THEN
			EXECUTE pg_catalog.format('ALTER TABLE ptimport.%I DROP CONSTRAINT IF EXISTS %I',
									  t.tab, t.tab || '_pkey');
			EXECUTE pg_catalog.format('ALTER TABLE ptimport.%I ADD CONSTRAINT %I PRIMARY KEY (account_id, %I)',
									  t.tab, t.tab || '_pkey', t.id);
		END IF;
	END LOOP;
END
$$;

-- The 1.0 unique key (account_id, group_id) is the primary key now.
ALTER TABLE ptimport.client_group DROP CONSTRAINT IF EXISTS client_group_account_id_group_id_key;

-- Group names are unique per account under the group_name collation.
DROP INDEX IF EXISTS ptimport.client_group_account_name_key;
-- (Once: when the script runs again, the views below depend on the column.)
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute AS a
				   WHERE a.attrelid OPERATOR(pg_catalog.=) 'ptimport.client_group'::pg_catalog.regclass
					 AND a.attname OPERATOR(pg_catalog.=) 'name'
					 AND a.attcollation OPERATOR(pg_catalog.=) 'ptimport.group_name'::pg_catalog.regcollation) THEN
		ALTER TABLE ptimport.client_group ALTER COLUMN name TYPE text COLLATE ptimport.group_name;
	END IF;
END
$$;
CREATE UNIQUE INDEX IF NOT EXISTS client_group_name_key ON ptimport.client_group (account_id, name);

-- The primary keys serve these lookups now.
DROP INDEX IF EXISTS ptimport.import_run_account_idx;
DROP INDEX IF EXISTS ptimport.inbox_account_idx;
DROP INDEX IF EXISTS ptimport.import_issue_run_idx;
CREATE INDEX IF NOT EXISTS import_issue_account_run_idx
	ON ptimport.import_issue (account_id, run_id, line_no);

-- References between the tables, on (account_id, id).
DO $$
DECLARE
	f	record;
BEGIN
	FOR f IN SELECT * FROM (VALUES
		('client', 'client_group_fkey',
		 'FOREIGN KEY (account_id, group_id) REFERENCES ptimport.client_group (account_id, group_id)'),
		('import_issue', 'import_issue_run_fkey',
		 'FOREIGN KEY (account_id, run_id) REFERENCES ptimport.import_run (account_id, run_id) ON DELETE CASCADE'),
		('inbox', 'inbox_run_fkey',
		 'FOREIGN KEY (account_id, run_id) REFERENCES ptimport.import_run (account_id, run_id)'))
		AS v(tab, name, def)
	LOOP
		IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS c
					   WHERE c.conrelid OPERATOR(pg_catalog.=) pg_catalog.format('ptimport.%I', f.tab)::pg_catalog.regclass
						 AND c.conname OPERATOR(pg_catalog.=) f.name) THEN
			EXECUTE pg_catalog.format('ALTER TABLE ptimport.%I ADD CONSTRAINT %I %s', f.tab, f.name, f.def);
		END IF;
	END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Accounts and who may act for them
-- ---------------------------------------------------------------------------

/*
 * One row per account that has imported or submitted a file.  An import
 * locks its account's row (FOR UPDATE) for the rest of its transaction, so
 * imports into one account take turns, on every node of a cluster.  No
 * role but the extension's owner has any privilege on it, so no outsider
 * can take that lock.
 */
CREATE TABLE IF NOT EXISTS ptimport.account (
	account_id	bigint PRIMARY KEY,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
INSERT INTO ptimport.account (account_id)
SELECT account_id FROM ptimport.client_group
UNION SELECT account_id FROM ptimport.client
UNION SELECT account_id FROM ptimport.import_run
UNION SELECT account_id FROM ptimport.inbox
ON CONFLICT (account_id) DO NOTHING;

/*
 * The accounts each role may act for: ptimport.account_id chooses among
 * them.  account_id NULL means every account (an explicit grant, for a
 * shared application role or the inbox worker).  Superusers act for every
 * account.  Maintained with ptimport.grant_account()/revoke_account().
 */
CREATE TABLE IF NOT EXISTS ptimport.account_access (
	role_name	name NOT NULL,
	account_id	bigint,
	granted_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	granted_by	name NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT account_access_key UNIQUE NULLS NOT DISTINCT (role_name, account_id)
);

SELECT pg_catalog.pg_extension_config_dump('ptimport.account', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.account_access', '');

-- ---------------------------------------------------------------------------
-- The run log: how each file was read and what each run did
-- ---------------------------------------------------------------------------

ALTER TABLE ptimport.import_run
	ADD COLUMN IF NOT EXISTS encoding text,
	ADD COLUMN IF NOT EXISTS delimiter text,
	ADD COLUMN IF NOT EXISTS header_line integer,
	ADD COLUMN IF NOT EXISTS column_map text[],
	ADD COLUMN IF NOT EXISTS mode text NOT NULL DEFAULT 'upsert'
		CHECK (mode IN ('upsert', 'insert', 'update')),
	ADD COLUMN IF NOT EXISTS log_purged_at timestamptz,
	-- what the run was: an import, the undo of one, or an erasure
	ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'import'
		CHECK (kind IN ('import', 'revert', 'erase')),
	ADD COLUMN IF NOT EXISTS reverts_run_id bigint,
	ADD COLUMN IF NOT EXISTS rows_deleted bigint NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS groups_deleted bigint NOT NULL DEFAULT 0;

-- An import is undone at most once (dry runs of the undo aside).
CREATE UNIQUE INDEX IF NOT EXISTS import_run_reverted_key
	ON ptimport.import_run (account_id, reverts_run_id)
	WHERE reverts_run_id IS NOT NULL AND NOT dry_run;

-- What purge() looks for on every call (each minute, from the inbox
-- worker), across the accounts: the runs whose log is still kept, and the
-- processed inbox files that still have a name.
CREATE INDEX IF NOT EXISTS import_run_unpurged_idx
	ON ptimport.import_run (finished_at) WHERE log_purged_at IS NULL;
CREATE INDEX IF NOT EXISTS inbox_named_idx
	ON ptimport.inbox (processed_at) WHERE source_name IS NOT NULL;

-- A client's values, as undo keeps those an import changed (NULL: unchanged).
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_type AS t
				   WHERE t.typname OPERATOR(pg_catalog.=) 'client_values'
					 AND t.typnamespace OPERATOR(pg_catalog.=) 'ptimport'::pg_catalog.regnamespace) THEN
		CREATE TYPE ptimport.client_values AS (
			first_name	text,
			last_name	text,
			birth_year	integer,
			gender		text,
			email		text,
			mobile		text,
			diagnosis_code text,
			group_id	bigint);
	END IF;
END
$$;

/*
 * What undoing an import needs, one row per import that wrote clients, in
 * arrays (cheap to write): the internal_ids it inserted, with the lines
 * they came from; the clients it updated, with their lines, their updated_at
 * before, and for the columns it changed their values before and after
 * (the other columns NULL in both: a column changed when either is not
 * NULL); and the groups it created.  written_at is the updated_at the
 * import gave every client it wrote, written_xmin the transaction (xmin)
 * that wrote them: a client whose updated_at or xmin differs has been
 * written since, by anyone (or copied: a restore, or a shard moved by
 * Citus, gives every row a new xmin).  Purged with the issue log.
 */
CREATE TABLE IF NOT EXISTS ptimport.run_undo (
	account_id	bigint NOT NULL,
	run_id		bigint NOT NULL,
	written_at	timestamptz NOT NULL,
	written_xmin xid,
	inserted_internal_ids text[] NOT NULL,
	inserted_lines integer[] NOT NULL,
	updated_ids bigint[] NOT NULL,
	updated_lines integer[] NOT NULL,
	updated_at_before timestamptz[] NOT NULL,
	before		ptimport.client_values[] NOT NULL,
	after		ptimport.client_values[] NOT NULL,
	created_group_ids bigint[] NOT NULL,
	PRIMARY KEY (account_id, run_id),
	FOREIGN KEY (account_id, run_id) REFERENCES ptimport.import_run (account_id, run_id)
		ON DELETE CASCADE
);

-- Undo data is written with every import: compress it with LZ4 (fast)
-- rather than pglz, where the server has it.
DO $$
DECLARE
	c	text;
BEGIN
	IF EXISTS (SELECT FROM pg_catalog.pg_settings AS s
			   WHERE s.name OPERATOR(pg_catalog.=) 'default_toast_compression'
				 AND 'lz4' OPERATOR(pg_catalog.=) ANY (s.enumvals)) THEN
		FOREACH c IN ARRAY ARRAY['inserted_internal_ids', 'inserted_lines', 'updated_ids',
								 'updated_lines', 'updated_at_before', 'before', 'after',
								 'created_group_ids'] LOOP
			EXECUTE pg_catalog.format('ALTER TABLE ptimport.run_undo ALTER COLUMN %I SET COMPRESSION lz4', c);
		END LOOP;
	END IF;
END
$$;

/*
 * The rows of a file that had problems, whole and as they were (decoded to
 * UTF-8), and the file's header row: what failed_rows() gives back as a
 * file to fix.  Purged with the issue log.
 */
CREATE TABLE IF NOT EXISTS ptimport.import_row (
	account_id	bigint NOT NULL,
	run_id		bigint NOT NULL,
	line_no		integer NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('header', 'failed', 'warned')),
	internal_id text,
	raw			text NOT NULL,
	PRIMARY KEY (account_id, run_id, line_no),
	FOREIGN KEY (account_id, run_id) REFERENCES ptimport.import_run (account_id, run_id)
		ON DELETE CASCADE
);

SELECT pg_catalog.pg_extension_config_dump('ptimport.run_undo', '');
SELECT pg_catalog.pg_extension_config_dump('ptimport.import_row', '');

-- ---------------------------------------------------------------------------
-- Row-level security for the new tables, as for the 1.0 ones
-- ---------------------------------------------------------------------------

DO $$
DECLARE
	t	text;
BEGIN
	FOREACH t IN ARRAY ARRAY['account', 'run_undo', 'import_row'] LOOP
		EXECUTE pg_catalog.format('ALTER TABLE ptimport.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE pg_catalog.format('DROP POLICY IF EXISTS account_isolation ON ptimport.%I', t);
		EXECUTE pg_catalog.format('CREATE POLICY account_isolation ON ptimport.%I'
								  ' USING (account_id OPERATOR(pg_catalog.=) ptimport.current_account())', t);
	END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------

/*
 * The account the session acts for: the setting ptimport.account_id, once
 * checked against ptimport.account_access (insufficient_privilege if the
 * role may not act for it), or null when it is not set.
 */
CREATE OR REPLACE FUNCTION ptimport.current_account() RETURNS bigint
AS 'MODULE_PATHNAME', 'pt_current_account'
LANGUAGE C STABLE PARALLEL SAFE;

/*
 * account_id defaults to the session's account, current_account(), which
 * is what a null account_id means too.  The default is an expression, not
 * a constant, so that on Citus a call that leaves the account out is run
 * by the node it was sent to (which knows the session's setting) instead
 * of being delegated, by the null, to a node that does not.
 */
DROP FUNCTION IF EXISTS ptimport.pt_import_clients(bytea, bigint, boolean, text, text);
CREATE OR REPLACE FUNCTION ptimport.pt_import_clients(
	data		bytea,
	account_id	bigint DEFAULT ptimport.current_account(),
	dry_run		boolean DEFAULT false,
	encoding	text DEFAULT NULL,
	source_name text DEFAULT NULL,
	delimiter	text DEFAULT NULL,
	columns		text[] DEFAULT NULL,
	mode		text DEFAULT 'upsert')
RETURNS TABLE (
	line_no		integer,
	internal_id text,
	severity	text,
	field		text,
	code		text,
	message		text,
	raw_line	text)
AS 'MODULE_PATHNAME', 'pt_import_clients'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION ptimport.pt_import_clients(bytea, bigint, boolean, text, text, text, text[], text) IS
'imports a CSV client file into an account and returns one record per problem';

DROP FUNCTION IF EXISTS ptimport.submit(bytea, bigint, text, text);
CREATE OR REPLACE FUNCTION ptimport.submit(
	data		bytea,
	account_id	bigint DEFAULT ptimport.current_account(),
	source_name text DEFAULT NULL,
	encoding	text DEFAULT NULL,
	delimiter	text DEFAULT NULL,
	columns		text[] DEFAULT NULL,
	mode		text DEFAULT 'upsert')
RETURNS bigint
AS 'MODULE_PATHNAME', 'pt_submit'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION ptimport.submit(bytea, bigint, text, text, text, text[], text) IS
'queues a CSV client file for the inbox worker and returns its file_id';

ALTER TABLE ptimport.inbox
	ALTER COLUMN encoding DROP NOT NULL,
	ALTER COLUMN encoding DROP DEFAULT,
	ADD COLUMN IF NOT EXISTS delimiter text,
	ADD COLUMN IF NOT EXISTS columns text[],
	ADD COLUMN IF NOT EXISTS mode text NOT NULL DEFAULT 'upsert'
		CHECK (mode IN ('upsert', 'insert', 'update'));

REVOKE ALL ON FUNCTION ptimport.pt_import_clients(bytea, bigint, boolean, text, text, text, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.submit(bytea, bigint, text, text, text, text[], text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- What an application reads: its account's rows, through views
--
-- Application roles get no privilege on the tables.  These views run with
-- their owner's rights and show the rows of ptimport.current_account()
-- only: the account in ptimport.account_id, once the role is allowed to
-- act for it.  security_barrier keeps a caller's function in a WHERE clause
-- from seeing rows before the account filter has removed them.
-- ---------------------------------------------------------------------------

CREATE OR REPLACE VIEW ptimport.account_clients WITH (security_barrier) AS
SELECT c.client_id, c.account_id, c.internal_id, c.first_name, c.last_name, c.birth_year,
	   c.gender, c.email, c.mobile, c.diagnosis_code, c.group_id, g.name AS client_group,
	   c.created_at, c.updated_at
FROM ptimport.client AS c
LEFT JOIN ptimport.client_group AS g
  ON g.account_id OPERATOR(pg_catalog.=) c.account_id AND g.group_id OPERATOR(pg_catalog.=) c.group_id
WHERE c.account_id OPERATOR(pg_catalog.=) ptimport.current_account();

CREATE OR REPLACE VIEW ptimport.account_groups WITH (security_barrier) AS
SELECT g.group_id, g.account_id, g.name, g.created_at
FROM ptimport.client_group AS g
WHERE g.account_id OPERATOR(pg_catalog.=) ptimport.current_account();

CREATE OR REPLACE VIEW ptimport.account_runs WITH (security_barrier) AS
SELECT r.*
FROM ptimport.import_run AS r
WHERE r.account_id OPERATOR(pg_catalog.=) ptimport.current_account();

CREATE OR REPLACE VIEW ptimport.account_issues WITH (security_barrier) AS
SELECT i.*
FROM ptimport.import_issue AS i
WHERE i.account_id OPERATOR(pg_catalog.=) ptimport.current_account();

/*
 * What a practice is shown per submitted file: its state, the counts of its
 * run (null until it is done), and why a failed file was refused.  The
 * failed rows are in ptimport.account_issues under the file's run_id.
 */
DROP VIEW IF EXISTS ptimport.inbox_status;
CREATE VIEW ptimport.inbox_status WITH (security_barrier) AS
SELECT i.file_id, i.account_id, i.source_name, i.encoding, i.delimiter, i.columns, i.mode,
	   i.size_bytes, i.submitted_at, i.submitted_by, i.state, i.processed_at, i.run_id,
	   r.rows_total, r.rows_inserted, r.rows_updated, r.rows_unchanged,
	   r.rows_failed, r.rows_warned, r.groups_created,
	   i.error, i.error_detail, i.error_hint, i.error_sqlstate, i.content_deleted_at
FROM ptimport.inbox AS i
LEFT JOIN ptimport.import_run AS r
  ON r.account_id OPERATOR(pg_catalog.=) i.account_id AND r.run_id OPERATOR(pg_catalog.=) i.run_id
WHERE i.account_id OPERATOR(pg_catalog.=) ptimport.current_account();

-- ---------------------------------------------------------------------------
-- The inbox worker
-- ---------------------------------------------------------------------------

/*
 * Imports the oldest queued file of account_id and records its outcome;
 * returns that file and its new state, or a null file_id when the account
 * is busy or has no queued file.
 *
 * The account is taken only when its row in ptimport.account can be
 * locked at once (SKIP LOCKED): an account whose import is still running
 * elsewhere, or whose application holds its lock in an open transaction,
 * is left for the next call.  The lock is held to the end of the caller's
 * transaction, so each account's files import in submission order, one at
 * a time, whichever worker runs them.
 *
 * A file the import refuses whole (an SQLSTATE of class 22, data exception,
 * or 54, program limit exceeded: the whole-file errors) is marked 'failed'
 * with the import's message.  Any other error is about the worker, not the
 * file (a lock or serialization conflict, a missing privilege, a Citus
 * connection): the file stays queued and state 'retry' is returned with
 * the error.  A cancel or shutdown is not caught.
 *
 * Everything here concerns one account, so on Citus ptimport.distribute()
 * delegates the call to the node that holds the account: the file is read
 * and imported there and never travels to the coordinator.  The run is
 * logged as run by run_by, the role the inbox worker acts as (on that
 * node the call runs as the owner, which would be logged otherwise).
 */
CREATE OR REPLACE FUNCTION ptimport.process_account_file(
	account_id	bigint,
	run_by		name,
	OUT file_id bigint,
	OUT state	text,
	OUT error_sqlstate text,
	OUT error_message text)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
	v_account	bigint := process_account_file.account_id;
	v_file		ptimport.inbox;
	v_run_id	bigint;
	v_detail	text;
	v_hint		text;
	v_now		timestamptz;
BEGIN
	PERFORM FROM ptimport.account AS a
	WHERE a.account_id OPERATOR(pg_catalog.=) v_account
	FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN;
	END IF;

	SELECT i.* INTO v_file
	FROM ptimport.inbox AS i
	WHERE i.account_id OPERATOR(pg_catalog.=) v_account
	  AND i.state OPERATOR(pg_catalog.=) 'queued'
	ORDER BY i.submitted_at, i.file_id
	LIMIT 1
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;

	file_id := v_file.file_id;
	BEGIN
		PERFORM FROM ptimport.pt_import_clients(v_file.content, v_account, false,
												 v_file.encoding, v_file.source_name,
												 v_file.delimiter, v_file.columns,
												 v_file.mode);
		v_run_id := ptimport.last_run_id();
		UPDATE ptimport.import_run AS r SET run_by = process_account_file.run_by
		WHERE r.account_id OPERATOR(pg_catalog.=) v_account
		  AND r.run_id OPERATOR(pg_catalog.=) v_run_id
		  AND r.run_by OPERATOR(pg_catalog.<>) process_account_file.run_by;
		state := 'done';
	EXCEPTION
		WHEN query_canceled OR admin_shutdown THEN
			RAISE;
		WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS error_sqlstate = RETURNED_SQLSTATE,
									error_message = MESSAGE_TEXT,
									v_detail = PG_EXCEPTION_DETAIL,
									v_hint = PG_EXCEPTION_HINT;
			IF pg_catalog.left(error_sqlstate, 2) NOT IN ('22', '54') THEN
				state := 'retry';
				RETURN;
			END IF;
			state := 'failed';
	END;

	v_now := pg_catalog.clock_timestamp();
	UPDATE ptimport.inbox AS i
	SET state = process_account_file.state, processed_at = v_now, run_id = v_run_id,
		error = process_account_file.error_message,
		error_detail = NULLIF(v_detail, ''), error_hint = NULLIF(v_hint, ''),
		error_sqlstate = process_account_file.error_sqlstate
	WHERE i.account_id OPERATOR(pg_catalog.=) v_account
	  AND i.file_id OPERATOR(pg_catalog.=) v_file.file_id;
END
$$;

COMMENT ON FUNCTION ptimport.process_account_file(bigint, name) IS
'imports the oldest queued file of an account unless the account is busy; used by process_next_file';

/*
 * Imports the oldest queued file of the first account that can be taken
 * now (process_account_file) and returns that file, its account and its
 * new state; a null account_id when no account has a queued file that can
 * be taken now.  Accounts are tried oldest submission first.  p_account
 * limits the search to one account, p_skip leaves accounts out.
 *
 * A call of process_account_file that fails as a whole (on Citus: the
 * account's node cannot be reached) is a worker error too: state 'retry',
 * a null file_id, and nothing recorded about any file.  When a file is
 * done or failed, a notification goes to channel ptimport_inbox at commit
 * (sent here, on the node the worker is connected to, where listeners are).
 */
CREATE OR REPLACE FUNCTION ptimport.process_next_file(
	p_account	bigint DEFAULT NULL,
	p_skip		bigint[] DEFAULT '{}',
	OUT file_id bigint,
	OUT account_id bigint,
	OUT state	text,
	OUT error_sqlstate text,
	OUT error_message text)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
	v_account	bigint;
	v_result	record;
	-- taken here: an argument Citus delegates is evaluated on the other node
	v_role		name := ptimport.acting_role();
BEGIN
	FOR v_account IN
		SELECT i.account_id
		FROM ptimport.inbox AS i
		WHERE i.state OPERATOR(pg_catalog.=) 'queued'
		  AND (p_account IS NULL OR i.account_id OPERATOR(pg_catalog.=) p_account)
		  AND i.account_id OPERATOR(pg_catalog.<>) ALL (p_skip)
		GROUP BY i.account_id
		ORDER BY pg_catalog.min(i.submitted_at), i.account_id
	LOOP
		BEGIN
			-- FROM, not PERFORM: Citus delegates only a call in FROM from PL/pgSQL
			SELECT f.* INTO v_result FROM ptimport.process_account_file(v_account, v_role) AS f;
		EXCEPTION
			WHEN query_canceled OR admin_shutdown THEN
				RAISE;
			WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS error_sqlstate = RETURNED_SQLSTATE,
										error_message = MESSAGE_TEXT;
				account_id := v_account;
				state := 'retry';
				RETURN;
		END;
		CONTINUE WHEN v_result.file_id IS NULL;

		file_id := v_result.file_id;
		account_id := v_account;
		state := v_result.state;
		error_sqlstate := v_result.error_sqlstate;
		error_message := v_result.error_message;
		IF state IN ('done', 'failed') THEN
			PERFORM pg_catalog.pg_notify('ptimport_inbox',
				pg_catalog.json_build_object('file_id', file_id, 'account_id', v_account,
											 'state', state)::text);
		END IF;
		RETURN;
	END LOOP;
END
$$;

COMMENT ON FUNCTION ptimport.process_next_file(bigint, bigint[]) IS
'imports the oldest queued file of the first account that can be locked at once; used by drain_inbox and process_inbox';

/*
 * Imports queued files, each in a transaction of its own, until the queue
 * is empty or time_budget has passed (a file in progress is finished), and
 * returns nothing.  Meant for pg_cron: CALL ptimport.drain_inbox() every
 * minute.  A crash loses at most the file in progress, which stays queued.
 * An account whose file hit a worker error is left alone for the rest of
 * the call; the call then ends with that error, so pg_cron shows it, after
 * the other accounts' files were imported.  Must be called outside a
 * transaction block, like any procedure that commits.  A procedure that
 * commits cannot have a SET clause, so it runs with the caller's
 * search_path: everything in it is schema-qualified, and it runs with the
 * caller's rights (only process_next_file runs as the owner).
 */
CREATE OR REPLACE PROCEDURE ptimport.drain_inbox(time_budget interval DEFAULT '50 seconds')
LANGUAGE plpgsql
AS $$
DECLARE
	v_deadline	pg_catalog.timestamptz := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) time_budget;
	v_account	bigint := ptimport.current_account();
	v_skip		bigint[] := '{}';
	v_file		record;
	v_failed	text;			-- the first worker error, and its SQLSTATE
	v_sqlstate	text;
BEGIN
	LOOP
		v_file := ptimport.process_next_file(v_account, v_skip);
		EXIT WHEN v_file.account_id IS NULL;
		IF v_file.state OPERATOR(pg_catalog.=) 'retry' THEN
			v_skip := v_skip OPERATOR(pg_catalog.||) v_file.account_id;
			IF v_failed IS NULL THEN
				v_failed := pg_catalog.format('file %s of account %s could not be imported now: %s',
											  v_file.file_id, v_file.account_id,
											  v_file.error_message);
				v_sqlstate := v_file.error_sqlstate;
			END IF;
		END IF;
		COMMIT;
		EXIT WHEN pg_catalog.clock_timestamp() OPERATOR(pg_catalog.>=) v_deadline;
	END LOOP;
	PERFORM ptimport.purge();
	COMMIT;
	IF v_failed IS NOT NULL THEN
		RAISE EXCEPTION USING MESSAGE = v_failed, ERRCODE = v_sqlstate,
			HINT = 'The file stays queued and is tried again by the next call.';
	END IF;
END
$$;

COMMENT ON PROCEDURE ptimport.drain_inbox(interval) IS
'imports queued inbox files, each committed on its own, until the queue is empty or time_budget has passed';

/*
 * Imports up to max_files queued files in the caller's transaction (the
 * 1.0 way, kept for existing pg_cron jobs; drain_inbox commits per file)
 * and returns how many it processed.  A worker error ends the call.
 */
CREATE OR REPLACE FUNCTION ptimport.process_inbox(max_files integer DEFAULT 10)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
	v_account	bigint := ptimport.current_account();
	v_processed integer := 0;
	v_file		record;
BEGIN
	IF max_files IS NULL OR max_files OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'max_files must be at least 1'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Leave max_files out to process up to 10 files.';
	END IF;
	WHILE v_processed OPERATOR(pg_catalog.<) max_files LOOP
		v_file := ptimport.process_next_file(v_account);
		EXIT WHEN v_file.account_id IS NULL;
		IF v_file.state OPERATOR(pg_catalog.=) 'retry' THEN
			RAISE EXCEPTION 'file % of account % could not be imported now: %',
				v_file.file_id, v_file.account_id, v_file.error_message
				USING ERRCODE = v_file.error_sqlstate,
					  HINT = 'The file stays queued and is tried again by the next call.';
		END IF;
		v_processed := v_processed OPERATOR(pg_catalog.+) 1;
	END LOOP;
	PERFORM ptimport.purge();
	RETURN v_processed;
END
$$;

/*
 * Retention: deletes what ptimport keeps of files and problem rows once it
 * has expired, and returns how much of each it deleted.
 *   - inbox contents: ptimport.inbox_retention_days after the file was
 *     processed (purge_inbox());
 *   - queued files never processed: after ptimport.log_retention_days they
 *     are marked failed and their contents deleted;
 *   - the issue log (records with their raw lines), the rows kept for
 *     failed_rows(), the undo data of revert_run() and the file names in
 *     the run log and the inbox: ptimport.log_retention_days after the run.
 * The run's counts, the inbox row and its state stay.  Runs every time the
 * inbox is processed; a superuser may call it on its own.
 */
CREATE OR REPLACE FUNCTION ptimport.purge(OUT item text, OUT purged bigint)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_now		timestamptz := clock_timestamp();
	v_expired	timestamptz;
	v_runs		bigint;
	v_table		text;
BEGIN
	-- (purge_inbox, in C, also loads the library that defines the setting)
	item := 'inbox contents';
	purged := ptimport.purge_inbox();
	RETURN NEXT;
	v_expired := v_now - make_interval(days => current_setting('ptimport.log_retention_days')::integer);

	item := 'unprocessed inbox files';
	UPDATE ptimport.inbox
	SET state = 'failed', processed_at = v_now, content = NULL, content_deleted_at = v_now,
		error = 'file was not processed within ptimport.log_retention_days'
	WHERE state = 'queued' AND submitted_at <= v_expired;
	GET DIAGNOSTICS purged = ROW_COUNT;
	RETURN NEXT;

	-- What each expired run keeps besides its counts.
	FOR item, v_table IN VALUES ('issue records', 'import_issue'),
								('rows kept for failed_rows()', 'import_row'),
								('undo data', 'run_undo') LOOP
		EXECUTE format('DELETE FROM ptimport.%I AS x USING ptimport.import_run AS r'
					   ' WHERE r.account_id = x.account_id AND r.run_id = x.run_id'
					   '   AND r.finished_at <= $1 AND r.log_purged_at IS NULL', v_table)
		USING v_expired;
		GET DIAGNOSTICS purged = ROW_COUNT;
		RETURN NEXT;
	END LOOP;

	item := 'file names';
	UPDATE ptimport.inbox SET source_name = NULL
	WHERE source_name IS NOT NULL AND processed_at <= v_expired;
	GET DIAGNOSTICS purged = ROW_COUNT;
	UPDATE ptimport.import_run SET source_name = NULL, log_purged_at = v_now
	WHERE finished_at <= v_expired AND log_purged_at IS NULL;
	GET DIAGNOSTICS v_runs = ROW_COUNT;
	purged := purged + v_runs;
	RETURN NEXT;
END
$$;

COMMENT ON FUNCTION ptimport.purge() IS
'deletes expired inbox contents, unprocessed files and the issue log, per the retention settings';

-- ---------------------------------------------------------------------------
-- Undo
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ptimport.acting_account(account_id bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'pt_acting_account'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ptimport.acting_account(bigint) IS
'the account a call acts for (the argument, else ptimport.account_id), checked against ptimport.account_access';

CREATE OR REPLACE FUNCTION ptimport.acting_role() RETURNS name
AS 'MODULE_PATHNAME', 'pt_acting_role'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION ptimport.acting_role() IS
'the role a call acts as: the session''s role outside any SECURITY DEFINER function';

CREATE OR REPLACE FUNCTION ptimport.lock_account(account_id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'pt_lock_account_sql'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ptimport.lock_account(bigint) IS
'locks the account''s row in ptimport.account (made if missing) until the transaction ends, as an import does';

/*
 * What undoing run p_run of account p_account would do to each client it
 * inserted or updated: state 'ok' (the client is as the run left it),
 * 'changed' (written since: changed_columns names the columns that no
 * longer hold what the run wrote, and is empty when another write changed
 * other columns only; a client whose old group no longer exists counts as
 * changed too) or 'deleted'.  before and after hold the values the run
 * changed (both NULL where it changed nothing), updated_at the client's
 * updated_at before the run.
 */
CREATE OR REPLACE FUNCTION ptimport.run_changes(p_account bigint, p_run bigint)
RETURNS TABLE (client_id bigint, line_no integer, inserted boolean, internal_id text,
			   state text, changed_columns text[], before ptimport.client_values,
			   after ptimport.client_values, updated_at timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	WITH u AS (
		SELECT * FROM ptimport.run_undo AS u
		WHERE u.account_id = p_account AND u.run_id = p_run),
	ch AS (
		SELECT c.client_id, i.internal_id, i.line_no, true AS inserted,
			   NULL::ptimport.client_values AS b, NULL::ptimport.client_values AS a,
			   NULL::timestamptz AS updated_at
		FROM u, ROWS FROM (unnest(u.inserted_internal_ids), unnest(u.inserted_lines))
				AS i(internal_id, line_no)
		LEFT JOIN ptimport.client AS c
		  ON c.account_id = p_account AND c.internal_id = i.internal_id
		UNION ALL
		SELECT x.client_id, NULL, l.line_no, false, x.b, x.a, x.updated_at
		FROM u, LATERAL ptimport.restores(u.updated_ids, u.before, u.after, u.updated_at_before)
					WITH ORDINALITY AS x(client_id, b, a, updated_at, n)
		JOIN LATERAL unnest(u.updated_lines) WITH ORDINALITY AS l(line_no, n) USING (n)),
	checked AS (
		SELECT ch.*, c.client_id AS current_id, COALESCE(ch.internal_id, c.internal_id) AS id,
			   c.client_id IS NULL AS gone,
			   (c.updated_at IS DISTINCT FROM u.written_at
				OR c.xmin OPERATOR(pg_catalog.<>) u.written_xmin) AS rewritten,
			   array_remove(ARRAY[
				   CASE WHEN NOT inserted AND (ch.b).first_name IS DISTINCT FROM (ch.a).first_name
							 AND c.first_name IS DISTINCT FROM (ch.a).first_name THEN 'first_name' END,
				   CASE WHEN NOT inserted AND (ch.b).last_name IS DISTINCT FROM (ch.a).last_name
							 AND c.last_name IS DISTINCT FROM (ch.a).last_name THEN 'last_name' END,
				   CASE WHEN NOT inserted AND (ch.b).birth_year IS DISTINCT FROM (ch.a).birth_year
							 AND c.birth_year IS DISTINCT FROM (ch.a).birth_year THEN 'birth_year' END,
				   CASE WHEN NOT inserted AND (ch.b).gender IS DISTINCT FROM (ch.a).gender
							 AND c.gender IS DISTINCT FROM (ch.a).gender THEN 'gender' END,
				   CASE WHEN NOT inserted AND (ch.b).email IS DISTINCT FROM (ch.a).email
							 AND c.email IS DISTINCT FROM (ch.a).email THEN 'email' END,
				   CASE WHEN NOT inserted AND (ch.b).mobile IS DISTINCT FROM (ch.a).mobile
							 AND c.mobile IS DISTINCT FROM (ch.a).mobile THEN 'mobile' END,
				   CASE WHEN NOT inserted AND (ch.b).diagnosis_code IS DISTINCT FROM (ch.a).diagnosis_code
							 AND c.diagnosis_code IS DISTINCT FROM (ch.a).diagnosis_code THEN 'diagnosis_code' END,
				   CASE WHEN NOT inserted AND (ch.b).group_id IS DISTINCT FROM (ch.a).group_id
							 AND (c.group_id IS DISTINCT FROM (ch.a).group_id
								  OR ((ch.b).group_id IS NOT NULL
									  AND NOT EXISTS (SELECT FROM ptimport.client_group AS g
													  WHERE g.account_id = p_account
														AND g.group_id = (ch.b).group_id)))
						THEN 'group_id' END], NULL) AS differing
		FROM ch CROSS JOIN u
		LEFT JOIN ptimport.client AS c
		  ON c.account_id = p_account AND c.client_id = ch.client_id)
	SELECT current_id, line_no, inserted, id,
		   CASE WHEN gone THEN 'deleted'
				WHEN rewritten OR cardinality(differing) > 0 THEN 'changed'
				ELSE 'ok' END,
		   CASE WHEN NOT gone THEN differing END,
		   b, a, updated_at
	FROM checked;
END
$$;

/*
 * The clients an undo restores, from its parallel arrays, a row each.
 * (A multi-argument unnest would spread the composite values over columns.)
 */
CREATE OR REPLACE FUNCTION ptimport.restores(
	client_ids	bigint[],
	befores		ptimport.client_values[],
	afters		ptimport.client_values[],
	updated_ats timestamptz[])
RETURNS TABLE (client_id bigint, b ptimport.client_values, a ptimport.client_values,
			   updated_at timestamptz)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT x.id, x.b::ptimport.client_values, x.a::ptimport.client_values, x.at
	FROM unnest(client_ids, befores::text[], afters::text[], updated_ats) AS x(id, b, a, at)
$$;

/*
 * Undoes import run_id of the account: the clients it inserted are
 * deleted, the values it overwrote are restored (with the clients'
 * updated_at), and the groups it created that no client uses any more are
 * deleted.  A client changed or deleted since the run is left as it is and
 * reported, as an error record with code changed_since_run; so is a client
 * whose old group is gone.  The undo is logged as a run of kind 'revert'
 * (reverts_run_id = run_id) with its records, and returns them like an
 * import.  With dry_run nothing is changed, and the records and counts are
 * the same.  The account is locked like an import's, so two undos, or an
 * undo and an import, take turns; a run is undone at most once.
 */
CREATE OR REPLACE FUNCTION ptimport.revert_run(
	run_id		bigint,
	dry_run		boolean DEFAULT false,
	account_id	bigint DEFAULT ptimport.current_account())
RETURNS TABLE (
	line_no		integer,
	internal_id text,
	severity	text,
	field		text,
	code		text,
	message		text,
	raw_line	text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	v_run_id	bigint := revert_run.run_id;
	v_dry		boolean := COALESCE(revert_run.dry_run, false);
	v_account	bigint;
	v_run		ptimport.import_run;
	v_undo		ptimport.run_undo;
	v_by		bigint;
	v_log_id	bigint;
	v_started	timestamptz := clock_timestamp();
	v_total		bigint;
	v_deleted	bigint;
	v_restored	bigint;
	v_conflicts bigint;
	v_groups	bigint[];
	v_delete	bigint[];		-- the clients to delete (inserted, not changed since)
	v_restore	bigint[];		-- the clients to restore, with ...
	v_before	ptimport.client_values[];	-- ... their values before,
	v_after		ptimport.client_values[];	-- ... those the run wrote,
	v_updated_at timestamptz[];	-- ... and their updated_at before
	v_regrouped bigint[];		-- the restored clients whose group is restored,
	v_old_groups bigint[];		-- ... and the groups they go back to
	v_conflict_lines integer[];
	v_conflict_ids text[];
	v_conflict_messages text[];
BEGIN
	IF v_run_id IS NULL THEN
		RAISE EXCEPTION 'run_id must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	v_account := ptimport.acting_account(revert_run.account_id);

	-- Take turns with imports and other undos of the account.
	PERFORM ptimport.lock_account(v_account);

	SELECT * INTO v_run FROM ptimport.import_run AS r
	WHERE r.account_id = v_account AND r.run_id = v_run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % is not a run of account %', v_run_id, v_account
			USING ERRCODE = 'undefined_object',
				  HINT = 'The account''s runs are in ptimport.account_runs.';
	END IF;
	IF v_run.kind <> 'import' OR v_run.dry_run THEN
		RAISE EXCEPTION 'run % did not import clients, so there is nothing to undo', v_run_id
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('It is a%s %s run.', CASE WHEN v_run.dry_run THEN ' dry' ELSE 'n' END,
								  v_run.kind);
	END IF;
	SELECT r.run_id INTO v_by FROM ptimport.import_run AS r
	WHERE r.account_id = v_account AND r.reverts_run_id = v_run_id AND NOT r.dry_run;
	IF FOUND THEN
		RAISE EXCEPTION 'run % was undone already, by run %', v_run_id, v_by
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	SELECT * INTO v_undo FROM ptimport.run_undo AS u
	WHERE u.account_id = v_account AND u.run_id = v_run_id;
	IF NOT FOUND THEN
		IF v_run.log_purged_at IS NOT NULL THEN
			RAISE EXCEPTION 'run % can no longer be undone', v_run_id
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = format('What undoing it needs was purged with the rest of the run''s log, after ptimport.log_retention_days (%s days).',
									  current_setting('ptimport.log_retention_days'));
		END IF;
		IF v_run.rows_inserted + v_run.rows_updated = 0 THEN
			RAISE EXCEPTION 'run % changed no client, so there is nothing to undo', v_run_id
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		RAISE EXCEPTION 'run % cannot be undone', v_run_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'ptimport kept no undo data for it: it was imported by ptimport 1.0, or its file had more rows than ptimport.undo_max_rows.';
	END IF;

	/*
	 * What to do, read once into arrays: each statement below then names
	 * the account's rows by id (on Citus a statement cannot join a
	 * function's rows with the distributed tables).
	 */
	SELECT count(*),
		   COALESCE(array_agg(ch.client_id) FILTER (WHERE ch.inserted AND ch.state = 'ok'), '{}'),
		   COALESCE(array_agg(ch.client_id) FILTER (WHERE NOT ch.inserted AND ch.state = 'ok'), '{}'),
		   COALESCE(array_agg(ch.before) FILTER (WHERE NOT ch.inserted AND ch.state = 'ok'), '{}'),
		   COALESCE(array_agg(ch.after) FILTER (WHERE NOT ch.inserted AND ch.state = 'ok'), '{}'),
		   COALESCE(array_agg(ch.updated_at) FILTER (WHERE NOT ch.inserted AND ch.state = 'ok'), '{}'),
		   COALESCE(array_agg(ch.client_id) FILTER (WHERE NOT ch.inserted AND ch.state = 'ok'
													AND (ch.before).group_id IS DISTINCT FROM (ch.after).group_id), '{}'),
		   COALESCE(array_agg((ch.before).group_id) FILTER (WHERE NOT ch.inserted AND ch.state = 'ok'
															AND (ch.before).group_id IS DISTINCT FROM (ch.after).group_id
															AND (ch.before).group_id IS NOT NULL), '{}'),
		   COALESCE(array_agg(ch.line_no ORDER BY ch.line_no) FILTER (WHERE ch.state <> 'ok'), '{}'),
		   COALESCE(array_agg(ch.internal_id ORDER BY ch.line_no) FILTER (WHERE ch.state <> 'ok'), '{}'),
		   COALESCE(array_agg(
			   CASE WHEN ch.state = 'deleted' THEN
						format('This client was deleted after run %s, so there is nothing to undo.',
							   v_run_id)
					WHEN cardinality(ch.changed_columns) > 0 THEN
						format('This client was changed after run %s (%s), so it was left as it is.',
							   v_run_id, array_to_string(ch.changed_columns, ', '))
					ELSE format('This client was changed after run %s, so it was left as it is.',
								v_run_id) END
			   ORDER BY ch.line_no) FILTER (WHERE ch.state <> 'ok'), '{}')
	INTO v_total, v_delete, v_restore, v_before, v_after, v_updated_at, v_regrouped, v_old_groups,
		 v_conflict_lines, v_conflict_ids, v_conflict_messages
	FROM ptimport.run_changes(v_account, v_run_id) AS ch;

	-- The groups it created that no client would use any more: neither a
	-- client that stays as it is nor one whose old group is restored.
	SELECT COALESCE(array_agg(g.group_id ORDER BY g.group_id), '{}') INTO v_groups
	FROM ptimport.client_group AS g
	WHERE g.account_id = v_account AND g.group_id = ANY (v_undo.created_group_ids)
	  AND g.group_id <> ALL (v_old_groups)
	  AND NOT EXISTS (
		SELECT FROM ptimport.client AS c
		WHERE c.account_id = v_account AND c.group_id = g.group_id
		  AND c.client_id <> ALL (v_delete) AND c.client_id <> ALL (v_regrouped));
	v_deleted := cardinality(v_delete);
	v_restored := cardinality(v_restore);
	v_conflicts := cardinality(v_conflict_lines);

	INSERT INTO ptimport.import_run AS r (account_id, source_name, dry_run, started_at,
		finished_at, rows_total, rows_inserted, rows_updated, rows_unchanged, rows_failed,
		rows_warned, groups_created, run_by, kind, reverts_run_id, rows_deleted, groups_deleted)
	VALUES (v_account, v_run.source_name, v_dry, v_started, clock_timestamp(), v_total, 0,
			v_restored, 0, v_conflicts, 0, 0, ptimport.acting_role(), 'revert', v_run_id,
			v_deleted, cardinality(v_groups))
	RETURNING r.run_id INTO v_log_id;

	INSERT INTO ptimport.import_issue AS i (run_id, account_id, line_no, internal_id, severity,
		field, code, message, raw_line)
	SELECT v_log_id, v_account, x.line_no, x.internal_id, 'error', NULL, 'changed_since_run',
		   x.message, ''
	FROM unnest(v_conflict_lines, v_conflict_ids, v_conflict_messages)
		 AS x(line_no, internal_id, message);

	IF NOT v_dry THEN
		DELETE FROM ptimport.client AS c
		WHERE c.account_id = v_account AND c.client_id = ANY (v_delete);

		UPDATE ptimport.client AS c
		SET first_name = COALESCE((x.b).first_name, c.first_name),
			last_name = COALESCE((x.b).last_name, c.last_name),
			birth_year = COALESCE((x.b).birth_year, c.birth_year),
			gender = COALESCE((x.b).gender, c.gender),
			email = CASE WHEN (x.b).email IS DISTINCT FROM (x.a).email
						 THEN (x.b).email ELSE c.email END,
			mobile = CASE WHEN (x.b).mobile IS DISTINCT FROM (x.a).mobile
						  THEN (x.b).mobile ELSE c.mobile END,
			diagnosis_code = CASE WHEN (x.b).diagnosis_code IS DISTINCT FROM (x.a).diagnosis_code
								  THEN (x.b).diagnosis_code ELSE c.diagnosis_code END,
			group_id = CASE WHEN (x.b).group_id IS DISTINCT FROM (x.a).group_id
							THEN (x.b).group_id ELSE c.group_id END,
			updated_at = x.updated_at
		FROM ptimport.restores(v_restore, v_before, v_after, v_updated_at) AS x
		WHERE c.account_id = v_account AND c.client_id = x.client_id;

		DELETE FROM ptimport.client_group AS g
		WHERE g.account_id = v_account AND g.group_id = ANY (v_groups);
	END IF;

	RAISE NOTICE '% run %: % deleted, % restored; % left as % changed since; % deleted',
		CASE WHEN v_dry THEN 'would undo' ELSE 'undid' END, v_run_id,
		v_deleted || CASE WHEN v_deleted = 1 THEN ' client' ELSE ' clients' END,
		v_restored, v_conflicts, CASE WHEN v_conflicts = 1 THEN 'it was' ELSE 'they were' END,
		cardinality(v_groups) || CASE WHEN cardinality(v_groups) = 1 THEN ' group' ELSE ' groups' END
		USING DETAIL = format('The undo is logged as run_id %s in ptimport.import_run%s.', v_log_id,
							  CASE WHEN v_dry THEN '; nothing was changed' ELSE '' END);

	RETURN QUERY
	SELECT i.line_no, i.internal_id, i.severity, i.field, i.code, i.message, i.raw_line
	FROM ptimport.import_issue AS i
	WHERE i.account_id = v_account AND i.run_id = v_log_id
	ORDER BY i.line_no;
END
$$;

COMMENT ON FUNCTION ptimport.revert_run(bigint, boolean, bigint) IS
'undoes an import: deletes the clients it inserted, restores the values it overwrote, and reports clients changed since';

-- ---------------------------------------------------------------------------
-- Failed rows as a file
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ptimport.failed_rows(
	run_id		bigint,
	include_warnings boolean DEFAULT false,
	account_id	bigint DEFAULT ptimport.current_account())
RETURNS bytea
AS 'MODULE_PATHNAME', 'pt_failed_rows'
LANGUAGE C STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION ptimport.failed_rows(bigint, boolean, bigint) IS
'the rows of a run that were not imported, as a CSV file to fix and import again, with an Error column';

-- ---------------------------------------------------------------------------
-- Personal data: erasure
-- ---------------------------------------------------------------------------

/*
 * Whether a file names a client: true when a value of one of its rows,
 * decoded and split as the import would (encoding, delimiter), is that
 * internal_id.  A file that cannot be decoded is searched for the id's bytes.
 */
CREATE OR REPLACE FUNCTION ptimport.file_mentions(
	content		bytea,
	encoding	text,
	delimiter	text,
	columns		text[],
	internal_id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pt_file_mentions'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION ptimport.file_mentions(bytea, text, text, text[], text) IS
'whether a client file has a row with this internal_id, read as the import reads it';

/* An internal_id as the issue log keeps it: masked if it looks like a national id. */
CREATE OR REPLACE FUNCTION ptimport.mask_internal_id(internal_id text)
RETURNS text
AS 'MODULE_PATHNAME', 'pt_mask_internal_id'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ptimport.mask_internal_id(text) IS
'an internal_id as the issue log keeps it: masked when it looks like an NHS or social security number';

/*
 * Erases a client: deletes it, and removes what ptimport keeps of it
 * elsewhere: its issue records (with their raw lines) and kept rows, its
 * entries in the undo data, and the contents of inbox files that name it
 * (a queued file among them is failed, so that it cannot bring the client
 * back).  Logged as a run of kind 'erase' that holds no personal data.
 * Returns how much of each it erased.
 */
CREATE OR REPLACE FUNCTION ptimport.erase_client(
	account_id	bigint,
	internal_id text,
	OUT item	text,
	OUT erased	bigint)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	v_account	bigint;
	v_id		text := erase_client.internal_id;
	v_masked	text;
	v_client	bigint;
	v_now		timestamptz := clock_timestamp();
	v_count		bigint;
	v_files		bigint[];
BEGIN
	IF v_id IS NULL THEN
		RAISE EXCEPTION 'internal_id must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	v_account := ptimport.acting_account(erase_client.account_id);
	v_masked := ptimport.mask_internal_id(v_id);

	-- Take turns with imports, so that none brings the client back meanwhile.
	PERFORM ptimport.lock_account(v_account);

	item := 'client';
	DELETE FROM ptimport.client AS c
	WHERE c.account_id = v_account AND c.internal_id = v_id
	RETURNING c.client_id INTO v_client;
	erased := CASE WHEN v_client IS NULL THEN 0 ELSE 1 END;
	RETURN NEXT;

	item := 'issue records';
	DELETE FROM ptimport.import_issue AS i
	WHERE i.account_id = v_account AND i.internal_id IN (v_id, v_masked);
	GET DIAGNOSTICS erased = ROW_COUNT;
	RETURN NEXT;

	item := 'rows kept for failed_rows()';
	DELETE FROM ptimport.import_row AS r
	WHERE r.account_id = v_account AND r.internal_id IN (v_id, v_masked);
	GET DIAGNOSTICS erased = ROW_COUNT;
	RETURN NEXT;

	item := 'undo entries';
	-- The client's entry, at position p of each of the run's parallel
	-- arrays, is cut out of them (a run inserts an internal_id, and updates
	-- a client, at most once).
	UPDATE ptimport.run_undo AS u
	SET inserted_internal_ids = u.inserted_internal_ids[:x.p - 1] || u.inserted_internal_ids[x.p + 1:],
		inserted_lines = u.inserted_lines[:x.p - 1] || u.inserted_lines[x.p + 1:]
	FROM (SELECT u2.run_id, array_position(u2.inserted_internal_ids, v_id) AS p
		  FROM ptimport.run_undo AS u2
		  WHERE u2.account_id = v_account AND v_id = ANY (u2.inserted_internal_ids)) AS x
	WHERE u.account_id = v_account AND u.run_id = x.run_id;
	GET DIAGNOSTICS erased = ROW_COUNT;
	IF v_client IS NOT NULL THEN
		UPDATE ptimport.run_undo AS u
		SET updated_ids = u.updated_ids[:x.p - 1] || u.updated_ids[x.p + 1:],
			updated_lines = u.updated_lines[:x.p - 1] || u.updated_lines[x.p + 1:],
			updated_at_before = u.updated_at_before[:x.p - 1] || u.updated_at_before[x.p + 1:],
			before = u.before[:x.p - 1] || u.before[x.p + 1:],
			after = u.after[:x.p - 1] || u.after[x.p + 1:]
		FROM (SELECT u2.run_id, array_position(u2.updated_ids, v_client) AS p
			  FROM ptimport.run_undo AS u2
			  WHERE u2.account_id = v_account AND v_client = ANY (u2.updated_ids)) AS x
		WHERE u.account_id = v_account AND u.run_id = x.run_id;
		GET DIAGNOSTICS v_count = ROW_COUNT;
		erased := erased + v_count;
	END IF;
	RETURN NEXT;

	item := 'inbox files';
	-- the files first, then the UPDATE: Citus refuses a STABLE function
	-- of the rows' columns in an UPDATE of a distributed table
	SELECT COALESCE(pg_catalog.array_agg(i.file_id), '{}') INTO v_files
	FROM ptimport.inbox AS i
	WHERE i.account_id = v_account AND i.content IS NOT NULL
	  AND ptimport.file_mentions(i.content, i.encoding, i.delimiter, i.columns, v_id);
	UPDATE ptimport.inbox AS i
	SET content = NULL, content_deleted_at = v_now,
		state = CASE WHEN i.state = 'queued' THEN 'failed' ELSE i.state END,
		processed_at = COALESCE(i.processed_at, v_now),
		error = CASE WHEN i.state = 'queued'
					 THEN 'the file names a client that was erased, so it was not imported'
					 ELSE i.error END,
		error_hint = CASE WHEN i.state = 'queued'
						  THEN 'Submit the file again without that client.'
						  ELSE i.error_hint END
	WHERE i.account_id = v_account AND i.file_id = ANY (v_files);
	GET DIAGNOSTICS erased = ROW_COUNT;
	RETURN NEXT;

	INSERT INTO ptimport.import_run AS r (account_id, dry_run, started_at, finished_at,
		rows_total, rows_inserted, rows_updated, rows_unchanged, rows_failed, rows_warned,
		groups_created, run_by, kind, rows_deleted)
	VALUES (v_account, false, v_now, clock_timestamp(), 1, 0, 0, 0, 0, 0, 0,
			ptimport.acting_role(), 'erase', CASE WHEN v_client IS NULL THEN 0 ELSE 1 END);
END
$$;

COMMENT ON FUNCTION ptimport.erase_client(bigint, text) IS
'deletes a client and every trace of its personal data in ptimport''s tables';

-- ---------------------------------------------------------------------------
-- Privileges
--
-- Nothing is open to PUBLIC.  A superuser gives an application role what
-- it needs with grant_app(), the inbox worker with grant_worker(), and
-- the accounts a role may act for with grant_account().  These functions
-- hold the only lists of privileges; the README and the tests call them.
-- ---------------------------------------------------------------------------

/*
 * 1.0 told DBAs to grant application roles INSERT and UPDATE on the
 * tables; in 1.1 only the extension's functions write them, so every table
 * privilege of other roles is revoked here (they use the views).
 */
DO $$
DECLARE
	r	record;
BEGIN
	FOR r IN
		SELECT DISTINCT c.relname AS tab, a.grantee::pg_catalog.regrole AS grantee
		FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
		WHERE c.relnamespace OPERATOR(pg_catalog.=) 'ptimport'::pg_catalog.regnamespace
		  AND c.relkind IN ('r', 'S')
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
		  AND a.grantee OPERATOR(pg_catalog.<>) 0
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON ptimport.%I FROM %s', r.tab, r.grantee);
		RAISE WARNING 'revoked the privileges of role % on ptimport.%', r.grantee, r.tab
			USING HINT = 'In 1.1 only ptimport''s functions write its tables: give an application role what it needs with SELECT ptimport.grant_app(''role'') and ptimport.grant_account(''role'', account), the inbox worker with SELECT ptimport.grant_worker(''role'').';
	END LOOP;
END
$$;

/* Grants an application role what it needs; the accounts are granted apart. */
CREATE OR REPLACE FUNCTION ptimport.grant_app(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET citus.enable_ddl_propagation = off
AS $$
BEGIN
	EXECUTE format('GRANT USAGE ON SCHEMA ptimport TO %s', role);
	EXECUTE format('GRANT EXECUTE ON FUNCTION'
				   ' ptimport.pt_import_clients(bytea, bigint, boolean, text, text, text, text[], text),'
				   ' ptimport.submit(bytea, bigint, text, text, text, text[], text),'
				   ' ptimport.revert_run(bigint, boolean, bigint),'
				   ' ptimport.erase_client(bigint, text),'
				   ' ptimport.failed_rows(bigint, boolean, bigint),'
				   ' ptimport.last_run_id(), ptimport.current_account()'
				   ' TO %s', role);
	EXECUTE format('GRANT SELECT ON ptimport.account_clients, ptimport.account_groups,'
				   ' ptimport.account_runs, ptimport.account_issues, ptimport.inbox_status'
				   ' TO %s', role);
	/*
	 * On Citus, the same privileges on every node.  sync_grants() copies
	 * all of them; Citus's own forwarding of some (the SET clause above
	 * turns it off) would hold the workers' catalog rows that the copy
	 * must change, and the two would wait for each other.
	 */
	IF ptimport.is_distributed() THEN
		PERFORM ptimport.sync_grants();
	END IF;
END
$$;

COMMENT ON FUNCTION ptimport.grant_app(regrole) IS
'grants an application role the functions and views it needs (and no table privilege)';

/* Grants the inbox worker what it needs, and every account. */
CREATE OR REPLACE FUNCTION ptimport.grant_worker(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET citus.enable_ddl_propagation = off
AS $$
BEGIN
	EXECUTE format('GRANT USAGE ON SCHEMA ptimport TO %s', role);
	EXECUTE format('GRANT EXECUTE ON FUNCTION ptimport.process_inbox(integer),'
				   ' ptimport.process_next_file(bigint, bigint[]), ptimport.purge(),'
				   ' ptimport.current_account()'
				   ' TO %s', role);
	EXECUTE format('GRANT EXECUTE ON PROCEDURE ptimport.drain_inbox(interval) TO %s', role);
	PERFORM ptimport.grant_account(role, NULL);
	IF ptimport.is_distributed() THEN
		PERFORM ptimport.sync_grants();
	END IF;
END
$$;

COMMENT ON FUNCTION ptimport.grant_worker(regrole) IS
'grants the inbox worker role the functions it needs and every account';

/* Lets role act for account_id (NULL: for every account). */
CREATE OR REPLACE FUNCTION ptimport.grant_account(role regrole, account_id bigint)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO ptimport.account_access (role_name, account_id)
	VALUES (pg_catalog.pg_get_userbyid(grant_account.role), grant_account.account_id)
	ON CONFLICT ON CONSTRAINT account_access_key DO NOTHING;
END;

COMMENT ON FUNCTION ptimport.grant_account(regrole, bigint) IS
'lets a role act for an account (NULL: every account)';

/* Takes back a grant of grant_account (NULL: the grant of every account). */
CREATE OR REPLACE FUNCTION ptimport.revoke_account(role regrole, account_id bigint)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	DELETE FROM ptimport.account_access AS a
	WHERE a.role_name OPERATOR(pg_catalog.=) pg_catalog.pg_get_userbyid(revoke_account.role)
	  AND a.account_id IS NOT DISTINCT FROM revoke_account.account_id;
END;

COMMENT ON FUNCTION ptimport.revoke_account(regrole, bigint) IS
'takes back a grant of grant_account';

REVOKE ALL ON FUNCTION ptimport.process_next_file(bigint, bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.process_account_file(bigint, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.acting_account(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.acting_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.lock_account(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.run_changes(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.restores(bigint[], ptimport.client_values[], ptimport.client_values[], timestamptz[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.revert_run(bigint, boolean, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.erase_client(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.failed_rows(bigint, boolean, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.file_mentions(bytea, text, text, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.mask_internal_id(text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE ptimport.drain_inbox(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.purge() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.grant_app(regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.grant_worker(regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.grant_account(regrole, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.revoke_account(regrole, bigint) FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA ptimport FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Citus
--
-- On a Citus cluster a superuser runs SELECT * FROM ptimport.distribute()
-- on the coordinator after CREATE EXTENSION citus and CREATE EXTENSION
-- ptimport, and again after adding a node or updating ptimport.  Nothing
-- here needs Citus until it is called: on a single node these functions
-- exist, are granted to no one, and distribute() says Citus is missing.
-- Citus's own functions and catalogs are reached with EXECUTE, so that
-- this script and the functions' bodies are valid without Citus.
-- ---------------------------------------------------------------------------

/* True when Citus is installed and ptimport's tables are distributed. */
CREATE OR REPLACE FUNCTION ptimport.is_distributed()
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_distributed boolean;
BEGIN
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p'
			' WHERE p.logicalrelid OPERATOR(pg_catalog.=) ''ptimport.account''::pg_catalog.regclass)'
		INTO v_distributed;
	RETURN v_distributed;
END
$$;

COMMENT ON FUNCTION ptimport.is_distributed() IS
'true when ptimport''s tables are distributed by Citus (ptimport.distribute() has run)';

/*
 * Ids unique across the nodes of a cluster.  The identity columns of an
 * extension's tables keep a sequence of their own on every node, each
 * starting at 1, and a delegated import takes its ids on the node that
 * runs it.  So each node draws from its own range of 2^48 ids: the node of
 * Citus group g from g * 2^48 + 1 on (the coordinator, group 0, keeps 1 to
 * 2^48, and with it the ids of a database that was distributed later).
 * This moves every sequence of the schema that is still below the node's
 * range to its start, and returns how many it moved; it never moves one
 * back.  Runs when this script runs on a node (CREATE EXTENSION or ALTER
 * EXTENSION UPDATE, which Citus also runs on a node it adds: the node's
 * group is known by then) and from distribute() on every node.
 */
CREATE OR REPLACE FUNCTION ptimport.claim_id_range()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group		bigint;
	v_start		bigint;
	v_seq		regclass;
	v_moved		integer := 0;
BEGIN
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_local_group') IS NULL THEN
		RETURN 0;
	END IF;
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group IS NULL OR v_group OPERATOR(pg_catalog.<=) 0 THEN
		RETURN 0;
	END IF;
	v_start := v_group OPERATOR(pg_catalog.<<) 48;
	FOR v_seq IN
		SELECT c.oid::regclass
		FROM pg_catalog.pg_class AS c
		WHERE c.relnamespace OPERATOR(pg_catalog.=) 'ptimport'::regnamespace
		  AND c.relkind OPERATOR(pg_catalog.=) 'S'
		ORDER BY c.relname
	LOOP
		IF COALESCE(pg_catalog.pg_sequence_last_value(v_seq), 0) OPERATOR(pg_catalog.<) v_start THEN
			PERFORM pg_catalog.setval(v_seq, v_start, true);
			v_moved := v_moved OPERATOR(pg_catalog.+) 1;
		END IF;
	END LOOP;
	RETURN v_moved;
END
$$;

COMMENT ON FUNCTION ptimport.claim_id_range() IS
'moves this node''s ptimport sequences into the node''s own range of ids (Citus group * 2^48)';

SELECT ptimport.claim_id_range();

/*
 * Citus moves shards between nodes (citus_rebalance_start(), a node added)
 * by logical replication, which needs a replica identity: a table without
 * a primary key (import_issue, account_access) identifies its rows by all
 * their columns.  Only logical decoding reads it; other servers write the
 * same WAL as before.
 */
DO $$
DECLARE
	v_table		regclass;
BEGIN
	FOR v_table IN
		SELECT c.oid::regclass
		FROM pg_catalog.pg_class AS c
		WHERE c.relnamespace OPERATOR(pg_catalog.=) 'ptimport'::regnamespace
		  AND c.relkind OPERATOR(pg_catalog.=) 'r'
		  AND c.relreplident OPERATOR(pg_catalog.=) 'd'
		  AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS k
						  WHERE k.conrelid OPERATOR(pg_catalog.=) c.oid
							AND k.contype OPERATOR(pg_catalog.=) 'p')
	LOOP
		EXECUTE pg_catalog.format('ALTER TABLE %s REPLICA IDENTITY FULL', v_table);
	END LOOP;
END
$$;

/*
 * The privileges on ptimport's objects, as this node has them: the schema,
 * every table, view and sequence of the extension, every function and
 * procedure.  object_name is what GRANT takes after object_kind; acl is
 * never null (a null ACL is written out as its default).
 */
CREATE OR REPLACE FUNCTION ptimport.object_acls(OUT object_kind text, OUT object_name text,
												OUT acl aclitem[])
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT 'SCHEMA', pg_catalog.quote_ident(n.nspname),
		   COALESCE(n.nspacl, pg_catalog.acldefault('n'::"char", n.nspowner))
	FROM pg_catalog.pg_namespace AS n
	WHERE n.nspname OPERATOR(pg_catalog.=) 'ptimport'
	UNION ALL
	SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
		   c.oid::regclass::text,
		   COALESCE(c.relacl, pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's'::"char" ELSE 'r'::"char" END,
													c.relowner))
	FROM pg_catalog.pg_class AS c
	WHERE c.relnamespace OPERATOR(pg_catalog.=) 'ptimport'::regnamespace
	  AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
	UNION ALL
	SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
		   p.oid::regprocedure::text,
		   COALESCE(p.proacl, pg_catalog.acldefault('f'::"char", p.proowner))
	FROM pg_catalog.pg_proc AS p
	WHERE p.pronamespace OPERATOR(pg_catalog.=) 'ptimport'::regnamespace;
END;

/*
 * Gives each named object the privileges acl (aclitem[] as text: roles by
 * name, so it reads the same on every node), granting what is missing and
 * revoking what is not in it; returns how many grants and revokes it made.
 * Run on a worker by sync_grants().  Citus would refuse (or forward) a GRANT
 * made on a worker, so its propagation is off for this transaction.
 */
CREATE OR REPLACE FUNCTION ptimport.apply_acls(object_kinds text[], object_names text[],
											   acls text[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i			integer;
	v_have		aclitem[];
	r			record;
	v_changes	integer := 0;
BEGIN
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
	FOR i IN 1 .. COALESCE(pg_catalog.array_length(object_names, 1), 0) LOOP
		SELECT o.acl INTO v_have
		FROM ptimport.object_acls() AS o
		WHERE o.object_kind OPERATOR(pg_catalog.=) object_kinds[i]
		  AND o.object_name OPERATOR(pg_catalog.=) object_names[i];
		CONTINUE WHEN NOT FOUND;	-- not on this node (yet): nothing to do
		FOR r IN
			WITH want AS (SELECT a.grantee, a.privilege_type, a.is_grantable
						  FROM pg_catalog.aclexplode(acls[i]::aclitem[]) AS a),
				 have AS (SELECT a.grantee, a.privilege_type, a.is_grantable
						  FROM pg_catalog.aclexplode(v_have) AS a)
			SELECT 'REVOKE' AS verb, h.* FROM (TABLE have EXCEPT TABLE want) AS h
			UNION ALL
			SELECT 'GRANT', w.* FROM (TABLE want EXCEPT TABLE have) AS w
			ORDER BY 1 DESC
		LOOP
			EXECUTE pg_catalog.format('%s %s ON %s %s %s %s%s',
				r.verb, r.privilege_type, object_kinds[i], object_names[i],
				CASE r.verb WHEN 'GRANT' THEN 'TO' ELSE 'FROM' END,
				CASE r.grantee WHEN 0 THEN 'PUBLIC'
					ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.grantee)) END,
				CASE WHEN r.verb OPERATOR(pg_catalog.=) 'GRANT' AND r.is_grantable
					THEN ' WITH GRANT OPTION' ELSE '' END);
			v_changes := v_changes OPERATOR(pg_catalog.+) 1;
		END LOOP;
	END LOOP;
	RETURN v_changes;
END
$$;

COMMENT ON FUNCTION ptimport.apply_acls(text[], text[], text[]) IS
'sets the privileges of ptimport''s objects on this node to the given ones (used by sync_grants)';

/*
 * The views an application reads, on Citus.  Citus runs a query on a
 * distributed table with the querying role's rights on the shards, also
 * when the table is reached through a view (citus#1683, citus#6161), so a
 * role with SELECT on the views only, as grant_app() makes it, would be
 * refused; and the views' filter, current_account(), would be evaluated
 * on the workers, where the session's ptimport.account_id is not set.  So
 * on this node each view of the extension that filters by
 * current_account() is made to read through a SECURITY DEFINER function
 * <view>_rows(), whose body is the view's own query with the account
 * taken once, here: the query then goes to the account's one shard, with
 * the owner's rights.  The view keeps its name, columns and privileges;
 * the function may be executed by the roles that may read the view
 * (sync_grants()).  Returns how many views it wrapped; a view wrapped
 * already is left alone, one that an update of ptimport replaced is
 * wrapped again.  Run on every node by distribute().
 */
CREATE OR REPLACE FUNCTION ptimport.wrap_views()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v			record;
	v_def		text;
	v_body		text;
	v_func		text;
	v_columns	text;
	v_select	text;
	v_wrapped	integer := 0;
BEGIN
	-- each node wraps its own views; Citus would forward the DDL
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
	FOR v IN
		SELECT c.oid::regclass AS view, c.relname
		FROM pg_catalog.pg_class AS c
		JOIN pg_catalog.pg_depend AS d
		  ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
		 AND d.objid OPERATOR(pg_catalog.=) c.oid
		 AND d.deptype OPERATOR(pg_catalog.=) 'e'
		JOIN pg_catalog.pg_extension AS e
		  ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'ptimport'
		WHERE c.relkind OPERATOR(pg_catalog.=) 'v'
		ORDER BY c.relname
	LOOP
		-- names come out qualified: this function's search_path is pg_catalog
		v_def := pg_catalog.rtrim(pg_catalog.pg_get_viewdef(v.view), ';');
		CONTINUE WHEN pg_catalog.strpos(v_def, 'ptimport.current_account()') OPERATOR(pg_catalog.=) 0;
		v_body := pg_catalog.replace(v_def, 'ptimport.current_account()', 'v_account');
		v_func := v.relname || '_rows';

		SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname,
							pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum),
			   pg_catalog.string_agg(CASE WHEN a.attcollation OPERATOR(pg_catalog.=) t.typcollation
										  THEN pg_catalog.format('r.%I', a.attname)
										  ELSE pg_catalog.format('r.%1$I COLLATE %2$s AS %1$I', a.attname,
																 a.attcollation::regcollation)
									 END, ', ' ORDER BY a.attnum)
		INTO v_columns, v_select
		FROM pg_catalog.pg_attribute AS a
		JOIN pg_catalog.pg_type AS t ON t.oid OPERATOR(pg_catalog.=) a.atttypid
		WHERE a.attrelid OPERATOR(pg_catalog.=) v.view AND a.attnum OPERATOR(pg_catalog.>) 0
		  AND NOT a.attisdropped;

		EXECUTE pg_catalog.format('DROP FUNCTION IF EXISTS ptimport.%I()', v_func);
		EXECUTE pg_catalog.format(
			'CREATE FUNCTION ptimport.%I() RETURNS TABLE (%s)'
			' LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp'
			' AS %L', v_func, v_columns,
			E'#variable_conflict use_column\n'
			'DECLARE\n\tv_account bigint := ptimport.current_account();\n'
			'BEGIN\n\tIF v_account IS NOT NULL THEN\n\t\tRETURN QUERY ' || v_body ||
			E';\n\tEND IF;\nEND');
		EXECUTE pg_catalog.format('COMMENT ON FUNCTION ptimport.%I() IS %L', v_func,
			pg_catalog.format('the rows of view %s, read with its owner''s rights (made by ptimport.wrap_views() on Citus)', v.view));
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION ptimport.%I() FROM PUBLIC', v_func);
		EXECUTE pg_catalog.format('ALTER EXTENSION ptimport ADD FUNCTION ptimport.%I()', v_func);
		EXECUTE pg_catalog.format('CREATE OR REPLACE VIEW %s WITH (security_barrier) AS'
								  ' SELECT %s FROM ptimport.%I() AS r', v.view, v_select, v_func);
		v_wrapped := v_wrapped OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN v_wrapped;
END
$$;

COMMENT ON FUNCTION ptimport.wrap_views() IS
'on Citus, makes the application views read through SECURITY DEFINER functions, on this node';

/*
 * Lets every role that may read a wrapped view execute its <view>_rows()
 * function, and no other role (on this node); returns how many grants and
 * revokes it made.
 */
CREATE OR REPLACE FUNCTION ptimport.align_view_functions()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_kinds		text[];
	v_names		text[];
	v_acls		text[];
BEGIN
	SELECT pg_catalog.array_agg('FUNCTION'::text), pg_catalog.array_agg(f.func::text),
		   pg_catalog.array_agg(f.acl::text)
	INTO v_kinds, v_names, v_acls
	FROM (SELECT p.oid::regprocedure AS func,
				 ARRAY[pg_catalog.makeaclitem(p.proowner, p.proowner, 'EXECUTE', false)] OPERATOR(pg_catalog.||)
				 ARRAY(SELECT DISTINCT pg_catalog.makeaclitem(a.grantee, p.proowner, 'EXECUTE', false)
					   FROM pg_catalog.aclexplode(c.relacl) AS a
					   WHERE a.privilege_type OPERATOR(pg_catalog.=) 'SELECT'
						 AND a.grantee OPERATOR(pg_catalog.<>) p.proowner) AS acl
		  FROM pg_catalog.pg_class AS c
		  JOIN pg_catalog.pg_proc AS p
			ON p.pronamespace OPERATOR(pg_catalog.=) c.relnamespace
		   AND p.proname OPERATOR(pg_catalog.=) (c.relname::text OPERATOR(pg_catalog.||) '_rows')
		   AND p.pronargs OPERATOR(pg_catalog.=) 0
		  WHERE c.relnamespace OPERATOR(pg_catalog.=) 'ptimport'::regnamespace
			AND c.relkind OPERATOR(pg_catalog.=) 'v') AS f;
	RETURN ptimport.apply_acls(v_kinds, v_names, v_acls);
END
$$;

COMMENT ON FUNCTION ptimport.align_view_functions() IS
'lets the roles that may read a view wrapped by wrap_views() execute its function';

/*
 * Copies the privileges of every ptimport object from the coordinator to
 * every worker and returns how many grants and revokes that took.  Citus
 * forwards GRANTs on the schema and on delegated functions by itself, but
 * not on the extension's views, tables and other functions (it leaves
 * objects of an extension to the extension), nor to a node added later.
 * Called by distribute(), grant_app() and grant_worker().
 */
CREATE OR REPLACE FUNCTION ptimport.sync_grants()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_command	text;
	r			record;
	v_changes	integer := 0;
BEGIN
	v_changes := ptimport.align_view_functions();
	SELECT pg_catalog.format('SELECT ptimport.apply_acls(%L, %L, %L)',
							 pg_catalog.array_agg(o.object_kind ORDER BY o.object_kind, o.object_name),
							 pg_catalog.array_agg(o.object_name ORDER BY o.object_kind, o.object_name),
							 pg_catalog.array_agg(o.acl::text ORDER BY o.object_kind, o.object_name))
	INTO v_command
	FROM ptimport.object_acls() AS o;
	FOR r IN EXECUTE 'SELECT nodename, nodeport, success, result'
					 ' FROM pg_catalog.run_command_on_workers($1)' USING v_command
	LOOP
		IF NOT r.success THEN
			RAISE EXCEPTION 'could not copy ptimport''s privileges to node %:%', r.nodename, r.nodeport
				USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = r.result,
					  HINT = 'Check that the node has ptimport installed and the roles granted, then run SELECT ptimport.sync_grants() again.';
		END IF;
		v_changes := v_changes OPERATOR(pg_catalog.+) r.result::integer;
	END LOOP;
	RETURN v_changes;
END
$$;

COMMENT ON FUNCTION ptimport.sync_grants() IS
'copies the privileges on ptimport''s objects from the Citus coordinator to every worker';

/*
 * Sets ptimport up on a Citus cluster, as a superuser on the coordinator,
 * and returns what it did.  Safe to run again, and to be run again after
 * a node is added, after ALTER EXTENSION ptimport UPDATE, or after roles
 * were granted by hand: what is done already is left as it is.
 *
 *   - Tables: every table of the extension whose account_id is NOT NULL
 *     is distributed by account_id, co-located with ptimport.account;
 *     the others (ptimport.account_access, whose null account_id means
 *     every account) become reference tables, on every node.  Rows the
 *     tables hold already are copied into the shards, and the local copies
 *     emptied.  The list comes from the catalog, in the order of the
 *     tables' foreign keys (a referenced table first), so a table a later
 *     version adds is distributed the same way.
 *   - Functions: every SECURITY DEFINER function of the extension with an
 *     account_id argument (the per-account calls an application makes:
 *     pt_import_clients, submit, ...) is delegated to the node of its
 *     account, so the whole call runs there.  Citus delegates a call made
 *     outside a transaction block only; process_account_file, which the
 *     inbox worker calls inside its transactions, is delegated there too
 *     (force_delegation: everything it does is in its one account).  A
 *     call with a null account_id is not delegated correctly (Citus sends
 *     it to the node of account 0), so the functions' account_id defaults
 *     to current_account(), an expression that is never delegated.
 *   - Ids: every node takes its own range of ids (claim_id_range()).
 *   - Views: the views an application reads read through functions with
 *     their owner's rights, on every node (wrap_views()).
 *   - Privileges: copied to every worker (sync_grants()).
 */
CREATE OR REPLACE FUNCTION ptimport.distribute(OUT object text, OUT action text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
	v_done		regclass[] := '{}';
	v_moved		regclass[] := '{}';
	v_table		regclass;
	v_kind		text;
	v_func		record;
	v_node		record;
	v_yes		boolean;
	v_count		bigint;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension AS e
				   WHERE e.extname OPERATOR(pg_catalog.=) 'citus') THEN
		RAISE EXCEPTION 'Citus is not installed in this database'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Run CREATE EXTENSION citus and add the worker nodes first.';
	END IF;
	EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO STRICT v_yes;
	IF NOT v_yes THEN
		RAISE EXCEPTION 'ptimport.distribute() runs on the Citus coordinator'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;

	-- Tables, each after the tables it references.
	LOOP
		SELECT c.oid::regclass,
			   CASE WHEN a.attnotnull THEN 'distributed' ELSE 'reference' END
		INTO v_table, v_kind
		FROM pg_catalog.pg_class AS c
		JOIN pg_catalog.pg_depend AS d
		  ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
		 AND d.objid OPERATOR(pg_catalog.=) c.oid
		 AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::regclass
		 AND d.deptype OPERATOR(pg_catalog.=) 'e'
		JOIN pg_catalog.pg_extension AS e
		  ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'ptimport'
		LEFT JOIN pg_catalog.pg_attribute AS a
		  ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) 'account_id'
		 AND NOT a.attisdropped
		WHERE c.relkind OPERATOR(pg_catalog.=) 'r'
		  AND c.oid OPERATOR(pg_catalog.<>) ALL (v_done)
		  AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS f
						  WHERE f.conrelid OPERATOR(pg_catalog.=) c.oid
							AND f.contype OPERATOR(pg_catalog.=) 'f'
							AND f.confrelid OPERATOR(pg_catalog.<>) c.oid
							AND f.confrelid OPERATOR(pg_catalog.<>) ALL (v_done))
		-- the colocation anchor first
		ORDER BY c.oid OPERATOR(pg_catalog.<>) 'ptimport.account'::regclass, c.relname
		LIMIT 1;
		EXIT WHEN NOT FOUND;
		v_done := v_done OPERATOR(pg_catalog.||) v_table;

		object := v_table::text;
		EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p'
				' WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1)'
			INTO v_yes USING v_table;
		IF v_yes THEN
			action := CASE v_kind WHEN 'distributed' THEN 'already distributed'
							 ELSE 'already a reference table' END;
		ELSIF v_kind OPERATOR(pg_catalog.=) 'distributed' THEN
			EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''account_id'','
					' colocate_with := $2)'
				USING v_table, CASE WHEN v_table OPERATOR(pg_catalog.=) 'ptimport.account'::regclass
								   THEN 'default' ELSE 'ptimport.account' END;
			action := 'distributed by account_id';
			v_moved := v_moved OPERATOR(pg_catalog.||) v_table;
		ELSE
			EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING v_table;
			action := 'reference table';
			v_moved := v_moved OPERATOR(pg_catalog.||) v_table;
		END IF;
		RETURN NEXT;
	END LOOP;
	-- Rows the tables had are in their shards now; the local copies go.
	FOREACH v_table IN ARRAY v_moved LOOP
		EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)'
			USING v_table;
	END LOOP;
	IF (SELECT pg_catalog.count(*) FROM pg_catalog.unnest(v_done)) OPERATOR(pg_catalog.<>)
	   (SELECT pg_catalog.count(*) FROM pg_catalog.pg_depend AS d
		JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) d.objid
		WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
		  AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension AS e
												WHERE e.extname OPERATOR(pg_catalog.=) 'ptimport')
		  AND d.deptype OPERATOR(pg_catalog.=) 'e' AND c.relkind OPERATOR(pg_catalog.=) 'r') THEN
		RAISE EXCEPTION 'the foreign keys between ptimport''s tables form a cycle'
			USING ERRCODE = 'invalid_table_definition';
	END IF;

	-- Per-account functions, delegated to the node of their account.
	FOR v_func IN
		SELECT p.oid::regprocedure AS func,
			   pg_catalog.array_position(p.proargnames, 'account_id') AS argno,
			   p.oid OPERATOR(pg_catalog.=) 'ptimport.process_account_file(bigint, name)'::regprocedure AS forced
		FROM pg_catalog.pg_proc AS p
		JOIN pg_catalog.pg_depend AS d
		  ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::regclass
		 AND d.objid OPERATOR(pg_catalog.=) p.oid
		 AND d.deptype OPERATOR(pg_catalog.=) 'e'
		JOIN pg_catalog.pg_extension AS e
		  ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'ptimport'
		WHERE p.prosecdef
		  AND p.prokind OPERATOR(pg_catalog.=) 'f'
		  AND p.proargtypes[pg_catalog.array_position(p.proargnames, 'account_id') - 1]
			  OPERATOR(pg_catalog.=) 'pg_catalog.int8'::regtype
		  -- an input, and no output before it: $n counts the inputs
		  AND NOT EXISTS (SELECT FROM pg_catalog.unnest(p.proargmodes[1:pg_catalog.array_position(p.proargnames, 'account_id')]) AS m
						  WHERE m IN ('o', 't'))
		ORDER BY 1
	LOOP
		object := v_func.func::text;
		EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_object AS o'
				' WHERE o.classid OPERATOR(pg_catalog.=) ''pg_catalog.pg_proc''::pg_catalog.regclass'
				'   AND o.objid OPERATOR(pg_catalog.=) $1'
				'   AND o.distribution_argument_index IS NOT NULL)'
			INTO v_yes USING v_func.func;
		IF pg_catalog.pg_get_function_arg_default(v_func.func, v_func.argno) = 'NULL::bigint' THEN
			RAISE WARNING 'the account_id of % defaults to NULL, which Citus delegates to the node of account 0', v_func.func
				USING HINT = 'Default it to ptimport.current_account(), as pt_import_clients does.';
		END IF;
		IF v_yes THEN
			action := 'already delegated';
		ELSE
			EXECUTE 'SELECT pg_catalog.create_distributed_function($1, $2,'
					' colocate_with := ''ptimport.account'', force_delegation := $3)'
				USING v_func.func, '$' || v_func.argno, v_func.forced;
			action := pg_catalog.format('delegated by account_id ($%s)%s', v_func.argno,
										CASE WHEN v_func.forced THEN ', also inside transactions' ELSE '' END);
		END IF;
		RETURN NEXT;
	END LOOP;

	-- Each node's own range of ids.
	FOR v_node IN EXECUTE
		'SELECT nodename, nodeport, success, result'
		' FROM pg_catalog.run_command_on_workers(''SELECT ptimport.claim_id_range()'')'
	LOOP
		IF NOT v_node.success THEN
			RAISE EXCEPTION 'could not give node %:% its range of ids', v_node.nodename, v_node.nodeport
				USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = v_node.result;
		END IF;
		object := pg_catalog.format('node %s:%s', v_node.nodename, v_node.nodeport);
		action := pg_catalog.format('ids: %s sequences moved into its range', v_node.result);
		RETURN NEXT;
	END LOOP;

	-- Views read through their owner's rights, on every node.
	object := 'coordinator';
	action := pg_catalog.format('views: %s wrapped', ptimport.wrap_views());
	RETURN NEXT;
	FOR v_node IN EXECUTE
		'SELECT nodename, nodeport, success, result'
		' FROM pg_catalog.run_command_on_workers(''SELECT ptimport.wrap_views()'')'
	LOOP
		IF NOT v_node.success THEN
			RAISE EXCEPTION 'could not wrap ptimport''s views on node %:%', v_node.nodename, v_node.nodeport
				USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = v_node.result;
		END IF;
		object := pg_catalog.format('node %s:%s', v_node.nodename, v_node.nodeport);
		action := pg_catalog.format('views: %s wrapped', v_node.result);
		RETURN NEXT;
	END LOOP;

	object := 'privileges';
	action := pg_catalog.format('copied to the workers: %s grants and revokes', ptimport.sync_grants());
	RETURN NEXT;
END
$$;

COMMENT ON FUNCTION ptimport.distribute() IS
'distributes ptimport on a Citus cluster (run on the coordinator; safe to run again)';

REVOKE ALL ON FUNCTION ptimport.is_distributed() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.claim_id_range() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.object_acls() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.apply_acls(text[], text[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.sync_grants() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.wrap_views() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.align_view_functions() FROM PUBLIC;
REVOKE ALL ON FUNCTION ptimport.distribute() FROM PUBLIC;
