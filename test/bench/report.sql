-- test/bench/report.sql: prints the benchmark's results from bench.result and
-- bench.memory: medians, ratios, peak memory, and each target's verdict.

\pset footer off
\pset null '-'

CREATE TEMP VIEW med AS
SELECT phase, size, method, op, count(*) AS runs,
	   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
FROM bench.result
GROUP BY phase, size, method, op;

CREATE TEMP VIEW main AS
SELECT p.size, p.op, p.runs,
	   c.ms AS copy_ms, f.ms AS copy_fk_ms, s.ms AS staging_ms, p.ms AS pt_ms
FROM med AS p
JOIN med AS c ON c.phase = 'main' AND c.size = p.size AND c.method = 'copy_typed'
JOIN med AS f ON f.phase = 'main' AND f.size = p.size AND f.method = 'copy_fk'
JOIN med AS s ON s.phase = 'main' AND s.size = p.size AND s.method = 'staging_upsert' AND s.op = p.op
WHERE p.phase = 'main' AND p.method = 'ptimport';

\echo 'Every row written as expected (inserted/updated counts of every run):'
SELECT CASE WHEN count(*) = 0 THEN 'yes' ELSE 'NO: ' || string_agg(DISTINCT method || ' ' || op || ' at ' || size, ', ') END AS counts_ok
FROM bench.result
WHERE method NOT IN ('copy_typed', 'copy_fk')
  AND (inserted, updated) IS DISTINCT FROM
	  (CASE op WHEN 'insert' THEN size ELSE 0 END, CASE op WHEN 'update' THEN size ELSE 0 END);

\echo 'Medians in milliseconds (server-side statement time); copy_typed is the COPY of the insert file into an empty table, the reference for every op;'
\echo 'copy_fk the same COPY into a table that also has the foreign key of ptimport.client to the groups (one check per row, as ptimport pays).'
\echo 'staging_upsert/copy_typed bounds staging_upsert/ptimport from above as long as ptimport is no faster than a plain COPY.'
SELECT size AS rows, op, runs,
	   round(copy_ms::numeric, 1) AS copy_typed,
	   round(copy_fk_ms::numeric, 1) AS copy_fk,
	   round(staging_ms::numeric, 1) AS staging_upsert,
	   round(pt_ms::numeric, 1) AS ptimport,
	   round((pt_ms / copy_ms)::numeric, 2) AS "ptimport/copy_typed",
	   round((pt_ms / copy_fk_ms)::numeric, 2) AS "ptimport/copy_fk",
	   round((staging_ms / pt_ms)::numeric, 2) AS "staging_upsert/ptimport",
	   round((staging_ms / copy_ms)::numeric, 2) AS "staging_upsert/copy_typed",
	   round((1000 * pt_ms / size)::numeric, 2) AS "ptimport us/row"
FROM main
ORDER BY size, array_position(ARRAY['insert', 'unchanged', 'update'], op);

\echo '1,000 rows into a new account while the table holds 1,000,000 clients of other accounts (ptimport, medians in ms):'
SELECT b.op, b.runs, round(e.pt_ms::numeric, 1) AS empty_table,
	   round(b.ms::numeric, 1) AS with_1m_others,
	   round((b.ms / e.pt_ms)::numeric, 2) AS ratio
FROM med AS b JOIN main AS e ON e.size = 1000 AND e.op = b.op
WHERE b.phase = 'big'
ORDER BY array_position(ARRAY['insert', 'unchanged', 'update'], b.op);

\echo 'Peak memory of the backend during one ptimport import (fresh connection; MB):'
SELECT size AS rows, op, round(file_bytes / 1048576.0, 1) AS file,
	   round(base_kb / 1024.0, 1) AS idle_anon,
	   round(peak_anon_kb / 1024.0, 1) AS peak_anon,
	   round(hwm_kb / 1024.0, 1) AS "VmHWM (incl. shared)",
	   round((2 * file_bytes / 1048576.0 + 64)::numeric, 1) AS "target 2x file + 64"
FROM bench.memory
ORDER BY size, op;

\echo 'Targets:'
WITH t(target, measured, holds, ord) AS (
	SELECT '1,000 rows ' || op || ': ptimport/copy_typed <= ' || lim,
		   round((pt_ms / copy_ms)::numeric, 2)::text, pt_ms / copy_ms <= lim,
		   array_position(ARRAY['insert', 'update', 'unchanged'], op)
	FROM main
	JOIN (VALUES ('insert', 1.5), ('update', 2.5), ('unchanged', 1.0)) AS l(o, lim) ON l.o = op
	WHERE size = 1000
	UNION ALL
	SELECT size || ' rows ' || op || ': staging_upsert/ptimport >= 3',
		   round((staging_ms / pt_ms)::numeric, 2)::text, staging_ms / pt_ms >= 3,
		   10 + size / 1000 + array_position(ARRAY['insert', 'update'], op)
	FROM main WHERE op IN ('insert', 'update')
	UNION ALL
	SELECT 'per-row time ' || l.op || ': 1,000,000 rows / 10,000 rows <= 1.3',
		   round(((l.pt_ms / l.size) / (s.pt_ms / s.size))::numeric, 2)::text,
		   (l.pt_ms / l.size) / (s.pt_ms / s.size) <= 1.3,
		   2000 + array_position(ARRAY['insert', 'unchanged', 'update'], l.op)
	FROM main AS l JOIN main AS s ON s.size = 10000 AND s.op = l.op
	WHERE l.size = 1000000
	UNION ALL
	SELECT '1,000 rows ' || b.op || ' with 1,000,000 other clients / empty table <= 1.2',
		   round((b.ms / e.pt_ms)::numeric, 2)::text, b.ms / e.pt_ms <= 1.2,
		   3000 + array_position(ARRAY['insert', 'unchanged', 'update'], b.op)
	FROM med AS b JOIN main AS e ON e.size = 1000 AND e.op = b.op
	WHERE b.phase = 'big'
	UNION ALL
	SELECT 'peak memory, 1,000,000 rows ' || op || ' (MB) <= 2 x file + 64',
		   round(peak_anon_kb / 1024.0, 1) || ' <= ' || round(2 * file_bytes / 1048576.0 + 64, 1),
		   peak_anon_kb * 1024.0 <= 2 * file_bytes + 64 * 1048576.0,
		   4000 + array_position(ARRAY['insert', 'update'], op)
	FROM bench.memory WHERE size = 1000000
)
SELECT target, measured, CASE WHEN holds THEN 'holds' ELSE 'MISSED' END AS verdict
FROM t ORDER BY ord;
