#!/bin/bash
# The Citus stage: ptimport on a real Citus 13 cluster of three throwaway
# servers on local ports (a coordinator and two workers, a third worker
# added during the test), set up as the README's "Scaling out with Citus"
# says, checked with concrete expected values:
#   - 1.0 installed on the cluster, ALTER EXTENSION ptimport UPDATE, then
#     ptimport.distribute(): rows kept, a queued 1.0 file imported;
#   - a fresh install, distribute() (and again: nothing left to do);
#   - imports into accounts placed on different workers, delegated there;
#     re-import unchanged, update, dry run, groups matched case-insensitively,
#     the run and issue log, the inbox drained (drain_inbox, process_inbox),
#     all compared with a plain single-node database (ids and times aside);
#   - a worker error during the inbox (a worker made read-only) leaves that
#     account's file queued, not failed, and the others are imported;
#   - ids unique across nodes, from each node's own range;
#   - tenancy: an application role acting for one account, on every node;
#   - two imports into one account entering through different nodes take
#     turns (the second waits on the account's row lock until the first
#     commits, then finds its rows);
#   - a worker added later gets the extension, its range of ids, the views
#     and grants, and imports into an account moved to it.
# Prints one line per check and exits non-zero naming the checks that failed.
#
# Citus must be installed into the PostgreSQL that PG_CONFIG names; if it is
# not, it is built from CITUS_TARBALL (its build dependencies installed with
# apt-get) and installed there.  Neither Citus nor the tarball: the stage
# fails.  ptimport must be installed already (make install).
#
# Usage: test/citus/run.sh     (as root, or a user with sudo)
#   PG_CONFIG      default /usr/lib/postgresql/15/bin/pg_config
#   CITUS_TARBALL  default ../shared/vendor/citus-13.0.5.tar.gz beside this
#                  repository's directory
set -uo pipefail
. "$(dirname "$0")/cluster.sh"

citus_require || exit 1
citus_begin
export PGOPTIONS="-c client_min_messages=warning"
started=$SECONDS
failures=()

# sqlstate PORT DATABASE ROLE SQL: the SQLSTATE the statement fails with
# (empty if it succeeds), run as ROLE.
sqlstate() {
    psql -X -qAt -v VERBOSITY=sqlstate -p "$1" -d "$2" -U "$3" -c "$4" 2>&1 >/dev/null |
        sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\).*/\1/p' | head -n 1
}

# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" == "$3" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1"
        echo "     expected: $(echo "$2" | head -c 2000)"
        echo "     got:      $(echo "$3" | head -c 2000)"
        failures+=("$1")
        CITUS_SHOW_LOGS=1
    fi
}

echo "citus test: starting a coordinator and two workers in $dir"
start_node coord
start_node w1
start_node w2
c=$port_coord

# The client files, written here as UTF-8.
files=$dir/files
mkdir "$files"
year=$(date +%Y)
# 5 rows: an invalid gender, an invalid email (a warning), groups in two spellings.
printf '%s\n' \
    'P001,Ann,Jansen,1980,f,ann@example.com,0031611223344,DX-1,VIP' \
    'P002,Bob,Visser,1975,m,,,,vip' \
    'P003,Cas,Smit,1990,x,,,,' \
    'P004,Dee,Bakker,1985,f,dee@example,,,Knee Rehab' \
    'P005,Eva,de Boer,1970,F,,,,KNEE REHAB' >"$files/f1.csv"
# The same clients again, changed: P001's year, P002's email; P004 and P005
# as they are (an empty email never erases); P006 new, in a new group.
printf '%s\n' \
    'P001,Ann,Jansen,1981,f,ann@example.com,0031611223344,DX-1,vip' \
    'P002,Bob,Visser,1975,m,bob@example.org,,,VIP' \
    'P004,Dee,Bakker,1985,f,,,,knee rehab' \
    'P005,Eva,de Boer,1970,f,,,,Knee Rehab' \
    "P006,Fay,Mulder,$((year - 20)),f,,,,Sports" >"$files/f3.csv"
