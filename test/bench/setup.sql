-- test/bench/setup.sql: the benchmark's schema "bench" in the throwaway
-- cluster: the deterministic file generator, the copy_typed reference table,
-- and the procedures that time every case server-side and keep the results.

-- A deterministic number in [0, m) for row i and purpose k.
CREATE FUNCTION bench.dice(i bigint, k int, m int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (abs(pg_catalog.hashint8(i * 131 + k)) % m)::int $$;

-- Writes a client file of n rows to path, as the server (COPY ... TO).
-- changed = false: the "insert" file.  changed = true: the same internal_ids
-- with changed values (every row: year of birth; with email or mobile: those
-- too), the "update" file.  About 80% of rows have an email, 70% a mobile,
-- 60% a diagnosis code, 90% one of 10 groups written in mixed case.
CREATE FUNCTION bench.write_file(path text, n int, changed boolean) RETURNS void
LANGUAGE plpgsql AS $f$
BEGIN
	EXECUTE format($q$
	COPY (
		WITH v AS (
			SELECT ARRAY['Emma','Liam','Sophie','Noah','Julia','Lucas','Mila','Daan',
						 'Tess','Sem','Anna','Finn','Sara','Levi','Nora','Luuk',
						 'Olivia','James','Amelia','Oliver','Isla','Jack','Ava','Harry',
						 'Maria','Jose','Lea','Paul','Marie','Ben','Clara','Jonas',
						 'Chloe','Louis','Alice','Hugo','Ines','Mateo','Zoe','Elias'] AS fn,
				   ARRAY['de Vries','Jansen','Bakker','Visser','Smit','Meijer','de Boer',
						 'Mulder','de Groot','Bos','Smith','Jones','Taylor','Brown',
						 'Williams','Wilson','Johnson','Davies','Müller','Schmidt',
						 'Schneider','Fischer','Weber','Martin','Bernard','Dubois',
						 'Thomas','Robert','García','Fernández','González','Rodríguez',
						 'López','Martínez','Sánchez','Pérez','O''Brien','Nguyễn',
						 'Øvergaard','Kowalski'] AS ln,
				   ARRAY['Back pain','Knee rehab','Shoulder','Neck and spine',
						 'Sports injuries','Post-op','Hip','Running clinic','Pilates',
						 'Seniors'] AS grp,
				   ARRAY['example.com','example.org','mail.example.net',
						 'praxis.example.de','example.co.uk'] AS dom,
				   ARRAY['31','44','49','33','32','1','34','39'] AS cc
		)
		SELECT 'PT' || lpad(i::text, 7, '0'),
			   v.fn[1 + bench.dice(i, 1, 40)],
			   v.ln[1 + bench.dice(i, 2, 40)],
			   1930 + bench.dice(i, 3, 90) + %2$s,
			   CASE WHEN bench.dice(i, 4, 2) = 0 THEN 'f' ELSE 'm' END,
			   CASE WHEN bench.dice(i, 5, 100) < 80 THEN
					lower(v.fn[1 + bench.dice(i, 1, 40)]) || '.' || i || '@' ||
					v.dom[1 + (bench.dice(i, 6, 5) + %2$s) %% 5] END,
			   CASE WHEN bench.dice(i, 7, 100) < 70 THEN
					'00' || v.cc[1 + bench.dice(i, 8, 8)] ||
					(600000000 + bench.dice(i, 9 + %2$s, 100000000)) END,
			   CASE WHEN bench.dice(i, 10, 100) < 60 THEN
					'DX-' || lpad(bench.dice(i, 11, 500)::text, 3, '0') END,
			   CASE WHEN bench.dice(i, 12, 100) < 90 THEN
					(SELECT CASE bench.dice(i, 14, 10)
								WHEN 7 THEN lower(g) WHEN 8 THEN upper(g)
								WHEN 9 THEN initcap(g) ELSE g END
					 FROM (SELECT v.grp[1 + bench.dice(i, 13, 10)] AS g) AS x) END
		FROM pg_catalog.generate_series(1, %3$s) AS i, v
		ORDER BY i
	) TO %1$L WITH (FORMAT csv)$q$, path, CASE WHEN changed THEN 1 ELSE 0 END, n);
END
$f$;

-- copy_typed: typed and indexed like ptimport.client (primary key, unique
-- (account_id, internal_id)); the group is kept as its name.
CREATE TABLE bench.copy_client (
	client_id	bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id	bigint NOT NULL DEFAULT 1,
	internal_id text NOT NULL,
	first_name	text NOT NULL,
	last_name	text NOT NULL,
	birth_year	integer NOT NULL,
	gender		text NOT NULL CHECK (gender IN ('m', 'f')),
	email		text,
	mobile		text,
	diagnosis_code text,
	client_group text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (account_id, internal_id)
);

-- copy_fk: a table like ptimport.client (columns, defaults, identity,
-- indexes, checks) with its foreign key, a client's (account_id, group_id)
-- referencing a group of the same account.  It shows what COPY itself pays
-- for that key, one check per row; its file carries each row's group_id
-- where the others carry the group's name.
CREATE TABLE bench.copy_group (
	group_id	bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id	bigint NOT NULL,
	name		text NOT NULL,
	UNIQUE (account_id, group_id)
);
CREATE UNIQUE INDEX ON bench.copy_group (account_id, lower(name COLLATE "und-x-icu"));
CREATE TABLE bench.copy_client_fk (LIKE ptimport.client INCLUDING ALL);
ALTER TABLE bench.copy_client_fk
	ALTER COLUMN account_id SET DEFAULT 1,
	ADD FOREIGN KEY (account_id, group_id) REFERENCES bench.copy_group (account_id, group_id);

-- Writes the copy_fk file for the client file at path: the same rows, the
-- group's name replaced by the group_id of account 1's group of that name.
CREATE FUNCTION bench.write_fk_file(path text, fk_path text) RETURNS void
LANGUAGE plpgsql AS $f$
BEGIN
	CREATE TEMP TABLE fk_src (internal_id text, first_name text, last_name text,
							  birth_year int, gender text, email text, mobile text,
							  diagnosis_code text, client_group text) ON COMMIT DROP;
	EXECUTE format('COPY pg_temp.fk_src FROM %L WITH (FORMAT csv)', path);
	INSERT INTO bench.copy_group (account_id, name)
	SELECT DISTINCT ON (lower(client_group COLLATE "und-x-icu")) 1, client_group
	FROM pg_temp.fk_src WHERE client_group IS NOT NULL
	ORDER BY lower(client_group COLLATE "und-x-icu")
	ON CONFLICT DO NOTHING;
	EXECUTE format($q$
	COPY (SELECT s.internal_id, s.first_name, s.last_name, s.birth_year, s.gender,
				 s.email, s.mobile, s.diagnosis_code, g.group_id
		  FROM pg_temp.fk_src AS s
		  LEFT JOIN bench.copy_group AS g
			ON g.account_id = 1
		   AND lower(g.name COLLATE "und-x-icu") = lower(s.client_group COLLATE "und-x-icu"))
	TO %L WITH (FORMAT csv)$q$, fk_path);
	DROP TABLE pg_temp.fk_src;
END
$f$;

-- One row per timed statement.
CREATE TABLE bench.result (
	phase		text NOT NULL,		-- 'main' or 'big' (1M clients of other accounts)
	size		int NOT NULL,
	run			int NOT NULL,
	method		text NOT NULL,		-- copy_typed, copy_fk, staging_upsert, ptimport
	op			text NOT NULL,		-- insert, unchanged, update
	ms			float8 NOT NULL,
	inserted	bigint,
	updated		bigint
);

-- Empties every table an import writes to (and any table that refers to them).
CREATE PROCEDURE bench.reset_clients()
LANGUAGE sql
AS $$
	TRUNCATE ptimport.import_issue, ptimport.import_run, ptimport.client,
			 ptimport.client_group CASCADE;
$$;

-- Times one import of path into account: staging_upsert or ptimport.
-- Server-side wall time of the statement, from clock_timestamp() before to
-- after it, inside the transaction (the commit is not included).
CREATE FUNCTION bench.timed_import(method text, path text, account bigint,
								   OUT ms float8, OUT inserted bigint, OUT updated bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t0			timestamptz;
BEGIN
	IF method = 'staging_upsert' THEN
		t0 := clock_timestamp();
		SELECT s.inserted, s.updated INTO inserted, updated
		FROM bench.staging_upsert(path, account) AS s;
		ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
	ELSE
		t0 := clock_timestamp();
		PERFORM count(*) FROM ptimport.pt_import_clients(pg_read_binary_file(path, 0, (pg_stat_file(path)).size), account);
		ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
		SELECT r.rows_inserted, r.rows_updated INTO inserted, updated
		FROM ptimport.import_run AS r ORDER BY r.run_id DESC LIMIT 1;
	END IF;
END
$$;

-- The main phase for one size: runs + 1 rounds (round 0 warms up and is
-- not kept).  Each round, every case from a defined state:
--	 copy_typed:		  empty table, COPY the insert file
--	 copy_fk:			  empty table, COPY the insert file's copy_fk version
--	 staging_upsert, ptimport (each from empty tables, account 1):
--		insert			  the insert file
--		unchanged		  the identical file again
--		update			  the update file (same ids, changed values)
CREATE PROCEDURE bench.run_main(n int, runs int, dir text)
LANGUAGE plpgsql AS $$
DECLARE
	a			text := format('%s/clients_%s.csv', dir, n);
	b			text := format('%s/clients_%s_changed.csv', dir, n);
	fk			text := format('%s/clients_%s_fk.csv', dir, n);
	m			text;
	t0			timestamptz;
	ms			float8;
	res			record;
BEGIN
	PERFORM set_config('client_min_messages', 'warning', false);
	PERFORM set_config('ptimport.max_rows', greatest(n, 1000)::text, false);
	PERFORM set_config('ptimport.max_bytes', '1048574', false);
	FOR r IN 0..runs LOOP
		-- the two COPY references, each into an empty table
		FOREACH m IN ARRAY ARRAY['copy_typed', 'copy_fk'] LOOP
			TRUNCATE bench.copy_client, bench.copy_client_fk;
			COMMIT;
			t0 := clock_timestamp();
			EXECUTE format('COPY %s (internal_id, first_name, last_name, birth_year, gender,'
						   ' email, mobile, diagnosis_code, %s) FROM %L WITH (FORMAT csv)',
						   CASE m WHEN 'copy_fk' THEN 'bench.copy_client_fk' ELSE 'bench.copy_client' END,
						   CASE m WHEN 'copy_fk' THEN 'group_id' ELSE 'client_group' END,
						   CASE m WHEN 'copy_fk' THEN fk ELSE a END);
			ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
			IF r > 0 THEN
				INSERT INTO bench.result VALUES ('main', n, r, m, 'insert', ms, n, 0);
			END IF;
			COMMIT;
		END LOOP;

		FOREACH m IN ARRAY ARRAY['staging_upsert', 'ptimport'] LOOP
			CALL bench.reset_clients();
			COMMIT;
			res := bench.timed_import(m, a, 1);
			IF r > 0 THEN
				INSERT INTO bench.result VALUES ('main', n, r, m, 'insert', res.ms, res.inserted, res.updated);
			END IF;
			COMMIT;
			res := bench.timed_import(m, a, 1);
			IF r > 0 THEN
				INSERT INTO bench.result VALUES ('main', n, r, m, 'unchanged', res.ms, res.inserted, res.updated);
			END IF;
			COMMIT;
			res := bench.timed_import(m, b, 1);
			IF r > 0 THEN
				INSERT INTO bench.result VALUES ('main', n, r, m, 'update', res.ms, res.inserted, res.updated);
			END IF;
			COMMIT;
		END LOOP;
	END LOOP;
	CALL bench.reset_clients();
	TRUNCATE bench.copy_client, bench.copy_client_fk;
END
$$;

-- Fills ptimport.client with 1,000,000 clients of 1,000 other accounts
-- (accounts 1001..2000, 1,000 clients and 10 groups each).  The caller
-- runs VACUUM ANALYZE afterwards (a procedure cannot).
CREATE PROCEDURE bench.fill_other_accounts()
LANGUAGE plpgsql AS $$
BEGIN
	CALL bench.reset_clients();
	INSERT INTO ptimport.client_group (account_id, name)
	SELECT a, g
	FROM generate_series(1001, 2000) AS a,
		 unnest(ARRAY['Back pain','Knee rehab','Shoulder','Neck and spine',
					  'Sports injuries','Post-op','Hip','Running clinic','Pilates',
					  'Seniors']) AS g;
	INSERT INTO ptimport.client (account_id, internal_id, first_name, last_name,
								 birth_year, gender, email, mobile, diagnosis_code, group_id)
	SELECT a, 'PT' || lpad(i::text, 7, '0'), 'First' || i, 'Last' || a,
		   1930 + bench.dice(i, 3, 90), CASE WHEN i % 2 = 0 THEN 'f' ELSE 'm' END,
		   CASE WHEN i % 5 <> 0 THEN 'c' || i || '@example.com' END,
		   CASE WHEN i % 10 < 7 THEN '0031' || (600000000 + i) END,
		   NULL,
		   (SELECT g.group_id FROM ptimport.client_group AS g
			WHERE g.account_id = a ORDER BY g.group_id OFFSET (i % 10) LIMIT 1)
	FROM generate_series(1001, 2000) AS a, generate_series(1, 1000) AS i;
END
$$;

-- The big phase: 1,000 rows into a new account (insert, unchanged, update)
-- while ptimport.client holds the 1,000,000 clients of other accounts.
CREATE PROCEDURE bench.run_big(runs int, dir text)
LANGUAGE plpgsql AS $$
DECLARE
	a			text := format('%s/clients_1000.csv', dir);
	b			text := format('%s/clients_1000_changed.csv', dir);
	res			record;
BEGIN
	PERFORM set_config('client_min_messages', 'warning', false);
	FOR r IN 0..runs LOOP
		res := bench.timed_import('ptimport', a, 100 + r);
		IF r > 0 THEN
			INSERT INTO bench.result VALUES ('big', 1000, r, 'ptimport', 'insert', res.ms, res.inserted, res.updated);
		END IF;
		COMMIT;
		res := bench.timed_import('ptimport', a, 100 + r);
		IF r > 0 THEN
			INSERT INTO bench.result VALUES ('big', 1000, r, 'ptimport', 'unchanged', res.ms, res.inserted, res.updated);
		END IF;
		COMMIT;
		res := bench.timed_import('ptimport', b, 100 + r);
		IF r > 0 THEN
			INSERT INTO bench.result VALUES ('big', 1000, r, 'ptimport', 'update', res.ms, res.inserted, res.updated);
		END IF;
		COMMIT;
	END LOOP;
END
$$;
