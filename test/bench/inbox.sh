#!/bin/bash
# The inbox benchmark: FILES files of ROWS rows, one for each of FILES
# accounts, are submitted at once, and pg_cron drains them with the
# README's setup (CALL ptimport.drain_inbox() every minute, as a worker role
# set up with grant_worker, in a background worker).  Prints how long the
# draining took, in how many scheduler ticks, and the time from submit to
# done per file (median and maximum; it includes the wait for the next
# tick, up to a minute).
#
# Usage: test/bench/inbox.sh [--no-build]     (as root, or with sudo)
#   FILES=200 ROWS=1000
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${PTIMPORT_BENCH_CLUSTER:-}" ]; then
    if [ "${1:-}" != --no-build ]; then
        test/install-deps.sh
        make -s
        sudo_cmd=()
        [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
        "${sudo_cmd[@]}" make -s install >/dev/null
    fi
    exec env PTIMPORT_BENCH_CLUSTER=1 pg_virtualenv -t -v 15 \
        -i "--encoding=UTF8 --locale=C.UTF-8" \
        -o "shared_preload_libraries=pg_cron" \
        -o "cron.database_name=practice" \
        -o "cron.use_background_workers=on" \
        -o "shared_buffers=512MB" \
        "$(pwd)/test/bench/inbox.sh"
fi

files=${FILES:-200}
rows=${ROWS:-1000}
psql=(psql -X -q -v ON_ERROR_STOP=1 -d practice)

dir=$(mktemp -d -t ptinbox.XXXXXX)
chmod 755 "$dir"
chown postgres:postgres "$dir"
trap 'rm -rf "$dir"' EXIT

echo "== Machine"
echo "cpus: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# pg_cron's launcher connects to cron.database_name at server start.
createdb practice
pg_ctlcluster 15 regress restart
for _ in $(seq 1 30); do
    pg_isready -q -d practice && break
    sleep 1
done

"${psql[@]}" <<SQL >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION pg_cron;
CREATE EXTENSION ptimport;
CREATE SCHEMA bench;
\i test/bench/setup.sql
SELECT bench.write_file('$dir/clients.csv', $rows, false);
CREATE ROLE ptimport_worker LOGIN;
SELECT ptimport.grant_worker('ptimport_worker');
SQL
echo "file: $rows rows, $(stat -c %s "$dir/clients.csv") bytes; $files files for $files accounts"

# Submit every file at once, just after a minute has begun, so that the next
# tick is almost a minute away and the draining is seen whole within it.
while [ "$(date +%S)" -gt 5 ]; do sleep 1; done
"${psql[@]}" <<SQL >/dev/null
SELECT ptimport.submit(pg_read_binary_file('$dir/clients.csv'), a, 'clients.csv')
FROM generate_series(1, $files) AS a;
SELECT cron.schedule_in_database('ptimport-inbox', '* * * * *', 'CALL ptimport.drain_inbox()',
                                 current_database(), 'ptimport_worker');
SQL
echo "submitted at $(date +%T); waiting for pg_cron"

start=$SECONDS
until [ "$("${psql[@]}" -At -c "SELECT count(*) FROM ptimport.inbox WHERE state = 'queued'")" = 0 ]; do
    [ $((SECONDS - start)) -gt 600 ] && { echo "not drained within 10 minutes" >&2; exit 1; }
    sleep 2
done
# Let the run that drained it finish and be recorded.
until [ -z "$("${psql[@]}" -At -c "SELECT 1 FROM cron.job_run_details WHERE end_time IS NULL LIMIT 1")" ]; do
    sleep 1
done

"${psql[@]}" <<'SQL'
\pset footer off
SELECT count(*) FILTER (WHERE state = 'done') AS done,
       count(*) FILTER (WHERE state = 'failed') AS failed,
       (SELECT sum(rows_inserted) FROM ptimport.import_run) AS clients_inserted
FROM ptimport.inbox;

-- The scheduler runs that imported files: the files each one processed
-- (from its start to the next run's), and how long after its start the
-- last of them was done.
SELECT d.runid, d.status, d.start_time::time(0) AS started,
       count(i.file_id) AS files,
       round(extract(epoch FROM max(i.processed_at) - d.start_time)::numeric, 2) AS drained_after_s
FROM cron.job_run_details AS d
LEFT JOIN ptimport.inbox AS i
  ON i.processed_at >= d.start_time
 AND i.processed_at < COALESCE((SELECT min(n.start_time) FROM cron.job_run_details AS n
								WHERE n.start_time > d.start_time), 'infinity')
GROUP BY d.runid, d.status, d.start_time
ORDER BY d.runid;

-- From submit to done, per file (includes the wait for the tick).
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s)::numeric, 2) AS submit_to_done_median_s,
       round(max(s)::numeric, 2) AS submit_to_done_max_s,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY w)::numeric, 3) AS import_median_s
FROM (SELECT extract(epoch FROM i.processed_at - i.submitted_at) AS s,
             extract(epoch FROM r.finished_at - r.started_at) AS w
      FROM ptimport.inbox AS i JOIN ptimport.import_run AS r USING (account_id, run_id)) AS t;
SQL
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