# One change, one new client in a new group.
printf '%s\n' \
    'P001,Ann,Jansen,1982,f' \
    'P007,Gus,Bos,1960,m,,,,Seniors' >"$files/f4.csv"
# Only blank lines: refused whole ("file contains no rows", 22023).
printf '\n\n,,,,,,,,\n' >"$files/empty.csv"

# bytes FILE: the file as an SQL bytea literal.
bytes() {
    echo "decode('$(base64 -w0 "$1")', 'base64')"
}
imp() {    # imp ACCOUNT FILE [more arguments]: an import's SQL
    echo "SELECT count(*) FROM ptimport.pt_import_clients($(bytes "$files/$2"), $1, source_name => '$2'${3:+, $3})"
}
sub() {    # sub ACCOUNT FILE: a submit's SQL
    echo "SELECT ptimport.submit($(bytes "$files/$2"), $1, source_name => '$2')"
}

# ---------------------------------------------------------------------------
echo "== update from 1.0 on the cluster, then distribute()"
cluster_db upgrade coord w1 w2
q "$c" upgrade -c "CREATE EXTENSION ptimport VERSION '1.0'" \
    -c "SELECT count(*) FROM ptimport.pt_import_clients($(bytes "$files/f1.csv"), 11, false, 'UTF8', 'f1.csv')" \
    -c "SELECT count(*) FROM ptimport.pt_import_clients($(bytes "$files/f3.csv"), 12, false, 'UTF8', 'f3.csv')" \
    -c "SELECT ptimport.submit($(bytes "$files/f4.csv"), 11, 'f4.csv')" >/dev/null 2>"$dir/err" ||
    { cat "$dir/err"; check "1.0 installed and used on the cluster" ok failed; }
q "$c" upgrade -c "ALTER EXTENSION ptimport UPDATE" 2>"$dir/err" ||
    { cat "$dir/err"; check "ALTER EXTENSION ptimport UPDATE on the cluster" ok failed; }
check "version 1.1 on every node after the update" "1.1 1.1 1.1" \
    "$(for p in $c $port_w1 $port_w2; do q "$p" upgrade -c "SELECT extversion FROM pg_extension WHERE extname = 'ptimport'"; done | xargs)"
q "$c" upgrade -c "SELECT * FROM ptimport.distribute()" >/dev/null 2>"$dir/err" ||
    { cat "$dir/err"; check "distribute() after the update" ok failed; }
check "1.0 rows kept in the shards: clients, groups, runs, issues, queued files" "9 5 2 2 1" \
    "$(q "$c" upgrade -c "SELECT (SELECT count(*) FROM ptimport.client), (SELECT count(*) FROM ptimport.client_group),
                                 (SELECT count(*) FROM ptimport.import_run), (SELECT count(*) FROM ptimport.import_issue),
                                 (SELECT count(*) FROM ptimport.inbox WHERE state = 'queued')" | tr '|' ' ')"
check "no local copies left behind on the coordinator" 0 \
    "$(q "$c" upgrade -c "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c
                          WHERE c.relnamespace = 'ptimport'::regnamespace AND c.relkind = 'r'")"
q "$c" upgrade -c "CALL ptimport.drain_inbox()" 2>"$dir/err" || cat "$dir/err"
check "the file queued under 1.0 imported after the update" "done 1 1" \
    "$(q "$c" upgrade -c "SELECT i.state, r.rows_inserted, r.rows_updated FROM ptimport.inbox i
                          JOIN ptimport.import_run r ON r.account_id = i.account_id AND r.run_id = i.run_id" | tr '|' ' ')"
check "an import after the update finds 1.0's clients unchanged" "0 0 5" \
    "$(q "$c" upgrade -c "$(imp 12 f3.csv)" -c "SELECT rows_inserted, rows_updated, rows_unchanged
        FROM ptimport.import_run WHERE account_id = 12 ORDER BY started_at DESC LIMIT 1" 2>/dev/null | tail -n 1 | tr '|' ' ')"

