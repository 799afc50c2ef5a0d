#!/bin/bash
# The performance benchmark: ptimport against COPY (into a table like
# ptimport.client, without and with its foreign key) and against a
# hand-written staging-table upsert, on the same generated files, in one
# throwaway PostgreSQL 15 cluster.  Prints medians in milliseconds, the
# ratios, the backend's peak memory and whether each performance target
# holds.
#
# Usage: test/bench/run.sh [--quick] [--no-build | --destdir DIR]
#                                                   (as root, or with sudo)
#   --quick        sizes 1,000 and 10,000 rows, 5 runs each (for development)
#   --no-build     use the installed extension as it is
#   --destdir DIR  build and install into DIR only (make install DESTDIR=DIR)
#                  and benchmark that build (extension_destdir): the system's
#                  installation is left alone
#   RUNS=15      runs per size up to 100,000 rows (median taken)
#   RUNS_1M=5    runs for 1,000,000 rows
#   SIZES="1000 10000 100000 1000000"
set -euo pipefail
cd "$(dirname "$0")/../.."

quick=no
build=yes
inside=no
destdir=
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=yes ;;
        --no-build) build=no ;;
        --destdir) destdir=$(realpath -m "${2:?--destdir needs a directory}"); shift ;;
        --inside) inside=yes ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$inside" = no ]; then
    if [ "$quick" = yes ]; then
        sizes=${SIZES:-1000 10000}; runs=${RUNS:-5}
    else
        sizes=${SIZES:-1000 10000 100000 1000000}; runs=${RUNS:-15}
    fi
    runs_1m=${RUNS_1M:-5}
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    destdir_opt=()
    if [ -n "$destdir" ]; then
        test/install-deps.sh
        make -s
        make -s install DESTDIR="$destdir" >/dev/null
        chmod -R a+rX "$destdir"
        destdir_opt=(-o "extension_destdir=$destdir")
    elif [ "$build" = yes ]; then
        test/install-deps.sh
        make -s
        "${sudo_cmd[@]}" make -s install >/dev/null
    fi
    # One throwaway cluster (-t: in a temporary directory, so it does not
    # collide with a test run's cluster).  fsync stays off as pg_virtualenv
    # sets it; autovacuum is off so that no run meets a vacuum of another.
    exec "${sudo_cmd[@]}" env BENCH_SIZES="$sizes" BENCH_RUNS="$runs" BENCH_RUNS_1M="$runs_1m" \
        pg_virtualenv -t -v 15 -i "--encoding=UTF8 --locale=C.UTF-8" \
        -o shared_buffers=1GB -o max_wal_size=8GB -o checkpoint_timeout=1h \
        -o autovacuum=off "${destdir_opt[@]}" \
        "$(pwd)/test/bench/run.sh" --inside
fi

# ---- Inside the cluster (PGHOST, PGPORT, PGUSER set; we are root) ----

export PGDATABASE=postgres PGOPTIONS="-c client_min_messages=warning"
sizes=$BENCH_SIZES
runs=$BENCH_RUNS
runs_1m=$BENCH_RUNS_1M
psql=(psql -X -q -v ON_ERROR_STOP=1)
started=$(date +%s)

dir=$(mktemp -d -t ptbench.XXXXXX)
chmod 755 "$dir"
chown postgres:postgres "$dir"
trap 'rm -rf "$dir"' EXIT

echo "== Machine"
echo "cpus: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "ram: $(awk '/^MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

"${psql[@]}" <<SQL
CREATE EXTENSION ptimport;
CREATE SCHEMA bench;
\i test/bench/setup.sql
\i test/bench/staging_upsert.sql
CREATE TABLE bench.memory (size int, op text, file_bytes bigint, base_kb bigint,
                           peak_anon_kb bigint, hwm_kb bigint);
SELECT 'server: ' || version();
SQL

echo "== Generating files in $dir"
for n in $sizes 1000; do
    [ -f "$dir/clients_$n.csv" ] && continue
    "${psql[@]}" -c "SELECT bench.write_file('$dir/clients_$n.csv', $n, false),
                            bench.write_file('$dir/clients_${n}_changed.csv', $n, true)" \
                 -c "SELECT bench.write_fk_file('$dir/clients_$n.csv', '$dir/clients_${n}_fk.csv')" >/dev/null
    echo "$n rows: $(stat -c %s "$dir/clients_$n.csv") bytes"
done

# Peak memory of one import in a fresh backend: a poller samples the
# backend's /proc/<pid>/status every millisecond and keeps the largest
# RssAnon (private memory: palloc, the file, executor state; shared buffers
# are not counted) and the last VmHWM (peak RSS including shared buffers).
measure_memory() {
    local n=$1 op=$2 file=$3 pidfile="$dir/backend.pid" result
    rm -f "$pidfile"
    perl -e '
        my ($pidfile) = @ARGV;
        my ($pid, $base, $peak, $hwm) = (0, 0, 0, 0);
        for (1 .. 60000) {
            if (open(my $f, "<", $pidfile)) { $pid = <$f> // ""; chomp $pid; last if $pid =~ /^\d+$/; }
            select(undef, undef, undef, 0.001);
        }
        die "no backend pid\n" unless $pid =~ /^\d+$/;
        while (open(my $f, "<", "/proc/$pid/status")) {
            while (<$f>) {
                if (/^RssAnon:\s+(\d+)/) { $base ||= $1; $peak = $1 if $1 > $peak; }
                elsif (/^VmHWM:\s+(\d+)/) { $hwm = $1; }
            }
            close $f;
            select(undef, undef, undef, 0.001);
        }
        print "$base $peak $hwm\n";' "$pidfile" > "$dir/memory.out" &
    local poller=$!
    "${psql[@]}" -At <<SQL >/dev/null
SET client_min_messages = warning;
SET ptimport.max_rows = $((n > 1000 ? n : 1000));
SET ptimport.max_bytes = 1048574;
\o $pidfile
SELECT pg_backend_pid();
\o
SELECT pg_sleep(0.2);
SELECT count(*) FROM ptimport.pt_import_clients(pg_read_binary_file('$file', 0, (pg_stat_file('$file')).size), 1);
SQL
    wait $poller
    read -r base peak hwm < "$dir/memory.out"
    "${psql[@]}" -c "INSERT INTO bench.memory VALUES ($n, '$op', $(stat -c %s "$file"), $base, $peak, $hwm)"
}

for n in $sizes; do
    r=$runs
    [ "$n" -ge 1000000 ] && r=$runs_1m
    echo "== $n rows: $r runs (+1 warm-up) $(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
    "${psql[@]}" -c "CALL bench.run_main($n, $r, '$dir')"
    "${psql[@]}" -c "CALL bench.reset_clients()"
    measure_memory "$n" insert "$dir/clients_$n.csv"
    measure_memory "$n" update "$dir/clients_${n}_changed.csv"
    "${psql[@]}" -c "CALL bench.reset_clients()"
done

echo "== 1000 rows into a new account while 1,000,000 clients of other accounts are stored $(date +%T)"
"${psql[@]}" -c "CALL bench.fill_other_accounts()" -c "VACUUM ANALYZE" \
    -c "CALL bench.run_big($runs, '$dir')"
"${psql[@]}" -c "CALL bench.reset_clients()"

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); took $(( ($(date +%s) - started) / 60 )) min"
echo
"${psql[@]}" -f test/bench/report.sql
