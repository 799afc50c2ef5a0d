#!/bin/bash
# The Citus benchmark: a 1,000-row import into a new account (insert), the
# same file again (unchanged) and a changed file (update), on a Citus
# cluster of three throwaway servers (a coordinator and two workers, 32
# shards per table) against a single server without Citus, in the same run
# on the same machine.  On Citus each import is timed twice: called on its
# own, when Citus delegates the whole call to the worker of its account,
# and inside a transaction block, when it runs on the coordinator and sends
# each of its statements to the worker.  Prints the medians and the ratios
# to the single server; target: a delegated import within 1.5 x.
#
# Times are taken by psql (\timing: from sending the statement to its
# result, commit included), with the file sent as a bytea literal; the
# files are those of test/bench/run.sh (bench.write_file).  All servers run
# with fsync off and autovacuum off; they share the machine's cores.
#
# Usage: test/bench/citus.sh       (as root, or a user with sudo)
#   PG_CONFIG      the PostgreSQL with ptimport installed (make install) and
#                  Citus, which is built from CITUS_TARBALL if missing, as
#                  test/citus/run.sh does
#   RUNS=15        runs per case (after one warm-up run), median taken
#   ROWS=1000      rows per file
set -euo pipefail
. "$(dirname "$0")/../citus/cluster.sh"
bench_sql=$(cd "$(dirname "$0")" && pwd)/setup.sql

runs=${RUNS:-15}
rows=${ROWS:-1000}

citus_require
citus_begin
export PGOPTIONS="-c client_min_messages=warning"
settings=("shared_buffers = 256MB" "autovacuum = off" "max_wal_size = 4GB" "checkpoint_timeout = 1h")

echo "== Machine"
echo "cpus: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== Servers in $dir"
start_node coord "${settings[@]}"
start_node w1 "${settings[@]}"
start_node w2 "${settings[@]}"
# the single server: no Citus loaded at all
start_node single "${settings[@]}" "shared_preload_libraries = ''"
cluster_db postgres coord w1 w2
q "$port_coord" postgres -c "CREATE EXTENSION ptimport" -c "SELECT count(*) FROM ptimport.distribute()" >/dev/null
q "$port_single" postgres -c "CREATE EXTENSION ptimport"
q "$port_coord" postgres -c "SELECT 'citus: ' || extversion FROM pg_extension WHERE extname = 'citus'" \
    -c "SELECT 'server: ' || version()"

# The files, written by the single server as bench.write_file does for
# test/bench/run.sh.
files=$dir/files
as_postgres mkdir "$files"
q "$port_single" postgres -c "CREATE DATABASE gen"
q "$port_single" gen -c "CREATE EXTENSION ptimport" -c "CREATE SCHEMA bench" -f "$bench_sql" \
    -c "SELECT bench.write_file('$files/insert.csv', $rows, false),
               bench.write_file('$files/update.csv', $rows, true)" >/dev/null
echo "$rows rows: $(stat -c %s "$files/insert.csv") bytes"

# script TRANSACTION FIRST_ACCOUNT: the psql script of one case's runs:
# per run, the insert file into a new account, again, then the update file.
# TRANSACTION yes wraps each import in BEGIN ... COMMIT (one query string).
script() {
    local tx=$1 account=$2 r f
    echo "SET ptimport.max_rows = $((rows > 1000 ? rows : 1000));"
    echo "\\set insert \`base64 -w0 $files/insert.csv\`"
    echo "\\set update \`base64 -w0 $files/update.csv\`"
    echo "\\timing on"
    for r in $(seq 0 "$runs"); do
        for f in insert insert update; do
            if [ "$tx" = yes ]; then
                echo "BEGIN \\; SELECT count(*) FROM ptimport.pt_import_clients(decode(:'$f', 'base64'), $((account + r))) \\; COMMIT;"
            else
                echo "SELECT count(*) FROM ptimport.pt_import_clients(decode(:'$f', 'base64'), $((account + r)));"
            fi
        done
    done
}