# ---------------------------------------------------------------------------
echo "== a fresh install and distribute()"
cluster_db postgres coord w1 w2
q "$c" postgres -c "CREATE EXTENSION ptimport" || check "CREATE EXTENSION ptimport on the cluster" ok failed
q "$c" postgres -c "SELECT * FROM ptimport.distribute()" >"$dir/distribute.out" 2>"$dir/err" ||
    { cat "$dir/err"; check "distribute()" ok failed; }
cat "$dir/distribute.out"
check "every table of the extension distributed by account_id, co-located with ptimport.account" \
    "client client_group import_issue import_row import_run inbox run_undo" \
    "$(q "$c" postgres -c "SELECT string_agg(p.logicalrelid::regclass::text, ' ' ORDER BY p.logicalrelid::regclass::text)
        FROM pg_dist_partition p
        JOIN pg_dist_partition a ON a.logicalrelid = 'ptimport.account'::regclass AND a.colocationid = p.colocationid
        WHERE p.logicalrelid <> 'ptimport.account'::regclass AND p.partmethod = 'h'
          AND column_to_column_name(p.logicalrelid, p.partkey) = 'account_id'" | sed 's/ptimport\.//g')"
check "account_access a reference table" "n" \
    "$(q "$c" postgres -c "SELECT partmethod FROM pg_dist_partition WHERE logicalrelid = 'ptimport.account_access'::regclass")"
check "no table of the extension left out" 0 \
    "$(q "$c" postgres -c "SELECT count(*) FROM pg_depend d JOIN pg_class t ON t.oid = d.objid
        WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ptimport') AND d.deptype = 'e'
          AND t.relkind = 'r' AND NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = t.oid)")"
check "pt_import_clients, submit, process_account_file delegated by account_id" \
    "process_account_file 0 t|pt_import_clients 1 f|submit 1 f" \
    "$(q "$c" postgres -c "SELECT string_agg(format('%s %s %s', p.proname, o.distribution_argument_index,
                                                    o.force_delegation), '|' ORDER BY p.proname)
        FROM pg_dist_object o JOIN pg_proc p ON p.oid = o.objid
        WHERE o.classid = 'pg_proc'::regclass AND o.distribution_argument_index IS NOT NULL
          AND p.proname IN ('pt_import_clients', 'submit', 'process_account_file')")"
check "distribute() again: nothing left to do" "nothing" \
    "$(q "$c" postgres -c "SELECT coalesce(string_agg(object || ': ' || action, '|'), 'nothing')
        FROM ptimport.distribute() WHERE action NOT LIKE 'already %' AND action NOT LIKE '%: 0 %'")"

# Accounts by the worker that holds them.
node_of() {    # node_of ACCOUNT: the port of the node holding the account
    q "$c" postgres -c "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
        WHERE p.shardid = get_shard_id_for_distribution_column('ptimport.account', $1::bigint)"
}
group_of() {   # group_of PORT: the Citus group of the node
    q "$c" postgres -c "SELECT groupid FROM pg_dist_node WHERE nodeport = $1"
}
account_on() { # account_on PORT [SKIP]: the first account from 101 held by that node
    local a
    for a in $(seq 101 200); do
        [ "$a" = "${2:-}" ] && continue
        [ "$(node_of "$a")" = "$1" ] && { echo "$a"; return; }
    done
}
A=$(account_on "$port_w1")
B=$(account_on "$port_w2")
C=$(account_on "$port_w2" "$B")
D=$(account_on "$port_w1" "$A")
g1=$(group_of "$port_w1")
g2=$(group_of "$port_w2")
echo "accounts $A and $D on worker 1 (group $g1), $B and $C on worker 2 (group $g2)"

# A plain single-node database beside it: Citus is not installed there.
q "$c" postgres -c "CREATE DATABASE single"
q "$c" single -c "CREATE EXTENSION ptimport"
q "$c" postgres -c "CREATE ROLE ptimport_worker LOGIN"
for db in postgres single; do q "$c" "$db" -c "SELECT ptimport.grant_worker('ptimport_worker')" >/dev/null; done

