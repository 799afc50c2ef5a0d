# test/citus/cluster.sh: throwaway Citus clusters on local ports, for
# test/citus/run.sh and test/bench/citus.sh (sourced by both).
#
#   citus_require        Citus installed into PG_CONFIG's PostgreSQL, built
#                        from CITUS_TARBALL when it is not (its build
#                        dependencies installed with apt-get); fails when
#                        neither is there.  Also checks that ptimport is.
#   citus_begin          a temporary directory ($dir) for the servers' data,
#                        sockets and logs, removed with the servers on exit
#   start_node NAME      a server with Citus preloaded; sets port_NAME
#   cluster_db DB COORD WORKER...
#                        database DB on those nodes with Citus, the first the
#                        coordinator, the others its workers
#   q PORT DB ARGS...    psql, rows unaligned without headers, stops on error
#
# Servers run as the postgres user when the caller is root (initdb refuses
# root), listen on 127.0.0.1 with trust authentication, fsync off.

pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
[ -x "$pg_config" ] || pg_config=$(command -v pg_config)
bindir=$("$pg_config" --bindir)
export PATH="$bindir:$PATH"
nodes=()

# as_postgres COMMAND...: runs the command as postgres if we are root.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

citus_require() {
    local repo tarball libdir sharedir build start p missing build_deps sudo_cmd=()
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    tarball=${CITUS_TARBALL:-$(dirname "$repo")/shared/vendor/citus-13.0.5.tar.gz}
    libdir=$("$pg_config" --pkglibdir)
    sharedir=$("$pg_config" --sharedir)
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)

    if [ ! -f "$sharedir/extension/ptimport.control" ]; then
        echo "citus: ptimport is not installed in $sharedir (run make install first)" >&2
        return 1
    fi
    [ -f "$libdir/citus.so" ] && [ -f "$sharedir/extension/citus.control" ] && return 0
    if [ ! -f "$tarball" ]; then
        echo "citus: Citus is not installed in $libdir and its source is not at $tarball" >&2
        echo "citus: set CITUS_TARBALL to citus-13.0.5.tar.gz, or install Citus" >&2
        return 1
    fi
    echo "citus: building Citus from $tarball"
    build_deps=(liblz4-dev libzstd-dev libkrb5-dev libssl-dev libselinux1-dev libxslt1-dev
                libpam0g-dev libreadline-dev libcurl4-openssl-dev)
    missing=()
    for p in "${build_deps[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        "${sudo_cmd[@]}" apt-get update -qq || return 1
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null || return 1
    fi
    build=$(mktemp -d "${TMPDIR:-/tmp}/ptimport-citus-build.XXXXXX")
    start=$SECONDS
    (
        set -e
        tar xzf "$tarball" -C "$build"
        cd "$build"/citus-*
        # Without libcurl: a build with it reports usage statistics to
        # Citus's servers.
        ./configure PG_CONFIG="$pg_config" --without-libcurl >"$build/configure.log" 2>&1 ||
            { tail -n 30 "$build/configure.log"; exit 1; }
        make -j"$(nproc)" >"$build/make.log" 2>&1 || { tail -n 50 "$build/make.log"; exit 1; }
        "${sudo_cmd[@]}" make install >"$build/install.log" 2>&1 ||
            { tail -n 30 "$build/install.log"; exit 1; }
    ) || { rm -rf "$build"; echo "citus: building Citus failed" >&2; return 1; }
    rm -rf "$build"
    echo "citus: Citus built and installed in $((SECONDS - start)) s"
}

citus_begin() {
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ptimport-citus.XXXXXX")
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    export PGHOST=$dir PGUSER=postgres
    # the servers are stopped however the script ends (a signal too)
    trap citus_end EXIT
    trap 'exit 1' HUP INT TERM PIPE
}

# Stops the servers and removes the directory; with CITUS_SHOW_LOGS=1, first
# prints the end of each server's log.
citus_end() {
    local n
    for n in ${nodes[@]+"${nodes[@]}"}; do
        [ "${CITUS_SHOW_LOGS:-}" = 1 ] && { echo "--- $n's log, last lines"; tail -n 15 "$dir/$n.log"; }
        as_postgres "$bindir/pg_ctl" stop -D "$dir/$n" -m immediate -s >/dev/null 2>&1 || true
    done
    rm -rf "$dir"
}

# A port no server listens on.
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

# start_node NAME [SETTING...]: settings are lines for postgresql.conf.
start_node() {
    local name=$1 port s
    shift
    port=$(free_port)
    as_postgres "$bindir/initdb" -D "$dir/$name" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth=trust --no-sync >"$dir/$name.initdb.log" 2>&1 ||
        { cat "$dir/$name.initdb.log"; exit 1; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$dir'"
        echo "shared_preload_libraries = 'citus'"
        echo "max_prepared_transactions = 100"     # Citus commits across nodes in two phases
        echo "wal_level = logical"                 # Citus moves shards by logical replication
        echo "fsync = off"
        for s in "$@"; do echo "$s"; done
    } >>"$dir/$name/postgresql.conf"
    as_postgres "$bindir/pg_ctl" start -D "$dir/$name" -w -s -l "$dir/$name.log" ||
        { cat "$dir/$name.log"; exit 1; }
    nodes+=("$name")
    printf -v "port_$name" '%s' "$port"
}

q() {
    local port=$1 db=$2
    shift 2
    psql -X -qAt -v ON_ERROR_STOP=1 -p "$port" -d "$db" "$@"
}

# cluster_db DB COORD WORKER...: node names; DB postgres exists already.
cluster_db() {
    local db=$1 coord=$2 n p
    shift 2
    for n in "$coord" "$@"; do
        p="port_$n"
        [ "$db" = postgres ] || q "${!p}" postgres -c "CREATE DATABASE $db"
        q "${!p}" "$db" -c "CREATE EXTENSION citus"
    done
    p="port_$coord"
    q "${!p}" "$db" -c "SELECT citus_set_coordinator_host('127.0.0.1', ${!p})" >/dev/null
    for n in "$@"; do
        local w="port_$n"
        q "${!p}" "$db" -c "SELECT citus_add_node('127.0.0.1', ${!w})" >/dev/null
    done
}