# times PORT TRANSACTION FIRST_ACCOUNT: prints "op ms" per timed import,
# the warm-up run left out.
times() {
    script "$2" "$3" | psql -X -q -v ON_ERROR_STOP=1 -p "$1" -d postgres 2>&1 |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
        awk -v n=3 'NR > n { op = (NR - 1) % 3; print (op == 0 ? "insert" : op == 1 ? "unchanged" : "update"), $1 }'
}

echo "== $runs runs (+1 warm-up) of each case $(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
times "$port_single" no 1000 >"$dir/single.times"
times "$port_coord" no 1000 >"$dir/delegated.times"
times "$port_coord" yes 5000 >"$dir/coordinator.times"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
for f in single delegated coordinator; do
    [ "$(wc -l <"$dir/$f.times")" -eq $((3 * runs)) ] ||
        { echo "bench: $f: expected $((3 * runs)) timings, got $(wc -l <"$dir/$f.times")" >&2; exit 1; }
done

# Every case must have written the same rows.
counts() {
    q "$1" postgres -c "SELECT string_agg(DISTINCT concat_ws('/', rows_inserted, rows_updated, rows_unchanged,
                                                            rows_failed), ' ' ORDER BY concat_ws('/', rows_inserted,
                                                            rows_updated, rows_unchanged, rows_failed))
                        FROM ptimport.import_run WHERE account_id BETWEEN $2 AND $2 + $runs"
}
single_counts=$(counts "$port_single" 1000)
echo "counts (inserted/updated/unchanged/failed) of the runs: single $single_counts"
[ "$(counts "$port_coord" 1000)" = "$single_counts" ] && [ "$(counts "$port_coord" 5000)" = "$single_counts" ] ||
    { echo "bench: the Citus runs wrote other counts: $(counts "$port_coord" 1000) / $(counts "$port_coord" 5000)" >&2; exit 1; }
check_nodes=$(q "$port_coord" postgres -c "SELECT count(DISTINCT run_id >> 48) FROM ptimport.import_run
                                          WHERE account_id BETWEEN 1000 AND 1000 + $runs AND run_id >> 48 > 0")
echo "delegated imports ran on $check_nodes workers; through the coordinator: $(q "$port_coord" postgres -c \
    "SELECT count(*) FILTER (WHERE run_id >> 48 = 0) || ' of ' || count(*) FROM ptimport.import_run
     WHERE account_id BETWEEN 5000 AND 5000 + $runs") runs with coordinator ids"

echo
echo "Medians in ms ($rows rows, $runs runs; psql round trip, commit included):"
q "$port_single" postgres <<SQL
CREATE TEMP TABLE t (target text, op text, ms float8);
\\copy t (op, ms) FROM '$dir/single.times' WITH (DELIMITER ' ')
UPDATE t SET target = 'single' WHERE target IS NULL;
\\copy t (op, ms) FROM '$dir/delegated.times' WITH (DELIMITER ' ')
UPDATE t SET target = 'delegated' WHERE target IS NULL;
\\copy t (op, ms) FROM '$dir/coordinator.times' WITH (DELIMITER ' ')
UPDATE t SET target = 'coordinator' WHERE target IS NULL;
\\pset format aligned
\\pset tuples_only off
WITH m AS (
    SELECT op, target, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM t GROUP BY op, target)
SELECT op,
       round(s.ms::numeric, 1) AS single,
       round(d.ms::numeric, 1) AS citus_delegated,
       round((d.ms / s.ms)::numeric, 2) AS delegated_vs_single,
       round(c.ms::numeric, 1) AS citus_through_coordinator,
       round((c.ms / s.ms)::numeric, 2) AS coordinator_vs_single,
       CASE WHEN d.ms / s.ms <= 1.5 THEN 'holds' ELSE 'MISSED' END AS "target: delegated <= 1.5 x single"
FROM (SELECT * FROM m WHERE target = 'single') AS s
JOIN (SELECT * FROM m WHERE target = 'delegated') AS d USING (op)
JOIN (SELECT * FROM m WHERE target = 'coordinator') AS c USING (op)
ORDER BY array_position(ARRAY['insert', 'unchanged', 'update'], op);
SQL