# ---------------------------------------------------------------------------
echo "== the same imports and inbox on Citus and on the single node"
# last_import ACCOUNT: SQL for the run_id of the account's latest import.
last_import() {
    echo "(SELECT run_id FROM ptimport.import_run WHERE account_id = $1 AND kind = 'import'
           AND NOT dry_run ORDER BY started_at DESC LIMIT 1)"
}
# run_sequence DATABASE: imports, re-import, update, dry run, an update
# undone (dry, then for real), inbox.
# The inbox is drained by the worker role of the README.
run_sequence() {
    local db=$1
    { q "$c" "$db" -c "$(imp "$A" f1.csv)" -c "$(imp "$A" f1.csv)" -c "$(imp "$A" f3.csv)" \
        -c "$(imp "$A" f4.csv 'dry_run => true')" \
        -c "$(imp "$B" f1.csv)" -c "$(imp "$B" f3.csv)" \
        -c "SELECT count(*) FROM ptimport.revert_run($(last_import "$B"), true, $B)" \
        -c "SELECT count(*) FROM ptimport.revert_run($(last_import "$B"), false, $B)" \
        -c "$(sub "$C" f1.csv)" -c "$(sub "$D" empty.csv)" -c "$(sub "$C" f3.csv)" &&
      q "$c" "$db" -U ptimport_worker -c "CALL ptimport.drain_inbox()" &&
      q "$c" "$db" -c "$(sub "$A" f4.csv)" &&
      q "$c" "$db" -U ptimport_worker -c "SELECT ptimport.process_inbox()"; } >"$dir/$db.sequence.out" 2>&1 ||
        { cat "$dir/$db.sequence.out"; check "the import sequence in database $db" ok failed; }
}
run_sequence postgres
run_sequence single

# What the tables hold, with ids and times replaced by the order of runs.
contents() {
    q "$1" "$2" <<'SQL'
SET client_min_messages = error;
CREATE TEMP VIEW run_no AS
SELECT account_id, run_id, row_number() OVER (PARTITION BY account_id ORDER BY started_at) AS n
FROM ptimport.import_run;
SELECT 'client', c.account_id, c.internal_id, c.first_name, c.last_name, c.birth_year, c.gender,
       c.email, c.mobile, c.diagnosis_code, g.name
FROM ptimport.client c LEFT JOIN ptimport.client_group g USING (account_id, group_id) ORDER BY 2, 3;
SELECT 'group', account_id, name FROM ptimport.client_group ORDER BY 2, 3;
SELECT 'run', r.account_id, n.n, r.source_name, r.dry_run, r.rows_total, r.rows_inserted, r.rows_updated,
       r.rows_unchanged, r.rows_failed, r.rows_warned, r.groups_created, r.mode, r.kind, r.run_by,
       r.encoding, r.delimiter
FROM ptimport.import_run r JOIN run_no n USING (account_id, run_id) ORDER BY 2, 3;
SELECT 'issue', i.account_id, n.n, i.line_no, i.internal_id, i.severity, i.field, i.code, i.message, i.raw_line
FROM ptimport.import_issue i JOIN run_no n USING (account_id, run_id) ORDER BY 2, 3, 4, 6, 7;
SELECT 'row', k.account_id, n.n, k.line_no, k.kind, k.internal_id, k.raw
FROM ptimport.import_row k JOIN run_no n USING (account_id, run_id) ORDER BY 2, 3, 4;
-- (the arrays' order follows the plan: the pairs are compared sorted)
SELECT 'undo', u.account_id, n.n,
       (SELECT string_agg(i || ':' || l, ',' ORDER BY i) FROM unnest(u.inserted_internal_ids, u.inserted_lines) AS x(i, l)),
       (SELECT string_agg(l || ':' || b::text || '>' || a::text, ',' ORDER BY l)
        FROM unnest(u.updated_lines, u.before, u.after) AS y(l, b, a)),
       cardinality(u.updated_ids), cardinality(u.created_group_ids), u.written_xmin IS NULL
FROM ptimport.run_undo u JOIN run_no n USING (account_id, run_id) ORDER BY 2, 3;
SELECT 'inbox', i.account_id, i.source_name, i.state, i.size_bytes, n.n, i.error, i.error_sqlstate,
       i.content IS NULL
FROM ptimport.inbox i LEFT JOIN run_no n USING (account_id, run_id) ORDER BY 2, i.submitted_at;
SQL
}
contents "$c" postgres >"$dir/citus.contents" ||
    check "the tables read on Citus" ok "failed: $(tail -n 3 "$dir/citus.contents")"
contents "$c" single >"$dir/single.contents" ||
    check "the tables read on the single node" ok "failed: $(tail -n 3 "$dir/single.contents")"
# failed_rows() of each account's first run, called on its own (on Citus
# delegated to the account's worker).
for db in postgres single; do
    for a in "$A" "$B" "$C"; do
        r=$(q "$c" "$db" -c "SELECT run_id FROM ptimport.import_run WHERE account_id = $a ORDER BY started_at LIMIT 1")
        [ -n "$r" ] || check "account $a has a run in $db" ok "no run" >&2
        echo "failed_rows|$a|$(q "$c" "$db" -c "SELECT md5(ptimport.failed_rows($r, true, $a))")"
    done >>"$dir/$([ "$db" = postgres ] && echo citus || echo single).contents"
done
check "the same clients, groups, runs, issues, kept rows, undo data, inbox and failed rows as the single node" \
    "$(wc -l <"$dir/single.contents") lines, no difference" \
    "$(wc -l <"$dir/citus.contents") lines, $(diff "$dir/single.contents" "$dir/citus.contents" >"$dir/diff" &&
       echo no difference || { echo "differences:"; cat "$dir/diff"; })"

