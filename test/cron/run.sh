#!/bin/bash
# End-to-end test of queued imports under pg_cron: a throwaway cluster with
# pg_cron preloaded (background workers, database "practice"), set up as the
# README's "Queued imports with pg_cron" says; two files are submitted, and
# the test waits (at most CRON_WAIT_SECONDS, default 100) until the job
# pg_cron runs every minute has processed them, then checks each file's
# state, counts and failed rows and that cron.job_run_details says the run
# succeeded.  Exits non-zero with a message saying what was wrong.
#
# Usage: test/cron/run.sh   (ptimport installed; root or the postgres user)
#   PG_CONFIG picks the PostgreSQL installation (default: the system's 15).
set -euo pipefail

if [ -z "${PTIMPORT_CRON_CLUSTER:-}" ]; then
    pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
    if [ ! -f "$("$pg_config" --sharedir)/extension/pg_cron.control" ]; then
        echo "cron test: pg_cron is not installed (apt-get install postgresql-15-cron)" >&2
        exit 1
    fi
    # Re-run this script inside its own cluster, configured as the README says.
    exec env PTIMPORT_CRON_CLUSTER=1 "$(dirname "$0")/../with-server.sh" \
        -o "shared_preload_libraries = 'pg_cron'" \
        -o "cron.database_name = 'practice'" \
        -o "cron.use_background_workers = on" \
        "$0" "$@"
fi

wait_seconds=${CRON_WAIT_SECONDS:-100}

fail() {
    echo "cron test FAILED: $*" >&2
    echo "--- cron.job_run_details:" >&2
    psql -X -d practice -c "SELECT jobid, username, status, return_message, start_time, end_time
                            FROM cron.job_run_details ORDER BY runid" >&2 || true
    echo "--- ptimport.inbox:" >&2
    psql -X -d practice -c "SELECT file_id, account_id, source_name, state, run_id, error
                            FROM ptimport.inbox ORDER BY file_id" >&2 || true
    exit 1
}

# q SQL: runs SQL in database practice, prints the result unaligned, no headers.
q() {
    psql -X -v ON_ERROR_STOP=1 -qAt -d practice -c "$1"
}

# pg_cron's launcher connects to cron.database_name when the server starts:
# create the database, then restart (as after editing postgresql.conf).
createdb practice
pg_ctl restart -D "$PGDATA" -w -s -l "$PGLOG" >/dev/null
for _ in $(seq 1 30); do
    pg_isready -q -d practice && break
    sleep 1
done

echo "cron test: setting up pg_cron, ptimport and the worker role"
psql -X -v ON_ERROR_STOP=1 -q -d practice >/dev/null <<'SQL' || fail "setup failed"
CREATE EXTENSION pg_cron;
CREATE EXTENSION ptimport;

-- The README's worker role: logs in only as pg_cron's background worker
-- (no password); grant_worker gives it the inbox functions and every
-- account.
CREATE ROLE ptimport_worker LOGIN;
SELECT ptimport.grant_worker('ptimport_worker');

SELECT cron.schedule_in_database('ptimport-inbox', '* * * * *',
                                 'CALL ptimport.drain_inbox()',
                                 current_database(), 'ptimport_worker');
SQL

[ "$(q "SELECT current_setting('cron.use_background_workers')")" = on ] ||
    fail "cron.use_background_workers is not on"
[ "$(q "SELECT username || ' ' || database || ' ' || schedule || ' ' || command FROM cron.job")" = \
  "ptimport_worker practice * * * * * CALL ptimport.drain_inbox()" ] ||
    fail "the job is not scheduled as expected: $(q 'SELECT * FROM cron.job')"

