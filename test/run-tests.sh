#!/bin/bash
# Runs every ptimport test on this machine, installing what it needs first:
#   regression and isolation suites (pg_regress in a throwaway cluster),
#   TAP tests (crash and cancellation), the pg_cron end-to-end test, and a
#   bounded fuzz run.  Prints "N passed, N failed" last; exits non-zero on
#   any failure.
#
# Usage: test/run-tests.sh            (as root, or a user with sudo)
#   FUZZ_SECONDS=60 (default) bounds the fuzz run.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

test/install-deps.sh || { echo "installing packages failed"; exit 1; }

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)

make -s clean >/dev/null 2>&1
make -s PROFILE="${PROFILE:-}" || { echo "build failed"; exit 1; }
"${sudo_cmd[@]}" make -s install >/dev/null || { echo "install failed"; exit 1; }

passed=0
failed=0
failures=()

# record NAME OK|FAIL
record() {
    if [ "$2" = OK ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$1")
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

echo "== pg_regress and isolation suites"
log=$(mktemp)
pg_virtualenv -v 15 -i "--encoding=UTF8 --locale=C.UTF-8" \
    make -s installcheck 2>&1 | tee "$log"
count_regress "$log"
if grep -q -E 'FAILED|failed \(ignored\)|tests? failed' "$log" && [ -f regression.diffs ]; then
    echo "--- regression.diffs"; cat regression.diffs
fi
[ -f output_iso/regression.diffs ] && { echo "--- output_iso/regression.diffs"; cat output_iso/regression.diffs; }

for stage in test/tap.sh test/cron/run.sh test/fuzz/run.sh; do
    [ -x "$stage" ] || continue
    echo "== $stage"
    if "$stage"; then record "$stage" OK; else record "$stage" FAIL; fi
done

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
