#!/bin/bash
# Runs every ptimport test on this machine, installing what it needs first:
#   - the pg_regress suite (sql/, expected/) and the isolation specs
#     (test/isolation/), each against a throwaway server (test/with-server.sh);
#   - the TAP tests (test/t/*.pl) through PGXS's installcheck: cancel, crash,
#     memory, upgrade from 1.0, dump and restore, streaming replica,
#     unsupported setups;
#   - the pg_cron end-to-end test, the Citus test and a bounded fuzz run.
# Each pg_regress test, isolation spec, TAP file and script counts as one
# test.  Prints "N passed, N failed" last; exits non-zero on any failure.
#
# Usage: test/run-tests.sh            (as root, or a user with sudo)
#   PG_CONFIG     the PostgreSQL to build against, install into and test
#                 (default: the system's PostgreSQL 15)
#   PROFILE       extra compiler flags (.ci/run: warnings as errors, assertions)
#   FUZZ_SECONDS  bounds the fuzz run (default 60)
#   CITUS_TARBALL the Citus source to build if Citus is not installed
#                 (default: shared/vendor/citus-13.0.5.tar.gz in this
#                 repository's parent or grandparent directory, else the
#                 first one found on the machine, 5 levels deep at most)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
# The Citus source the Citus test builds when Citus is not installed: the
# shared vendor directory beside this repository or above it, else the
# first shared/vendor found on this machine (the test runs in a copy).
if [ -z "${CITUS_TARBALL:-}" ]; then
    for d in "$(dirname "$root")" "$(dirname "$(dirname "$root")")"; do
        if [ -f "$d/shared/vendor/citus-13.0.5.tar.gz" ]; then
            CITUS_TARBALL=$d/shared/vendor/citus-13.0.5.tar.gz
            break
        fi
    done
fi
if [ -z "${CITUS_TARBALL:-}" ]; then
    CITUS_TARBALL=$(find / -maxdepth 5 \( -path /proc -o -path /sys -o -path /dev -o -path /usr \
                        -o -path /run \) -prune -o -path '*/shared/vendor/citus-13.0.5.tar.gz' \
                        -print -quit 2>/dev/null)
fi
export CITUS_TARBALL=${CITUS_TARBALL:-$(dirname "$root")/shared/vendor/citus-13.0.5.tar.gz}

test/install-deps.sh || { echo "installing packages failed"; exit 1; }

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)

make -s clean >/dev/null 2>&1
make -s PG_CONFIG="$PG_CONFIG" PROFILE="${PROFILE:-}" || { echo "build failed"; exit 1; }
"${sudo_cmd[@]}" make -s PG_CONFIG="$PG_CONFIG" install >/dev/null || { echo "install failed"; exit 1; }

# initdb refuses root: as root, the suites run as postgres, in a copy of
# the tree that postgres can write (results, diffs, tmp_check).
work=$(mktemp -d "${TMPDIR:-/tmp}/ptimport-tests.XXXXXX")
cp -a "$root/." "$work/"
as_tester=()
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$work"
    as_tester=(runuser -u postgres -- env PATH="$PATH" PG_CONFIG="$PG_CONFIG")
fi

passed=0
failed=0
failures=()
keep_work=false

# record NAME OK|FAIL
record() {
    if [ "$2" = OK ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$1")
        keep_work=true
    fi
}

# Counts pg_regress's per-test lines ("test ... ok" / "... FAILED").
count_regress() {
    local log=$1 name line
    while IFS= read -r line; do
        name=$(echo "$line" | sed -E 's/^(test|ok [0-9]+ -|not ok [0-9]+ -)? *//; s/ +\.\.\. .*//; s/^ +//')
        if echo "$line" | grep -q '\.\.\. ok'; then
            record "$name" OK
        else
            record "$name" FAIL
        fi
    done < <(grep -E '\.\.\. (ok|FAILED|failed)' "$log")
}

# installcheck [--server] MAKE_ARGUMENTS...
#   Runs one part of "make installcheck" in the copy (the arguments empty the
#   other parts' lists), with --server against a throwaway server, and
#   prints its output; $log gets it too.
installcheck() {
    local server=()
    if [ "$1" = --server ]; then
        server=(test/with-server.sh)
        shift
    fi
    (cd "$work" && "${as_tester[@]}" "${server[@]}" make PG_CONFIG="$PG_CONFIG" installcheck "$@") 2>&1 |
        tee "$log"
}

# pg_regress_suite NAME DIFFS MAKE_ARGUMENTS...
#   Runs a pg_regress suite (regression or isolation) against a throwaway
#   server, records each of its tests, and shows DIFFS (relative to the
#   copy) when one failed.  A suite that ran no test fails.
pg_regress_suite() {
    local name=$1 diffs=$2
    shift 2
    echo "== $name"
    installcheck --server "$@"
    count_regress "$log"
    grep -q '\.\.\. FAILED' "$log" && [ -f "$work/$diffs" ] &&
        { echo "--- $diffs"; cat "$work/$diffs"; }
    grep -q -E '\.\.\. (ok|FAILED)' "$log" || record "$name (did not run)" FAIL
}

log=$(mktemp)
pg_regress_suite "pg_regress suite" regression.diffs ISOLATION= TAP_TESTS=
pg_regress_suite "isolation specs" output_iso/regression.diffs REGRESS= TAP_TESTS=

echo "== TAP tests"
start=$SECONDS
installcheck REGRESS= ISOLATION=
for t in "$work"/test/t/*.pl; do
    name=test/t/$(basename "$t")
    if grep -q -E "^(\[[0-9:]+\] )?${name//./\\.} \.+ ok" "$log"; then
        record "$name" OK
    else
        record "$name" FAIL
    fi
done
echo "(the TAP tests took $((SECONDS - start)) s)"

# Stages that are scripts of their own.  Each must exist and pass: a stage
# that cannot run is a failure, not a skip.
stages=(
    test/cron/run.sh
    test/citus/run.sh
    test/fuzz/run.sh
)
for stage in "${stages[@]}"; do
    echo "== $stage"
    start=$SECONDS
    if [ ! -x "$work/$stage" ]; then
        echo "$stage is missing"
        record "$stage" FAIL
        continue
    fi
    # The fuzzer runs as the caller (it builds with clang, needs no server);
    # so does the Citus test, which may build and install Citus first and
    # runs its servers as postgres itself.
    runner=("${as_tester[@]}")
    [ "$stage" = test/fuzz/run.sh ] && runner=()
    [ "$stage" = test/citus/run.sh ] && runner=()
    if (cd "$work" && "${runner[@]}" "$stage"); then
        record "$stage" OK
    else
        record "$stage" FAIL
    fi
    echo "($stage took $((SECONDS - start)) s)"
done

rm -f "$log"
if $keep_work; then
    echo "the test tree, with results/, output_iso/ and tmp_check/log/, is kept in $work"
else
    rm -rf "$work"
fi
echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