# Account 42: two good rows (one with a new group) and one row with an
# invalid gender.  Account 43: a file in Windows-1252, submitted as UTF-8,
# which is refused whole.
q "SELECT ptimport.submit(convert_to(E'c1,Ann,Lee,1980,f,ann@example.com,,,Knee\\n'
                                     'c2,Bob,Lee,1975,x\\n'
                                     'c3,Cy,Lee,1990,m,,0031612345678,,', 'UTF8'),
                          42, 'clients.csv')" >/dev/null || fail "submit failed"
q "SELECT ptimport.submit('\\x63312c4ce9612c4b2c313938302c66'::bytea, 43, 'excel.csv', encoding => 'UTF8')" >/dev/null ||
    fail "submit failed"
[ "$(q "SELECT string_agg(state, ',' ORDER BY file_id) FROM ptimport.inbox")" = "queued,queued" ] ||
    fail "submitted files are not queued"

echo "cron test: waiting up to ${wait_seconds}s for pg_cron to process the inbox"
start=$SECONDS
until [ "$(q "SELECT count(*) FROM ptimport.inbox WHERE state IN ('queued', 'processing')")" = 0 ] &&
      [ -n "$(q "SELECT 1 FROM cron.job_run_details WHERE end_time IS NOT NULL LIMIT 1")" ]; do
    [ $((SECONDS - start)) -ge "$wait_seconds" ] &&
        fail "pg_cron did not process the inbox within ${wait_seconds}s"
    sleep 2
done
echo "cron test: processed after $((SECONDS - start))s"

expect() {
    local what=$1 sql=$2 want=$3 got
    got=$(q "$sql") || fail "$what: query failed"
    if [ "$got" != "$want" ]; then
        fail "$what: expected [$want], got [$got]"
    fi
    echo "ok - $what"
}

expect "clients.csv is done with its counts" \
    "SELECT concat_ws(' ', state, rows_total, rows_inserted, rows_updated, rows_unchanged,
                      rows_failed, rows_warned, groups_created)
     FROM ptimport.inbox JOIN ptimport.import_run USING (account_id, run_id)
     WHERE ptimport.inbox.source_name = 'clients.csv'" \
    "done 3 2 0 0 1 0 1"
expect "its failed row is listed by run" \
    "SELECT string_agg(concat_ws(' ', i.line_no, i.internal_id, i.field, i.code), '; ' ORDER BY i.line_no)
     FROM ptimport.inbox AS s JOIN ptimport.import_issue AS i USING (account_id, run_id)
     WHERE s.source_name = 'clients.csv'" \
    "2 c2 gender invalid_gender"
expect "the clients were written by the worker role" \
    "SELECT string_agg(c.internal_id || ' ' || coalesce(g.name, '-'), ', ' ORDER BY c.internal_id)
            || ' by ' || (SELECT string_agg(DISTINCT run_by, ',') FROM ptimport.import_run)
     FROM ptimport.client AS c LEFT JOIN ptimport.client_group AS g USING (account_id, group_id)
     WHERE c.account_id = 42" \
    "c1 Knee, c3 - by ptimport_worker"
expect "excel.csv failed whole, with the import's message" \
    "SELECT concat_ws(' | ', state, error, error_sqlstate, run_id IS NULL)
     FROM ptimport.inbox WHERE source_name = 'excel.csv'" \
    "failed | file is not valid UTF8 | 22021 | t"
expect "each file was committed in a transaction of its own" \
    "SELECT count(DISTINCT xmin::text) FROM ptimport.inbox" \
    "2"
expect "nothing was written for account 43" \
    "SELECT count(*) FROM ptimport.client WHERE account_id = 43" \
    "0"
expect "cron.job_run_details shows the run succeeded, as ptimport_worker" \
    "SELECT DISTINCT concat_ws(' ', d.status, d.username, d.database, d.command)
     FROM cron.job_run_details AS d JOIN cron.job AS j USING (jobid)
     WHERE j.jobname = 'ptimport-inbox' AND d.end_time IS NOT NULL" \
    "succeeded ptimport_worker practice CALL ptimport.drain_inbox()"

echo "cron test: passed"
