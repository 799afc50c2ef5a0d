#!/bin/bash
# Runs a command against a throwaway PostgreSQL server of the installation
# that PG_CONFIG names (default: the system's PostgreSQL 15), so the tests
# use the ptimport installed there, even in a private copy of PostgreSQL
# (pg_virtualenv always runs the system's binaries).  The cluster is made
# with initdb (UTF-8, C.UTF-8) in a temporary directory, listens only on a
# Unix socket there, and is stopped and removed when the command ends.
# PGHOST, PGPORT, PGUSER, PGDATABASE, PGDATA, PGLOG (the server's log) and
# PGBINDIR are exported to the command, and the installation's bin
# directory is first in PATH.
#
# Usage: test/with-server.sh [-o 'name = value' ...] command [args...]
#   As root, the server and the command run as the postgres user (initdb
#   refuses root), so the command must be able to read what it needs.
#   The command's exit status is the script's.
set -euo pipefail

args=("$@")
settings=()
while getopts o: opt; do
	case $opt in
		o) settings+=("$OPTARG") ;;
		*) echo "usage: $0 [-o 'name = value' ...] command [args...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-o 'name = value' ...] command [args...]" >&2; exit 2; }

pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
[ -x "$pg_config" ] || pg_config=$(command -v pg_config)
bindir=$("$pg_config" --bindir)

# As root, re-run this script as postgres with the same arguments.
if [ "$(id -u)" -eq 0 ]; then
	exec runuser -u postgres -- env PATH="$PATH" PG_CONFIG="$pg_config" "$0" "${args[@]}"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/ptimport-server.XXXXXX")
export PGDATA=$dir/data PGHOST=$dir PGUSER=postgres PGDATABASE=postgres PGBINDIR=$bindir
export PGLOG=$dir/server.log
export PATH="$bindir:$PATH"
# A port no other server of this machine uses: the socket is private anyway.
export PGPORT=$((50000 + RANDOM % 10000))

stop() {
	"$bindir/pg_ctl" stop -D "$PGDATA" -m immediate -s >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap stop EXIT

"$bindir/initdb" -D "$PGDATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
	--auth=trust --no-sync >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
{
	echo "listen_addresses = ''"
	echo "unix_socket_directories = '$dir'"
	echo "port = $PGPORT"
	echo "fsync = off"
	for s in ${settings[@]+"${settings[@]}"}; do echo "$s"; done
} >>"$PGDATA/postgresql.conf"
"$bindir/pg_ctl" start -D "$PGDATA" -w -s -l "$PGLOG" ||
	{ cat "$PGLOG" >&2; exit 1; }

set +e
"$@"
status=$?
set -e
[ $status -ne 0 ] && { echo "--- the server's log, last lines"; tail -n 50 "$PGLOG"; } >&2
exit $status