# The runs of account A, in order: total, inserted, updated, unchanged,
# failed, warned, groups created, dry run.
check "account $A: import, unchanged re-import, update, dry run, queued file" \
    "5 4 0 0 1 1 2 f|5 0 0 4 1 1 0 f|5 1 2 2 0 0 1 f|2 1 1 0 0 0 1 t|2 1 1 0 0 0 1 f" \
    "$(q "$c" postgres -c "SELECT string_agg(concat_ws(' ', rows_total, rows_inserted, rows_updated, rows_unchanged,
        rows_failed, rows_warned, groups_created, CASE WHEN dry_run THEN 't' ELSE 'f' END), '|' ORDER BY started_at)
        FROM ptimport.import_run WHERE account_id = $A")"
check "groups matched case-insensitively, spelled as first seen" "Knee Rehab|Seniors|Sports|VIP" \
    "$(q "$c" postgres -c "SELECT string_agg(name, '|' ORDER BY name) FROM ptimport.client_group WHERE account_id = $A")"
check "clients of account $A in their groups" \
    "P001 1982 VIP|P002 1975 VIP|P004 1985 Knee Rehab|P005 1970 Knee Rehab|P006 $((year - 20)) Sports|P007 1960 Seniors" \
    "$(q "$c" postgres -c "SELECT string_agg(concat_ws(' ', c.internal_id, c.birth_year, g.name), '|' ORDER BY c.internal_id)
        FROM ptimport.client c JOIN ptimport.client_group g USING (account_id, group_id) WHERE c.account_id = $A")"
check "the issue log of account $A's first run" "3 gender invalid_gender error|4 email invalid_email warning" \
    "$(q "$c" postgres -c "SELECT string_agg(concat_ws(' ', line_no, field, code, severity), '|' ORDER BY line_no)
        FROM ptimport.import_issue WHERE account_id = $A
          AND run_id = (SELECT min(run_id) FROM ptimport.import_run WHERE account_id = $A)")"
