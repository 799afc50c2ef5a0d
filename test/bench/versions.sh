#!/bin/bash
# Compares this tree's ptimport with an earlier release on the same machine
# in the same run: a 1,000-row file (the benchmark's generator) imported
# into a new account (insert), again (unchanged), with changed values
# (update), and as a dry run, each ROUNDS x RUNS times, alternating the two
# builds round by round; prints the medians (ms) and this tree's time as a
# ratio of the release's.  For 1.1 it also times the import with encoding
# and delimiter given, which leaves out their detection.
#
# Usage: test/bench/versions.sh [BASE]    (as root, or with sudo)
#   BASE     the release to compare with, a commit of this repository built
#            from a git worktree (default: 1.0 as released, the commit
#            before the one that added ptimport--1.0--1.1.sql)
#   ROUNDS=3 RUNS=25
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

base=${1:-$(git log --diff-filter=A --format=%H -- ptimport--1.0--1.1.sql | tail -1)^}
rounds=${ROUNDS:-3}
runs=${RUNS:-25}
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)

git rev-parse --verify -q "$base^{commit}" >/dev/null ||
    { echo "versions: $base is not a commit of this repository (a shallow clone?)" >&2; exit 1; }

test/install-deps.sh
work=$(mktemp -d /tmp/ptversions.XXXXXX)
chmod 777 "$work"	# the server writes the generated files there
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/base" "$base"

# Each build is installed into a directory of its own and found there by
# the server through Debian's extension_destdir.
for build in base head; do
    src=$root
    [ $build = base ] && src=$work/base
    make -s -C "$src" clean >/dev/null 2>&1
    make -s -C "$src" >/dev/null
    make -s -C "$src" install DESTDIR="$work/$build" >/dev/null
    make -s -C "$src" clean >/dev/null 2>&1
done
chmod -R a+rX "$work"
echo "base: $base ($(git log -1 --format='%h %s' "$base" | cut -c1-60))"
echo "head: $(git log -1 --format='%h %s' | cut -c1-60)"

# One round of one build in a throwaway cluster: files made by the
# benchmark's generator, then RUNS imports of each kind, each in its own
# transaction; the times (ms) are appended to $work/times.
round() {
    local build=$1 round=$2
    "${sudo_cmd[@]}" pg_virtualenv -t -v 15 -i "--encoding=UTF8 --locale=C.UTF-8" \
        -o shared_buffers=256MB -o autovacuum=off -o "extension_destdir=$work/$build" \
        bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -At <<'SQL' | sed 's/^/$build|$round|/' >> '$work/times'
SET client_min_messages = warning;
CREATE EXTENSION ptimport;
CREATE SCHEMA bench;
\\i $root/test/bench/setup.sql
SELECT bench.write_file('$work/f.csv', 1000, false), bench.write_file('$work/g.csv', 1000, true) \\g /dev/null
CREATE TABLE times (op text, ms float8);
CREATE PROCEDURE timed(n int, given boolean) LANGUAGE plpgsql AS \$\$
DECLARE
	f bytea := pg_read_binary_file('$work/f.csv');
	g bytea := pg_read_binary_file('$work/g.csv');
	t0 timestamptz;
	i int;
BEGIN
	FOR i IN 1 .. n LOOP
		t0 := clock_timestamp();
		IF given THEN
			EXECUTE 'SELECT count(*) FROM ptimport.pt_import_clients(\$1, \$2, encoding => ''UTF8'', delimiter => '','')'
				USING f, 100000 + i;
			INSERT INTO times VALUES ('insert, encoding and delimiter given', 1000 * extract(epoch FROM clock_timestamp() - t0));
			COMMIT;
			CONTINUE;
		END IF;
		PERFORM count(*) FROM ptimport.pt_import_clients(f, i);
		INSERT INTO times VALUES ('insert', 1000 * extract(epoch FROM clock_timestamp() - t0));
		COMMIT;
		t0 := clock_timestamp();
		PERFORM count(*) FROM ptimport.pt_import_clients(f, i);
		INSERT INTO times VALUES ('unchanged', 1000 * extract(epoch FROM clock_timestamp() - t0));
		COMMIT;
		t0 := clock_timestamp();
		PERFORM count(*) FROM ptimport.pt_import_clients(g, i);
		INSERT INTO times VALUES ('update', 1000 * extract(epoch FROM clock_timestamp() - t0));
		COMMIT;
		t0 := clock_timestamp();
		PERFORM count(*) FROM ptimport.pt_import_clients(f, i, dry_run => true);
		INSERT INTO times VALUES ('dry run', 1000 * extract(epoch FROM clock_timestamp() - t0));
		COMMIT;
	END LOOP;
END \$\$;
CALL timed($runs, false);
SQL
if [ $build = head ]; then
    psql -X -q -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -c 'CALL timed($runs, true)'
    psql -X -q -At -c \"SELECT op, ms FROM times WHERE op LIKE '%given'\" | sed 's/^/$build|$round|/' >> '$work/times'
fi
psql -X -q -At -c \"SELECT op, ms FROM times WHERE op NOT LIKE '%given'\" | sed 's/^/$build|$round|/' >> '$work/times'
"
}

: > "$work/times"
for r in $(seq 1 "$rounds"); do
    echo "round $r of $rounds: $(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
    round base "$r"
    round head "$r"
done

# The medians of every run of every round, per build and operation.
"${sudo_cmd[@]}" pg_virtualenv -t -v 15 bash -c "
psql -X -q <<'SQL'
CREATE TEMP TABLE t (build text, round int, op text, ms float8);
\\copy t FROM '$work/times' WITH (DELIMITER '|')
SELECT op,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE build = 'base')::numeric, 2) AS base_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE build = 'head')::numeric, 2) AS head_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE build = 'head')
              / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE build = 'base'))::numeric, 2)
           AS head_per_base
FROM t GROUP BY op ORDER BY min(CASE op WHEN 'insert' THEN 1 WHEN 'unchanged' THEN 2
                                         WHEN 'update' THEN 3 WHEN 'dry run' THEN 4 ELSE 5 END);
SQL
"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
