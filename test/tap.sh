#!/bin/bash
# Runs the TAP tests in test/t (cancellation, crash safety, memory) with
# prove, against the installed PostgreSQL 15 and ptimport, and exits with
# prove's status.  initdb refuses to run as root, so as root the tests run as
# postgres from a copy of test/t in a temporary directory.
#
# Usage: test/tap.sh [001_cancel.pl ...]   (from any directory; default: all)
#   PG_CONFIG picks the PostgreSQL installation (default: version 15's).
#   PG_TEST_NOCLEAN=1 keeps the clusters and logs; they are kept anyway when
#   a test fails, and their place is printed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
[ -x "$pg_config" ] || pg_config=pg_config
pgbin=$("$pg_config" --bindir) || { echo "tap.sh: pg_config not found"; exit 1; }
pgxs=$(dirname "$("$pg_config" --pgxs)")/../..
perl_lib=$(cd "$pgxs/src/test/perl" 2>/dev/null && pwd) ||
	{ echo "tap.sh: PostgreSQL's TAP test modules are not installed"; exit 1; }
pg_regress=$(cd "$pgxs/src/test/regress" && pwd)/pg_regress

# The tests to run: the named ones, or every test/t/*.pl.
tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do tests+=("t/$(basename "$t")"); done
else
	for t in "$here"/t/*.pl; do tests+=("t/$(basename "$t")"); done
fi

workdir=$(mktemp -d /tmp/ptimport-tap.XXXXXX)
cp -r "$here/t" "$workdir/t"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres: "$workdir"
	run_as=(runuser -u postgres --)
fi

# The tests' shared module, PtImportTest.pm, is found in the copied t.
# PostgreSQL::Test::Utils puts tmp_check in TESTDIR and keeps everything
# when PG_TEST_NOCLEAN is defined at all, so that is passed only when set.
test_env=(PATH="$pgbin:$PATH"
	PERL5LIB="$workdir/t:$perl_lib${PERL5LIB:+:$PERL5LIB}"
	PG_REGRESS="$pg_regress" TESTDIR="$workdir")
[ -n "${PG_TEST_NOCLEAN:-}" ] && test_env+=(PG_TEST_NOCLEAN=1)

cd "$workdir" || exit 1
"${run_as[@]}" env "${test_env[@]}" prove --timer "${tests[@]}"
status=$?

if [ $status -ne 0 ] || [ -n "${PG_TEST_NOCLEAN:-}" ]; then
	echo "tap.sh: logs kept in $workdir/tmp_check/log"
else
	cd / && rm -rf "$workdir"
fi
exit $status