check "the inbox: $C's two files done in order, $D's empty file failed, $A's done by process_inbox" \
    "$(printf '%s\n' "$A f4.csv done" "$C f1.csv done" "$C f3.csv done" \
                     "$D empty.csv failed 22023 file contains no rows" | sort -s -n -k1,1 | paste -sd'|')" \
    "$(q "$c" postgres -c "SELECT string_agg(concat_ws(' ', account_id, source_name, state, error_sqlstate, error), '|'
        ORDER BY account_id, file_id) FROM ptimport.inbox")"
check "the inbox's runs logged as run by the worker role" "ptimport_worker" \
    "$(q "$c" postgres -c "SELECT string_agg(DISTINCT r.run_by, ' ') FROM ptimport.inbox i
        JOIN ptimport.import_run r ON r.account_id = i.account_id AND r.run_id = i.run_id")"
check "imports ran on the node of their account (run_ids from its range)" \
    "$(printf '%s\n' "$A:$g1" "$B:$g2" "$C:$g2" | sort | paste -sd' ')" \
    "$(q "$c" postgres -c "SELECT string_agg(DISTINCT account_id || ':' || (run_id >> 48), ' '
                                         ORDER BY account_id || ':' || (run_id >> 48))
        FROM ptimport.import_run WHERE account_id IN ($A, $B, $C)")"

# ---------------------------------------------------------------------------
echo "== the inbox meets a worker error"
# Worker 2 refuses writes for a while: its account's file stays queued (not
# failed), the call ends with the error, and the other file is imported.
q "$c" postgres -c "$(sub "$B" f4.csv)" -c "$(sub "$D" f4.csv)" >/dev/null
q "$port_w2" postgres -c "ALTER SYSTEM SET default_transaction_read_only = on" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
check "drain_inbox ends with the worker's error (read-only transaction)" 25006 \
    "$(sqlstate "$c" postgres postgres "CALL ptimport.drain_inbox()")"
check "the file on the read-only worker stays queued, the other is done" \
    "$(printf '%s\n' "$B queued" "$D done" | sort -n | paste -sd'|')" \
    "$(q "$c" postgres -c "SELECT string_agg(concat_ws(' ', account_id, state, error), '|' ORDER BY account_id)
        FROM ptimport.inbox WHERE source_name = 'f4.csv' AND account_id IN ($B, $D)")"
q "$port_w2" postgres -c "ALTER SYSTEM RESET default_transaction_read_only" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
q "$c" postgres -c "CALL ptimport.drain_inbox()" 2>"$dir/err" || cat "$dir/err"
check "imported by the next call" "$B done" \
    "$(q "$c" postgres -c "SELECT concat_ws(' ', account_id, state) FROM ptimport.inbox
        WHERE source_name = 'f4.csv' AND account_id = $B")"

# ---------------------------------------------------------------------------
echo "== tenancy"
q "$c" postgres -c "CREATE ROLE practice_app LOGIN" \
    -c "SELECT ptimport.grant_app('practice_app')" -c "SELECT ptimport.grant_account('practice_app', $A)" >/dev/null
n_a=$(q "$c" postgres -c "SELECT count(*) FROM ptimport.client WHERE account_id = $A")
check "the application imports into its account (no problem rows)" "0" \
    "$(psql -X -qAt -p "$c" -d postgres -U practice_app -c "$(imp "$A" f4.csv)")"
check "... and not into another's" 42501 "$(sqlstate "$c" postgres practice_app "$(imp "$B" f4.csv)")"
check "... nor queue a file for another" 42501 "$(sqlstate "$c" postgres practice_app "$(sub "$B" f4.csv)")"
for n in coord w1 w2; do
    p="port_$n"
    check "$n: the application reads its account's clients through the view" "$n_a 1" \
        "$(psql -X -qAt -p "${!p}" -d postgres -U practice_app -c "SET ptimport.account_id = $A" \
            -c "SELECT count(*), count(DISTINCT account_id) FROM ptimport.account_clients" | tr '|' ' ')"
    check "$n: ... its runs and inbox" "t" \
        "$(psql -X -qAt -p "${!p}" -d postgres -U practice_app -c "SET ptimport.account_id = $A" \
            -c "SELECT (SELECT count(*) FROM ptimport.account_runs) > 0
                       AND (SELECT count(*) FROM ptimport.inbox_status) > 0")"
    check "$n: acting for another account is refused" 42501 \
        "$(sqlstate "${!p}" postgres practice_app "SET ptimport.account_id = $B; SELECT count(*) FROM ptimport.account_clients")"
    check "$n: the tables are closed to it" 42501 \
        "$(sqlstate "${!p}" postgres practice_app "SELECT count(*) FROM ptimport.client")"
    check "$n: ... and so is the views' function with another account" 42501 \
        "$(sqlstate "${!p}" postgres practice_app "SET ptimport.account_id = $B; SELECT count(*) FROM ptimport.account_clients_rows()")"
