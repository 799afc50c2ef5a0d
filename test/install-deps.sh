#!/bin/bash
# Installs, from Debian's archive, everything ptimport needs to build, demo
# and test on Debian 12: PostgreSQL 15 with server headers (and PGXS's TAP
# test modules), libcsv, ICU, libidn2 and uchardet, pg_cron, IPC::Run for
# the TAP tests and clang for the fuzzer.
set -euo pipefail

packages=(
    build-essential
    postgresql-15
    postgresql-server-dev-15
    postgresql-common
    postgresql-15-cron
    libcsv-dev
    libicu-dev
    libidn2-dev
    libuchardet-dev
    pkg-config
    libipc-run-perl
    clang
    libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
