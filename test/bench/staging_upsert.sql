-- test/bench/staging_upsert.sql: the staging_upsert case, what a skilled DBA
-- writes without ptimport: COPY the file into a temporary staging table, then
-- set-based SQL that validates, creates the groups and upserts the clients.

-- The row rules that make a row fail: required values present and not too
-- long, a four-digit year of birth in the last 100 years, gender m or f.
-- Values come trimmed, gender lowercased.  Inlined into the queries below.
CREATE FUNCTION bench.row_ok(internal_id text, first_name text, last_name text,
							 birth_year text, gender text, this_year int)
RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
	SELECT internal_id <> '' AND char_length(internal_id) <= 64
		AND first_name <> '' AND char_length(first_name) <= 100
		AND last_name <> '' AND char_length(last_name) <= 100
		AND gender IN ('m', 'f')
		AND CASE WHEN birth_year ~ '^[0-9]{4}$'
				 THEN birth_year::int BETWEEN this_year - 100 AND this_year
				 ELSE false END
$$;

-- Imports the CSV file at path (server side) into account: creates missing
-- groups (matched case-insensitively), inserts new clients and updates
-- changed ones; an invalid or empty optional value is stored as NULL and
-- never erases a stored one; the first row of a repeated internal_id wins.
CREATE FUNCTION bench.staging_upsert(path text, account bigint,
									 OUT inserted bigint, OUT updated bigint,
									 OUT groups_created bigint)
LANGUAGE plpgsql AS $f$
DECLARE
	this_year	int := extract(year FROM current_date)::int;
BEGIN
	CREATE TEMP TABLE stg (
		internal_id text, first_name text, last_name text, birth_year text,
		gender text, email text, mobile text, diagnosis_code text, client_group text
	) ON COMMIT DROP;
	EXECUTE format('COPY pg_temp.stg FROM %L WITH (FORMAT csv)', path);

	-- Groups named by valid rows, one spelling per name, created if missing.
	INSERT INTO ptimport.client_group (account_id, name)
	SELECT account, min(t.grp)
	FROM (SELECT nullif(btrim(s.client_group), '') AS grp
		  FROM pg_temp.stg AS s
		  WHERE bench.row_ok(btrim(s.internal_id), btrim(s.first_name), btrim(s.last_name),
							 btrim(s.birth_year), lower(btrim(s.gender)), this_year)) AS t
	WHERE t.grp IS NOT NULL AND char_length(t.grp) <= 100
	GROUP BY t.grp COLLATE ptimport.group_name
	ON CONFLICT (account_id, name) DO NOTHING;
	GET DIAGNOSTICS groups_created = ROW_COUNT;

	-- Valid rows, one per internal_id, upserted; unchanged rows are left alone.
	WITH src AS (
		SELECT DISTINCT ON (t.internal_id) t.*
		FROM (SELECT s.ctid AS pos,
					 btrim(s.internal_id) AS internal_id,
					 btrim(s.first_name) AS first_name,
					 btrim(s.last_name) AS last_name,
					 btrim(s.birth_year) AS birth_year,
					 lower(btrim(s.gender)) AS gender,
					 nullif(btrim(s.email), '') AS email,
					 nullif(btrim(s.mobile), '') AS mobile,
					 nullif(btrim(s.diagnosis_code), '') AS diagnosis_code,
					 nullif(btrim(s.client_group), '') AS client_group
			  FROM pg_temp.stg AS s) AS t
		WHERE bench.row_ok(t.internal_id, t.first_name, t.last_name, t.birth_year,
						   t.gender, this_year)
		ORDER BY t.internal_id, t.pos
	),
	written AS (
		INSERT INTO ptimport.client AS c (account_id, internal_id, first_name, last_name,
										  birth_year, gender, email, mobile,
										  diagnosis_code, group_id)
		SELECT account, src.internal_id, src.first_name, src.last_name,
			   src.birth_year::int, src.gender,
			   CASE WHEN char_length(src.email) <= 254 AND src.email ~
					'^[A-Za-z0-9!#$%&''*+/=?^_`{|}~.-]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$'
					THEN src.email END,
			   CASE WHEN src.mobile ~ '^00[0-9]{7,15}$' THEN src.mobile END,
			   CASE WHEN char_length(src.diagnosis_code) <= 64 THEN src.diagnosis_code END,
			   g.group_id
		FROM src
		LEFT JOIN ptimport.client_group AS g
		  ON g.account_id = account
		 AND g.name = src.client_group
		ON CONFLICT (account_id, internal_id) DO UPDATE SET
			first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
			birth_year = EXCLUDED.birth_year, gender = EXCLUDED.gender,
			email = COALESCE(EXCLUDED.email, c.email),
			mobile = COALESCE(EXCLUDED.mobile, c.mobile),
			diagnosis_code = COALESCE(EXCLUDED.diagnosis_code, c.diagnosis_code),
			group_id = COALESCE(EXCLUDED.group_id, c.group_id),
			updated_at = now()
		WHERE (c.first_name, c.last_name, c.birth_year, c.gender) IS DISTINCT FROM
			  (EXCLUDED.first_name, EXCLUDED.last_name, EXCLUDED.birth_year, EXCLUDED.gender)
		   OR EXCLUDED.email IS DISTINCT FROM c.email AND EXCLUDED.email IS NOT NULL
		   OR EXCLUDED.mobile IS DISTINCT FROM c.mobile AND EXCLUDED.mobile IS NOT NULL
		   OR EXCLUDED.diagnosis_code IS DISTINCT FROM c.diagnosis_code
			  AND EXCLUDED.diagnosis_code IS NOT NULL
		   OR EXCLUDED.group_id IS DISTINCT FROM c.group_id AND EXCLUDED.group_id IS NOT NULL
		RETURNING c.xmax = 0 AS is_new
	)
	SELECT count(*) FILTER (WHERE w.is_new), count(*) FILTER (WHERE NOT w.is_new)
	INTO inserted, updated
	FROM written AS w;

	DROP TABLE pg_temp.stg;
END
$f$;