done
check "the application erases a client of its account (on the account's worker)" "0 erase $g1" \
    "$(psql -X -qAt -v ON_ERROR_STOP=1 -p "$c" -d postgres -U practice_app \
        -c "SELECT count(*) FROM ptimport.erase_client($A, 'P007')" >/dev/null &&
       q "$c" postgres -c "SELECT (SELECT count(*) FROM ptimport.client WHERE account_id = $A AND internal_id = 'P007'),
        kind, run_id >> 48 FROM ptimport.import_run WHERE account_id = $A ORDER BY started_at DESC LIMIT 1" | tr '|' ' ')"
check "... and not of another's" 42501 \
    "$(sqlstate "$c" postgres practice_app "SELECT count(*) FROM ptimport.erase_client($B, 'P007')")"
for n in w1 w2; do
    p="port_$n"
    shard=$(q "$c" postgres -c "SELECT shard_name('ptimport.client'::regclass, s.shardid) FROM pg_dist_shard s
        JOIN pg_dist_placement pl USING (shardid) JOIN pg_dist_node d USING (groupid)
        WHERE s.logicalrelid = 'ptimport.client'::regclass AND d.nodeport = ${!p} LIMIT 1")
    check "$n: a shard of the clients, read directly, is refused" 42501 \
        "$(sqlstate "${!p}" postgres practice_app "SELECT count(*) FROM $shard")"
done

# ---------------------------------------------------------------------------
echo "== two imports into one account through different nodes take turns"
# The first, through the coordinator, imports and keeps its transaction
# open; the second enters through worker 2 (account $A lives on worker 1)
# and must wait on the account's row lock until the first commits, then
# find its client and group: nothing inserted, no group created.
printf 'P100,Hal,Kok,1990,m,,,,Lockers\n' >"$files/lock1.csv"
printf 'P100,Hal,Kok,1990,m,,,,LOCKERS\n' >"$files/lock2.csv"
mkfifo "$dir/first.in"
psql -X -qAt -v ON_ERROR_STOP=1 -p "$c" -d postgres <"$dir/first.in" >"$dir/first.out" 2>&1 &
first=$!
exec 7>"$dir/first.in"
echo "BEGIN;" >&7
imp "$A" lock1.csv >&7
echo ";" >&7
echo "\\echo first-imported" >&7
for _ in $(seq 1 100); do grep -q first-imported "$dir/first.out" && break; sleep 0.1; done
q "$port_w2" postgres -c "$(imp "$A" lock2.csv)" >"$dir/second.out" 2>&1 &
second=$!
waiting=0
for _ in $(seq 1 200); do
    waiting=$(q "$(node_of "$A")" postgres -c "SELECT count(*) > 0 FROM pg_stat_activity
        WHERE wait_event_type = 'Lock'")
    [ "$waiting" = t ] && break
    sleep 0.1
done
check "the second import waits for the account's lock on its node" "t running" \
    "$waiting $(kill -0 $second 2>/dev/null && echo running || echo finished)"
echo "COMMIT;" >&7
exec 7>&-
wait $first
wait $second
check "the first committed, then the second found its client and group" "0 0 1 0" \
    "$(q "$c" postgres -c "SELECT concat_ws(' ', rows_inserted, rows_updated, rows_unchanged, groups_created)
        FROM ptimport.import_run WHERE account_id = $A AND source_name IN ('lock1.csv', 'lock2.csv')
        ORDER BY finished_at DESC LIMIT 1")"
check "one client P100, one group Lockers" "1 1" \
    "$(q "$c" postgres -c "SELECT (SELECT count(*) FROM ptimport.client WHERE account_id = $A AND internal_id = 'P100'),
        (SELECT count(*) FROM ptimport.client_group WHERE account_id = $A AND name = 'lockers')" | tr '|' ' ')"

# ---------------------------------------------------------------------------
echo "== a worker added later"
start_node w3
q "$port_w3" postgres -c "CREATE EXTENSION citus"
q "$c" postgres -c "SELECT citus_add_node('127.0.0.1', $port_w3)" >/dev/null
g3=$(group_of "$port_w3")
check "the new worker got ptimport and its own range of ids before distribute()" "1.1 t" \
    "$(q "$port_w3" postgres -c "SELECT extversion FROM pg_extension WHERE extname = 'ptimport'" \
        -c "SELECT bool_and(last_value >= $g3::bigint << 48) FROM pg_sequences WHERE schemaname = 'ptimport'" | xargs)"
q "$c" postgres -c "SELECT * FROM ptimport.distribute()" >"$dir/distribute2.out" 2>"$dir/err" ||
    { cat "$dir/err"; check "distribute() after adding a node" ok failed; }
check "distribute() wrapped the new worker's views" "views: 5 wrapped" \
    "$(sed -n "s/^node 127.0.0.1:$port_w3|\(views.*\)/\1/p" "$dir/distribute2.out")"
check "w3: the application reads its account there" "$n_a" \
    "$(psql -X -qAt -p "$port_w3" -d postgres -U practice_app -c "SET ptimport.account_id = $A" \
        -c "SELECT count(*) FROM ptimport.account_clients")"
# Account $B's shards move to the new worker (the reference table first, as
# citus_rebalance_start() would), by logical replication, Citus's default;
# its next import runs there.
q "$c" postgres -c "SELECT replicate_reference_tables()" -c "SELECT citus_move_shard_placement(get_shard_id_for_distribution_column('ptimport.account', $B::bigint),
        '127.0.0.1', $port_w2, '127.0.0.1', $port_w3)" >/dev/null 2>"$dir/err" ||
    { cat "$dir/err"; check "account $B's shards moved to the new worker" ok failed; }
check "account $B lives on the new worker" "$port_w3" "$(node_of "$B")"
q "$c" postgres -c "$(imp "$B" f4.csv)" >/dev/null 2>&1
check "its import ran there, with an id from the new worker's range" "$g3 0 0 2" \
    "$(q "$c" postgres -c "SELECT concat_ws(' ', run_id >> 48, rows_inserted, rows_updated, rows_unchanged)
        FROM ptimport.import_run WHERE account_id = $B ORDER BY finished_at DESC LIMIT 1")"

# ---------------------------------------------------------------------------
echo "== ids unique across nodes"
check "ids of every table unique across the cluster" "t t t t" \
    "$(q "$c" postgres -c "SELECT count(*) = count(DISTINCT client_id) FROM ptimport.client" \
        -c "SELECT count(*) = count(DISTINCT group_id) FROM ptimport.client_group" \
        -c "SELECT count(*) = count(DISTINCT run_id) FROM ptimport.import_run" \
        -c "SELECT count(*) = count(DISTINCT file_id) FROM ptimport.inbox" | xargs)"
check "run_ids came from the coordinator's and each worker's range" "0 $g1 $g2 $g3" \
    "$(q "$c" postgres -c "SELECT string_agg(DISTINCT (run_id >> 48)::text, ' ' ORDER BY (run_id >> 48)::text)
        FROM ptimport.import_run")"

echo
echo "citus test: $((SECONDS - started)) s"
if [ ${#failures[@]} -gt 0 ]; then
    printf 'citus test FAILED: %s\n' "${failures[@]}"
    exit 1
fi
echo "citus test: all checks passed"
